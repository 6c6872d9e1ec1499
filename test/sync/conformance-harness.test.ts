// The options both conformance suites share: `setup`, `teardown`, `skip` by title, and for the
// store suite `concerns` and the deprecated `create`.
import { afterAll, describe, expect, it } from 'vitest';
import {
  createInMemoryMaxLevelRepository,
  createInMemorySyncStore,
  describeMaxLevelRepositoryConformance,
  describeSyncStoreConformance,
  type SyncStoreHarness,
  type SyncStoreSeed,
} from 'levelsync/testing';

const harness = async (seed: SyncStoreSeed): Promise<SyncStoreHarness> => {
  const store = createInMemorySyncStore(seed);
  return { store, snapshot: async () => store.snapshot(), setLevel: async (side, userId, id, level) => store.setLevel(side, userId, id, level) };
};

const calls = { setup: 0, teardown: 0, close: 0, create: 0 };

// Only the run-lock concern, two of its three tests skipped by title: one test sets up, and
// after it the harness's own `close` then the options' `teardown` run once.
describeSyncStoreConformance('in-memory, one run-lock test', {
  concerns: ['runLock'],
  skip: [
    'acquireRunLock() lets different shards run together but not a shard and a whole run',
    'acquireRunLock({ wait: true }) waits for the holder to release',
    // A title of a concern that does not run may be named too.
    'scanPairs() filters by user id',
  ],
  setup: async (seed) => {
    calls.setup++;
    return { ...(await harness(seed)), close: async () => void calls.close++ };
  },
  teardown: async () => void calls.teardown++,
});

// The options as they were before `create` was renamed `setup`.
describeSyncStoreConformance('in-memory, deprecated create', {
  concerns: ['runLock'],
  skip: ['acquireRunLock({ wait: true }) waits for the holder to release'],
  create: async (seed) => {
    calls.create++;
    return harness(seed);
  },
});

afterAll(() => {
  expect(calls).toEqual({ setup: 1, teardown: 1, close: 1, create: 2 });
});

describe('conformance suite options', () => {
  const setup = harness;

  it('a skip title the store suite does not have is a TypeError naming it', () => {
    expect(() => describeSyncStoreConformance('x', { setup, skip: ['no such test'] })).toThrow(TypeError);
    expect(() => describeSyncStoreConformance('x', { setup, skip: ['no such test'] })).toThrow(/"no such test"/);
  });

  it('an unknown concern or a missing setup is a TypeError', () => {
    expect(() => describeSyncStoreConformance('x', { setup, concerns: ['scanning' as 'reading'] })).toThrow(TypeError);
    expect(() => describeSyncStoreConformance('x', {} as Parameters<typeof describeSyncStoreConformance>[1])).toThrow(TypeError);
  });

  it('a skip title the max-level suite does not have is a TypeError', () => {
    const repository = async () => createInMemoryMaxLevelRepository();
    expect(() => describeMaxLevelRepositoryConformance('x', { setup: repository, skip: ['findAll() works'] })).toThrow(/"findAll\(\) works"/);
  });
});

// The max-level suite with a test skipped by title.
describeMaxLevelRepositoryConformance('in-memory, one test skipped', {
  setup: async (rows) => createInMemoryMaxLevelRepository({ values: Object.fromEntries(rows.map((row) => [row.specializationId, row.maxLevel])) }),
  skip: ['has a non-empty name'],
});
