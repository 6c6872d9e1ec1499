import { createInMemoryMaxLevelRepository, describeMaxLevelRepositoryConformance } from 'levelsync/testing';

const fromRows = (rows: readonly { specializationId: string; maxLevel: number | null }[]) =>
  createInMemoryMaxLevelRepository({ values: Object.fromEntries(rows.map((row) => [row.specializationId, row.maxLevel])) });

describeMaxLevelRepositoryConformance('in-memory', {
  setup: async (rows) => fromRows(rows),
  setupUnavailable: async () => {
    const repository = createInMemoryMaxLevelRepository({ name: 'memory' });
    // As a driver would report a refused connection, credentials included: the message must be redacted.
    repository.failWith(new Error('could not connect to postgres://levelsync:secret-password@127.0.0.1:1/levelsync'));
    return repository;
  },
});

describeMaxLevelRepositoryConformance('in-memory with a real-timer delay', {
  setup: async (rows) =>
    createInMemoryMaxLevelRepository({
      name: 'slow-memory',
      delayMs: 1,
      values: Object.fromEntries(rows.map((row) => [row.specializationId, row.maxLevel])),
    }),
  setupUnavailable: async () => {
    const repository = createInMemoryMaxLevelRepository({ name: 'slow-memory', delayMs: 1 });
    repository.failWith(new Error('password=secret-password rejected'));
    return repository;
  },
});
