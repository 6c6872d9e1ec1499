import type { Result } from 'neverthrow';
import { describe, expect } from 'vitest';
import type { RepositoryUnavailable } from '../errors.js';
import type { MaxLevelRecord, MaxLevelRepository } from '../max-level/max-level-repository.js';
import { checkSkipList, conformanceTest, declareConformanceTests, trackSubjects, type ConformanceOptions, type ConformanceTest } from './conformance-harness.js';

/**
 * What the conformance suite needs from an implementation: the shape every conformance suite
 * takes (`setup`, `teardown`, `skip`, see {@link ConformanceOptions}) plus a failing repository
 * and what the backing store can hold.
 */
export interface MaxLevelRepositoryConformanceOptions extends ConformanceOptions<readonly MaxLevelRecord[], MaxLevelRepository> {
  /**
   * Returns a repository holding exactly `rows` (and nothing else). Called once per test. Rows
   * may carry invalid maxima (0, null, -1) that the repository must store and return raw.
   */
  readonly setup: (rows: readonly MaxLevelRecord[]) => Promise<MaxLevelRepository>;
  /** Called after every test that called `setup` or `setupUnavailable`. */
  readonly teardown?: () => Promise<void>;
  /**
   * Returns a repository that cannot answer (connection refused, missing table…). Its failing
   * connection configuration SHOULD embed the password `secret-password` (for example
   * `postgres://levelsync:secret-password@127.0.0.1:1/levelsync`), so that the suite can check
   * that no error leaks it. Without it the unavailable-repository tests are skipped.
   */
  readonly setupUnavailable?: () => Promise<MaxLevelRepository>;
  /**
   * Whether the backing store can hold invalid maxima (0, NULL, -1). A table with
   * `CHECK (max_level >= 1) NOT NULL` cannot: set false and those rows are left out of the tests.
   * Default true.
   */
  readonly storesInvalidMaxima?: boolean;
}

/** The password `setupUnavailable` should embed in its failing connection configuration. */
export const CONFORMANCE_SECRET_PASSWORD = 'secret-password';

/**
 * The behaviour every {@link MaxLevelRepository} must show, as a vitest suite. Run it once per
 * implementation (in-memory, PostgreSQL, PGlite…); it assumes nothing about how rows are stored.
 *
 * ```ts
 * describeMaxLevelRepositoryConformance('postgres', {
 *   setup: async (rows) => { await resetTable(pool, rows); return createPgMaxLevelRepository(pool); },
 *   setupUnavailable: async () =>
 *     createPgMaxLevelRepository(new Pool({ connectionString: 'postgres://u:secret-password@127.0.0.1:1/db' })),
 *   teardown: async () => {},                             // optional, after every test
 *   skip: ['findMaxLevel() returns null for an unknown id'], // optional: leave a test out by its title
 * });
 * ```
 *
 * @throws TypeError when `skip` names a test the suite does not have.
 */
export function describeMaxLevelRepositoryConformance(name: string, options: MaxLevelRepositoryConformanceOptions): void {
  // `withRows` and `unavailable` are called by the tests at run time, after `describe` has made the tracker.
  let track: ReturnType<typeof trackSubjects> | undefined;
  const tests = maxLevelRepositoryTests(options, {
    withRows: (rows) => track!(() => options.setup(rows)),
    unavailable: () => track!(() => options.setupUnavailable!()),
  });
  const skip = checkSkipList('describeMaxLevelRepositoryConformance', options.skip, tests);
  describe(`MaxLevelRepository conformance: ${name}`, () => {
    track = trackSubjects(options.teardown);
    declareConformanceTests(tests, skip);
  });
}

