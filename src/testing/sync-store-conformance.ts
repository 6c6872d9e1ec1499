// The SyncStore conformance suite: its options and its single entry. The tests live by concern
// beside it (reading: sync-store-scans, sync-store-reads; writing: sync-store-writing,
// sync-store-compare-and-set; run lock: sync-store-run-lock), on the data of sync-store-fixture.
import { describe } from 'vitest';
import type { UserId } from '../domain/records.js';
import type { SyncStore } from '../sync/sync-store.js';
import { checkSkipList, declareConformanceTests, trackSubjects, type ConformanceOptions, type ConformanceTest } from './conformance-harness.js';
import type { StoreSnapshot, SyncStoreSeed } from './store-snapshot.js';
import { compareAndSetTests } from './sync-store-compare-and-set.js';
import { createSyncStoreFixture, type SyncStoreFixture } from './sync-store-fixture.js';
import { readTests } from './sync-store-reads.js';
import { runLockTests } from './sync-store-run-lock.js';
import { scanTests } from './sync-store-scans.js';
import { writeTests } from './sync-store-writing.js';

/** A store under test, with the means to inspect and disturb it. */
export interface SyncStoreHarness {
  readonly store: SyncStore;
  /** Everything the store holds (see `StoreSnapshot` for the order). */
  snapshot(): Promise<StoreSnapshot>;
  /** Changes a level out of band, as a concurrent writer would; the row is found by its stored id. */
  setLevel(side: 'progress' | 'license', userId: UserId, specializationId: string, level: number): Promise<void>;
  /**
   * Another store over the same data, as another process would open it (another connection),
   * for run-lock tests. Defaults to `store` itself.
   */
  otherStore?(): Promise<SyncStore>;
  /** Called after the test that opened this harness, before the options' `teardown`. */
  close?(): Promise<void>;
}

/**
 * The concerns of the suite, each a `describe` of its own: `reading` (readPair, scans, counts,
 * legacy ids), `writing` (applyBatch outcomes, compare-and-set, history), `runLock` (acquireRunLock).
 */
export type SyncStoreConcern = 'reading' | 'writing' | 'runLock';

/** What the store can hold: the suite adds the tests of the capabilities it has. */
export interface SyncStoreCapabilities {
  /** The kind of user ids the store holds (default `number`). */
  readonly userIds?: 'number' | 'string';
  /** Whether the store can hold two rows for one (user, specialization) (no unique key). */
  readonly duplicates?: boolean;
  /** Whether the store can hold a NULL level. */
  readonly nullLevels?: boolean;
}

/**
 * Options of {@link describeSyncStoreConformance}: the shape every conformance suite takes
 * (`setup`, `teardown`, `skip`, see {@link ConformanceOptions}) plus what the store can hold.
 */
export interface SyncStoreConformanceOptions extends ConformanceOptions<SyncStoreSeed, SyncStoreHarness>, SyncStoreCapabilities {
  /** Creates a store holding exactly the seed (and no progression rows), with the means to inspect it. */
  readonly setup: (seed: SyncStoreSeed) => Promise<SyncStoreHarness>;
  /** The concerns to run (default: all). Titles in `skip` may name tests of any concern. */
  readonly concerns?: readonly SyncStoreConcern[];
}

/** The options before `create` was renamed `setup` (the name the max-level suite uses). */
interface LegacySyncStoreConformanceOptions extends Omit<SyncStoreConformanceOptions, 'setup'> {
  /** @deprecated Renamed `setup`. */
  create(seed: SyncStoreSeed): Promise<SyncStoreHarness>;
}

const CONCERNS: readonly { readonly concern: SyncStoreConcern; readonly title: string; readonly tests: (fixture: SyncStoreFixture) => ConformanceTest[] }[] = [
  { concern: 'reading', title: 'reading', tests: (fixture) => [...scanTests(fixture), ...readTests(fixture)] },
  { concern: 'writing', title: 'writing', tests: (fixture) => [...writeTests(fixture), ...compareAndSetTests(fixture)] },
  { concern: 'runLock', title: 'run lock', tests: runLockTests },
];

/**
 * The `SyncStore` contract as a vitest suite. Every implementation runs it: the in-memory store,
 * PostgreSQL through `pg`, PGlite, and the original-schema mapping. Call it at the top level of a
 * test file (or inside a `describe`); it declares one `describe` per concern.
 *
 * ```ts
 * describeSyncStoreConformance('my store', {
 *   setup: async (seed) => ({ store, snapshot, setLevel }), // a store holding exactly `seed`
 *   teardown: async () => {},                                // optional, after every test
 *   nullLevels: true,                                        // what the store can hold
 *   skip: ['scanPairs() filters by user id'],                // optional: leave a test out by its title
 * });
 * ```
 *
 * @throws TypeError when `setup` is missing, a concern is unknown, or `skip` names a test the
 * suite does not have.
 */
export function describeSyncStoreConformance(name: string, options: SyncStoreConformanceOptions): void;
/** @deprecated Pass `setup` instead of `create`; everything else is unchanged. */
export function describeSyncStoreConformance(name: string, options: LegacySyncStoreConformanceOptions): void;
export function describeSyncStoreConformance(name: string, options: SyncStoreConformanceOptions | LegacySyncStoreConformanceOptions): void {
  const setup = 'setup' in options ? options.setup : options.create;
  if (typeof setup !== 'function') throw new TypeError('describeSyncStoreConformance: options.setup must be a function');
  const selected = new Set<SyncStoreConcern>(options.concerns ?? CONCERNS.map((c) => c.concern));
  const unknown = [...selected].filter((concern) => !CONCERNS.some((c) => c.concern === concern));
  if (unknown.length > 0) throw new TypeError(`describeSyncStoreConformance: unknown concerns ${unknown.map((c) => JSON.stringify(c)).join(', ')}`);

  // `open` is called by the tests at run time, after `describe` has made the tracker.
  let track: ReturnType<typeof trackSubjects> | undefined;
  const fixture = createSyncStoreFixture(options, (seed) => track!(() => setup(seed), async (harness) => harness.close?.()));
  const concerns = CONCERNS.map((c) => ({ ...c, tests: c.tests(fixture) }));
  const skip = checkSkipList('describeSyncStoreConformance', options.skip, concerns.flatMap((c) => c.tests));

  describe(`SyncStore conformance: ${name}`, () => {
    track = trackSubjects(options.teardown);
    for (const { concern, title, tests } of concerns) {
      if (selected.has(concern)) describe(title, () => declareConformanceTests(tests, skip));
    }
  });
}