/** The tests, in order; `withRows` and `unavailable` set up a repository for the running test. */
function maxLevelRepositoryTests(
  options: MaxLevelRepositoryConformanceOptions,
  { withRows, unavailable }: { withRows(rows: readonly MaxLevelRecord[]): Promise<MaxLevelRepository>; unavailable(): Promise<MaxLevelRepository> },
): ConformanceTest[] {
  const { setupUnavailable } = options;
  const invalidOk = options.storesInvalidMaxima !== false;
  const storable = (rows: readonly MaxLevelRecord[]) =>
    invalidOk ? rows : rows.filter((r) => typeof r.maxLevel === 'number' && Number.isInteger(r.maxLevel) && r.maxLevel >= 1);
  return [
    conformanceTest('has a non-empty name', async () => {
      const repository = await withRows([]);
      expect(typeof repository.name).toBe('string');
      expect(repository.name.length).toBeGreaterThan(0);
    }),

    conformanceTest('findMaxLevel() returns the stored record of a known id', async () => {
      const repository = await withRows([
        { specializationId: 'GANCUJU_PLAYER', maxLevel: 8 },
        { specializationId: 'INTERNSHIP', maxLevel: 3 },
      ]);
      expect((await repository.findMaxLevel('INTERNSHIP'))._unsafeUnwrap()).toEqual({ specializationId: 'INTERNSHIP', maxLevel: 3 });
      expect((await repository.findMaxLevel('GANCUJU_PLAYER'))._unsafeUnwrap()).toEqual({ specializationId: 'GANCUJU_PLAYER', maxLevel: 8 });
    }),

    conformanceTest('findMaxLevel() returns null for an unknown id', async () => {
      const repository = await withRows([{ specializationId: 'INTERNSHIP', maxLevel: 3 }]);
      const result = await repository.findMaxLevel('NOBODY_KNOWS');
      expect(result.isOk()).toBe(true);
      expect(result._unsafeUnwrap()).toBeNull();
    }),

    conformanceTest('findMaxLevel() returns null on an empty repository', async () => {
      const repository = await withRows([]);
      expect((await repository.findMaxLevel('INTERNSHIP'))._unsafeUnwrap()).toBeNull();
    }),

    conformanceTest(
      'findMaxLevel() returns stored invalid maxima (0, null, -1) raw, without filtering them',
      async () => {
        const repository = await withRows([
          { specializationId: 'ZERO_MAX', maxLevel: 0 },
          { specializationId: 'NULL_MAX', maxLevel: null },
          { specializationId: 'NEGATIVE_MAX', maxLevel: -1 },
        ]);
        expect((await repository.findMaxLevel('ZERO_MAX'))._unsafeUnwrap()).toEqual({ specializationId: 'ZERO_MAX', maxLevel: 0 });
        expect((await repository.findMaxLevel('NULL_MAX'))._unsafeUnwrap()).toEqual({ specializationId: 'NULL_MAX', maxLevel: null });
        expect((await repository.findMaxLevel('NEGATIVE_MAX'))._unsafeUnwrap()).toEqual({ specializationId: 'NEGATIVE_MAX', maxLevel: -1 });
      },
      { runIf: invalidOk },
    ),

    conformanceTest('findMaxLevel() compares ids exactly: a legacy id stored as its own row is found under that id only', async () => {
      const repository = await withRows([
        { specializationId: 'PLAYER', maxLevel: 8 },
        { specializationId: 'LFA_COACH', maxLevel: 7 },
      ]);
      expect((await repository.findMaxLevel('PLAYER'))._unsafeUnwrap()).toEqual({ specializationId: 'PLAYER', maxLevel: 8 });
      // Alias mapping is the resolver's job: the repository does not answer PLAYER's row for GANCUJU_PLAYER…
      expect((await repository.findMaxLevel('GANCUJU_PLAYER'))._unsafeUnwrap()).toBeNull();
      // …nor LFA_COACH's row for COACH.
      expect((await repository.findMaxLevel('COACH'))._unsafeUnwrap()).toBeNull();
    }),

    conformanceTest('findMaxLevel() keeps a legacy row and its canonical row apart', async () => {
      const repository = await withRows([
        { specializationId: 'PLAYER', maxLevel: 5 },
        { specializationId: 'GANCUJU_PLAYER', maxLevel: 8 },
      ]);
      expect((await repository.findMaxLevel('PLAYER'))._unsafeUnwrap()).toEqual({ specializationId: 'PLAYER', maxLevel: 5 });
      expect((await repository.findMaxLevel('GANCUJU_PLAYER'))._unsafeUnwrap()).toEqual({ specializationId: 'GANCUJU_PLAYER', maxLevel: 8 });
    }),

    conformanceTest('findAll() returns every row, invalid maxima included (when implemented)', async (context) => {
      const rows: MaxLevelRecord[] = [
        { specializationId: 'GANCUJU_PLAYER', maxLevel: 8 },
        { specializationId: 'INTERNSHIP', maxLevel: 3 },
        { specializationId: 'PLAYER', maxLevel: 8 },
        { specializationId: 'ZERO_MAX', maxLevel: 0 },
        { specializationId: 'NULL_MAX', maxLevel: null },
        { specializationId: 'NEGATIVE_MAX', maxLevel: -1 },
      ];
      const findAll = findAllOf(await withRows(storable(rows)), context);
      const all = (await findAll())._unsafeUnwrap();
      expect(sortById(all)).toEqual(sortById(storable(rows)));
    }),

    conformanceTest('findAll() returns exactly what findMaxLevel() returns for each row (when implemented)', async (context) => {
      const rows = storable([
        { specializationId: 'LFA_COACH', maxLevel: 8 },
        { specializationId: 'COACH', maxLevel: 6 },
        { specializationId: 'NULL_MAX', maxLevel: null },
      ]);
      const repository = await withRows(rows);
      const all = (await findAllOf(repository, context)())._unsafeUnwrap();
      expect(all).toHaveLength(rows.length);
      for (const row of all) {
        expect((await repository.findMaxLevel(row.specializationId))._unsafeUnwrap()).toEqual(row);
      }
    }),

    conformanceTest('findAll() returns an empty list for an empty repository (when implemented)', async (context) => {
      const findAll = findAllOf(await withRows([]), context);
      expect((await findAll())._unsafeUnwrap()).toEqual([]);
    }),

    conformanceTest(
      'findMaxLevel() on an unavailable repository returns err(RepositoryUnavailable) and does not throw',
      async () => {
        const repository = await unavailable();
        let settled: unknown;
        expect(() => {
          settled = repository.findMaxLevel('INTERNSHIP');
        }).not.toThrow();
        const result = await (settled as ReturnType<MaxLevelRepository['findMaxLevel']>);
        expect(result.isErr()).toBe(true);
        const error = result._unsafeUnwrapErr();
        expect(error._tag).toBe('RepositoryUnavailable');
        expect(error.repository).toBe(repository.name);
        expect(typeof error.message).toBe('string');
      },
      { runIf: setupUnavailable !== undefined },
    ),

    conformanceTest(
      'findAll() on an unavailable repository returns err(RepositoryUnavailable) and does not throw (when implemented)',
      async (context) => {
        const findAll = findAllOf(await unavailable(), context);
        const result = await findAll();
        expect(result.isErr()).toBe(true);
        expect(result._unsafeUnwrapErr()._tag).toBe('RepositoryUnavailable');
      },
      { runIf: setupUnavailable !== undefined },
    ),

    conformanceTest(
      'errors of an unavailable repository never contain the password',
      async () => {
        const repository = await unavailable();
        const texts: string[] = [];
        const failures: Result<unknown, RepositoryUnavailable>[] = [await repository.findMaxLevel('INTERNSHIP')];
        if (repository.findAll !== undefined) failures.push(await repository.findAll());
        for (const failure of failures) {
          const error = failure._unsafeUnwrapErr();
          // The driver error on `cause` is kept as is; the message must be redacted (see `describeCause`).
          texts.push(error.message, error.repository);
        }
        for (const text of texts) expect(text).not.toContain(CONFORMANCE_SECRET_PASSWORD);
      },
      { runIf: setupUnavailable !== undefined },
    ),
  ];
}

/** The repository's `findAll`, or a skipped test when it has none. */
function findAllOf(repository: MaxLevelRepository, context: { skip(note: string): never }) {
  const { findAll } = repository;
  if (findAll === undefined) return context.skip('findAll() is not implemented');
  return () => findAll.call(repository);
}

function sortById(rows: readonly MaxLevelRecord[]): MaxLevelRecord[] {
  return [...rows]
    .map((row) => ({ specializationId: row.specializationId, maxLevel: row.maxLevel }))
    .sort((a, b) => (a.specializationId < b.specializationId ? -1 : a.specializationId > b.specializationId ? 1 : 0));
}
