import { afterEach, describe, expect, it } from 'vitest';
import type { UserId } from '../domain/records.js';
import type { WriteAction } from '../sync/action.js';
import { diffPair } from '../sync/diff.js';
import { countLegacyIdUse } from '../sync/legacy-ids.js';
import { comparePairKeys } from '../sync/pair-key.js';
import type { SyncPair } from '../sync/pair.js';
import { shardOf } from '../sync/shard.js';
import type { ApplyContext, PairQuery, SyncStore } from '../sync/sync-store.js';
import type { StoreSnapshot, SyncStoreSeed } from './store-snapshot.js';

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
  close(): Promise<void>;
}

/** Options of {@link describeSyncStoreConformance}. */
export interface SyncStoreConformanceOptions {
  /** Creates a store holding exactly the seed (and no progression rows). */
  create(seed: SyncStoreSeed): Promise<SyncStoreHarness>;
  /** The kind of user ids the store holds (default `number`). */
  readonly userIds?: 'number' | 'string';
  /** Whether the store can hold two rows for one (user, specialization) (no unique key). */
  readonly duplicates?: boolean;
  /** Whether the store can hold a NULL level. */
  readonly nullLevels?: boolean;
}

const ALIASES: ReadonlyMap<string, string> = new Map([['PLAYER', 'GANCUJU_PLAYER']]);
const MAX_LEVELS: ReadonlyMap<string, number> = new Map([
  ['GANCUJU_PLAYER', 8],
  ['LFA_COACH', 8],
  ['INTERNSHIP', 3],
]);
const SPECIALIZATIONS = [
  { id: 'GANCUJU_PLAYER', maxLevel: 8 },
  { id: 'PLAYER', maxLevel: 8 },
  { id: 'LFA_COACH', maxLevel: 8 },
  { id: 'INTERNSHIP', maxLevel: 3 },
  { id: 'MYSTERY', maxLevel: 4 },
];
const context = (actor: UserId | null = null): ApplyContext => ({ actor, now: new Date('2026-01-02T03:04:05Z'), aliases: ALIASES });

async function collect(pages: AsyncIterable<{ isErr(): boolean; isOk(): boolean; value?: unknown; error?: unknown }>): Promise<SyncPair[][]> {
  const out: SyncPair[][] = [];
  for await (const page of pages) {
    if (page.isErr()) throw new Error(`page failed: ${JSON.stringify((page as { error: unknown }).error)}`);
    out.push([...(page as { value: readonly SyncPair[] }).value]);
  }
  return out;
}

/**
 * The `SyncStore` contract as a vitest suite. Every implementation runs it: the in-memory store,
 * PostgreSQL through `pg`, PGlite, and the original-schema mapping.
 *
 * ```ts
 * describeSyncStoreConformance('my store', { create: async (seed) => ({ store, snapshot, setLevel, close }) });
 * ```
 */
export function describeSyncStoreConformance(name: string, options: SyncStoreConformanceOptions): void {
  const id = (n: number): UserId => (options.userIds === 'string' ? `u-${String(n).padStart(3, '0')}` : n);
  const u = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(id);

  /** One pair for each situation the diff knows, plus in-sync pairs. */
  const seed: SyncStoreSeed = {
    specializations: SPECIALIZATIONS,
    progress: [
      { userId: u[1]!, specializationId: 'LFA_COACH', level: 3, xp: 60_000, sessions: 20 }, // in sync
      { userId: u[1]!, specializationId: 'INTERNSHIP', level: 2, xp: 18_000, sessions: 18 }, // progress > license
      { userId: u[2]!, specializationId: 'LFA_COACH', level: 2, xp: 35_000, sessions: 18 }, // license > progress
      { userId: u[3]!, specializationId: 'INTERNSHIP', level: 1, xp: 0, sessions: 0 }, // missing license
      { userId: u[5]!, specializationId: 'INTERNSHIP', level: 3 }, // license above max
      { userId: u[6]!, specializationId: 'PLAYER', level: 4 }, // legacy id, in sync with canonical license
      { userId: u[7]!, specializationId: 'MYSTERY', level: 2 }, // unknown specialization
      { userId: u[8]!, specializationId: 'GANCUJU_PLAYER', level: 5 }, // max achieved below level
      { userId: u[10]!, specializationId: 'GANCUJU_PLAYER', level: 1 }, // in sync
      { userId: u[11]!, specializationId: 'LFA_COACH', level: 6 }, // in sync
    ],
    licenses: [
      { userId: u[1]!, specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 },
      { userId: u[1]!, specializationId: 'INTERNSHIP', level: 1, maxAchievedLevel: 1 },
      { userId: u[2]!, specializationId: 'LFA_COACH', level: 4, maxAchievedLevel: 4 },
      { userId: u[4]!, specializationId: 'LFA_COACH', level: 5, maxAchievedLevel: 6 }, // missing progress
      { userId: u[5]!, specializationId: 'INTERNSHIP', level: 5, maxAchievedLevel: 5 },
      { userId: u[6]!, specializationId: 'GANCUJU_PLAYER', level: 4, maxAchievedLevel: 4 },
      { userId: u[7]!, specializationId: 'MYSTERY', level: 2, maxAchievedLevel: 2 },
      { userId: u[8]!, specializationId: 'GANCUJU_PLAYER', level: 5, maxAchievedLevel: 3 },
      { userId: u[10]!, specializationId: 'GANCUJU_PLAYER', level: 1, maxAchievedLevel: 1 },
      { userId: u[11]!, specializationId: 'LFA_COACH', level: 6, maxAchievedLevel: 8 },
    ],
  };
  const everyPairKey = [
    [u[1], 'INTERNSHIP'],
    [u[1], 'LFA_COACH'],
    [u[2], 'LFA_COACH'],
    [u[3], 'INTERNSHIP'],
    [u[4], 'LFA_COACH'],
    [u[5], 'INTERNSHIP'],
    [u[6], 'GANCUJU_PLAYER'],
    [u[7], 'MYSTERY'],
    [u[8], 'GANCUJU_PLAYER'],
    [u[10], 'GANCUJU_PLAYER'],
    [u[11], 'LFA_COACH'],
  ];

  describe(`SyncStore conformance: ${name}`, () => {
    let harness: SyncStoreHarness | undefined;
    const open = async (s: SyncStoreSeed = seed) => {
      harness = await options.create(s);
      return harness;
    };
    afterEach(async () => {
      await harness?.close();
      harness = undefined;
    });
    const scan = async (store: SyncStore, query: PairQuery = {}) => (await collect(store.scanPairs({ aliases: ALIASES, ...query }))).flat();

    describe('reading', () => {
      it('scanPairs() yields every pair once, in key order, orphans of both sides included', async () => {
        const { store } = await open();
        const pairs = await scan(store);
        expect(pairs.map((p) => [p.userId, p.specializationId])).toEqual(everyPairKey);
        const sorted = [...pairs].sort(comparePairKeys);
        expect(pairs).toEqual(sorted);
        const orphanLicense = pairs.find((p) => p.userId === u[4]);
        expect(orphanLicense?.progress).toEqual([]);
        expect(orphanLicense?.licenses).toEqual([{ specializationId: 'LFA_COACH', level: 5, maxAchievedLevel: 6 }]);
      });

      it('scanPairs() groups rows stored under a legacy alias with the canonical id, keeping the stored id', async () => {
        const { store } = await open();
        const pair = (await scan(store)).find((p) => p.userId === u[6]);
        expect(pair?.specializationId).toBe('GANCUJU_PLAYER');
        expect(pair?.progress.map((r) => r.specializationId)).toEqual(['PLAYER']);
        expect(pair?.licenses.map((r) => r.specializationId)).toEqual(['GANCUJU_PLAYER']);
      });

      it('scanPairs() groups legacy ids by the catalog the store was created with, without per-call options', async () => {
        const { store } = await open();
        const pairs = (await collect(store.scanPairs({}))).flat();
        expect(pairs.filter((p) => p.userId === u[6]).map((p) => p.specializationId)).toEqual(['GANCUJU_PLAYER']);
      });

      it('scanPairs() with an empty per-call alias map treats a legacy id as its own specialization', async () => {
        const { store } = await open();
        const pairs = (await collect(store.scanPairs({ aliases: new Map() }))).flat();
        expect(pairs.filter((p) => p.userId === u[6]).map((p) => p.specializationId)).toEqual(['GANCUJU_PLAYER', 'PLAYER']);
      });

      it('scanPairs() carries levels, totals and maximum achieved levels as stored', async () => {
        const { store } = await open();
        const pair = (await scan(store)).find((p) => p.userId === u[1] && p.specializationId === 'LFA_COACH');
        expect(pair?.progress).toEqual([{ specializationId: 'LFA_COACH', level: 3, xp: 60_000, sessions: 20 }]);
        expect(pair?.licenses).toEqual([{ specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 }]);
      });

      it('scanPairs() pages hold at most pageSize pairs and together hold every pair', async () => {
        const { store } = await open();
        const pages = await collect(store.scanPairs({ aliases: ALIASES, pageSize: 3 }));
        expect(pages.length).toBeGreaterThanOrEqual(4);
        for (const page of pages) expect(page.length).toBeLessThanOrEqual(3);
        expect(pages.flat().map((p) => [p.userId, p.specializationId])).toEqual(everyPairKey);
      });

      it('scanPairs() filters by canonical specialization id, including rows stored under its aliases', async () => {
        const { store } = await open();
        const pairs = await scan(store, { specializationIds: ['GANCUJU_PLAYER'] });
        expect(pairs.map((p) => p.userId)).toEqual([u[6], u[8], u[10]]);
      });

      it('scanPairs() filters by user id', async () => {
        const { store } = await open();
        const pairs = await scan(store, { userIds: [u[1]!, u[4]!, u[12]!] });
        expect(pairs.map((p) => [p.userId, p.specializationId])).toEqual([
          [u[1], 'INTERNSHIP'],
          [u[1], 'LFA_COACH'],
          [u[4], 'LFA_COACH'],
        ]);
      });

      it('scanPairs() shards split the users into disjoint parts that agree with shardOf()', async () => {
        const { store } = await open();
        const all = await scan(store);
        const parts = [];
        for (let index = 0; index < 3; index++) {
          const part = await scan(store, { shard: { index, count: 3 } });
          for (const pair of part) expect(shardOf(pair.userId, 3)).toBe(index);
          parts.push(...part);
        }
        expect(parts.sort(comparePairKeys)).toEqual(all);
      });

      it('countPairs() counts the pairs scanPairs() yields, with the same filters', async () => {
        const { store } = await open();
        expect((await store.countPairs({ aliases: ALIASES }))._unsafeUnwrap()).toBe(everyPairKey.length);
        expect((await store.countPairs({ aliases: ALIASES, specializationIds: ['LFA_COACH'] }))._unsafeUnwrap()).toBe(4);
        const shard = { index: 1, count: 2 };
        expect((await store.countPairs({ aliases: ALIASES, shard }))._unsafeUnwrap()).toBe((await scan(store, { shard })).length);
      });

      it('scanDifferingPairs() yields exactly the pairs diffPair() reports, in key order', async () => {
        const { store } = await open();
        if (!store.scanDifferingPairs) return;
        const all = await scan(store);
        const expected = all.filter((p) => diffPair(p, { maxLevelOf: (x) => MAX_LEVELS.get(x) }).length > 0);
        const got = (await collect(store.scanDifferingPairs({ aliases: ALIASES, maxLevels: MAX_LEVELS, pageSize: 2 }))).flat();
        expect(got).toEqual(expected);
        // The in-sync pairs are left out, the one stored under a legacy id included.
        expect(got.map((p) => p.userId)).not.toContain(u[10]);
        expect(got.map((p) => p.userId)).not.toContain(u[6]);
      });

      it('scanDifferingPairs({ listLegacy: true }) also yields the pairs with a row under a legacy id', async () => {
        const { store } = await open();
        if (!store.scanDifferingPairs) return;
        const all = await scan(store);
        const expected = all.filter((p) => diffPair(p, { maxLevelOf: (x) => MAX_LEVELS.get(x), listLegacy: true }).length > 0);
        const got = (await collect(store.scanDifferingPairs({ maxLevels: MAX_LEVELS, listLegacy: true }))).flat();
        expect(got).toEqual(expected);
        expect(got.map((p) => p.userId)).toContain(u[6]);
      });

      it('summarizeLegacyIds() counts rows and pairs per stored legacy id, with the scan filters', async () => {
        const { store } = await open({
          ...seed,
          progress: [...seed.progress, { userId: u[9]!, specializationId: 'PLAYER', level: 2 }, { userId: u[12]!, specializationId: 'PLAYER', level: 1 }],
          licenses: [...seed.licenses, { userId: u[9]!, specializationId: 'PLAYER', level: 2, maxAchievedLevel: 2 }],
        });
        if (!store.summarizeLegacyIds) return;
        const usage = (await store.summarizeLegacyIds({}))._unsafeUnwrap();
        expect(usage).toEqual([{ storedId: 'PLAYER', canonicalId: 'GANCUJU_PLAYER', progressRows: 3, licenseRows: 1, pairs: 3 }]);
        for (const query of [{ shard: { index: 0, count: 2 } }, { userIds: [u[9]!, u[1]!] }, { specializationIds: ['LFA_COACH'] }] as PairQuery[]) {
          const pairs = (await collect(store.scanPairs(query))).flat();
          expect((await store.summarizeLegacyIds(query))._unsafeUnwrap()).toEqual(countLegacyIdUse(pairs, store.aliases ?? ALIASES));
        }
      });

      it('scanDifferingPairs() honours the filters and treats an id missing from maxLevels as unknown', async () => {
        const { store } = await open();
        if (!store.scanDifferingPairs) return;
        const maxLevels = new Map([['LFA_COACH', 8]]);
        const got = (await collect(store.scanDifferingPairs({ aliases: ALIASES, maxLevels, specializationIds: ['INTERNSHIP', 'LFA_COACH'] }))).flat();
        expect(got.map((p) => [p.userId, p.specializationId])).toEqual([
          [u[1], 'INTERNSHIP'],
          [u[2], 'LFA_COACH'],
          [u[3], 'INTERNSHIP'],
          [u[4], 'LFA_COACH'],
          [u[5], 'INTERNSHIP'],
        ]);
      });

      it('readPair() of a canonical id finds the rows stored under its legacy id with no per-call options', async () => {
        const { store } = await open();
        const pair = (await store.readPair({ userId: u[6]!, specializationId: 'GANCUJU_PLAYER' }))._unsafeUnwrap();
        expect(pair?.progress).toEqual([{ specializationId: 'PLAYER', level: 4, xp: 0, sessions: 0 }]);
        expect(pair?.licenses).toEqual([{ specializationId: 'GANCUJU_PLAYER', level: 4, maxAchievedLevel: 4 }]);
      });

      it('a user id of the wrong type is a ValidationError naming the field, never "not found"', async () => {
        const { store, snapshot } = await open();
        const wrong: unknown = options.userIds === 'string' ? 1 : 'not-a-number';
        const read = await store.readPair({ userId: wrong as UserId, specializationId: 'LFA_COACH' });
        expect(read._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError' });
        expect(read._unsafeUnwrapErr().message).toMatch(/userId/);
        const pages = [];
        for await (const page of store.scanPairs({ userIds: [u[1]!, wrong as UserId] })) pages.push(page);
        expect(pages).toHaveLength(1);
        expect(pages[0]!._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError' });
        expect(pages[0]!._unsafeUnwrapErr().message).toMatch(/userIds\[1\]/);
        if (store.scanDifferingPairs) {
          for await (const page of store.scanDifferingPairs({ maxLevels: MAX_LEVELS, userIds: [wrong as UserId] })) {
            expect(page._unsafeUnwrapErr().message).toMatch(/userIds\[0\]/);
          }
        }
        expect((await store.countPairs({ userIds: [wrong as UserId] }))._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError' });
        const before = await snapshot();
        const write: WriteAction = {
          userId: wrong as UserId,
          specializationId: 'LFA_COACH',
          expected: { progress: null, license: null },
          kind: 'CreateProgress',
          write: { specializationId: 'LFA_COACH', level: 1 },
          reason: 'r',
        };
        const applied = await store.applyBatch([write], context());
        expect(applied._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError' });
        expect(applied._unsafeUnwrapErr().message).toMatch(/actions\[0\]\.userId/);
        expect(await snapshot()).toEqual(before);
      });

      if (options.userIds !== 'string') {
        it('a decimal string user id on an integer store is converted exactly (readPair, scans, writes)', async () => {
          const { store } = await open();
          const asText = String(u[2]);
          const pair = (await store.readPair({ userId: asText, specializationId: 'LFA_COACH' }))._unsafeUnwrap();
          expect(pair).toMatchObject({ userId: u[2], licenses: [{ level: 4 }], progress: [{ level: 2 }] });
          const scanned = (await collect(store.scanPairs({ userIds: [asText] }))).flat();
          expect(scanned.map((p) => [p.userId, p.specializationId])).toEqual([[u[2], 'LFA_COACH']]);
          for (const bad of ['02', '2.0', ' 2', '+2']) {
            expect((await store.readPair({ userId: bad, specializationId: 'LFA_COACH' }))._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError' });
          }
        });
      }

      it('readPair() returns one pair with its alias rows, or null when neither record exists', async () => {
        const { store } = await open();
        const pair = (await store.readPair({ userId: u[6]!, specializationId: 'GANCUJU_PLAYER' }, { aliases: ALIASES }))._unsafeUnwrap();
        expect(pair?.progress).toEqual([{ specializationId: 'PLAYER', level: 4, xp: 0, sessions: 0 }]);
        expect(pair?.licenses).toEqual([{ specializationId: 'GANCUJU_PLAYER', level: 4, maxAchievedLevel: 4 }]);
        expect((await store.readPair({ userId: u[12]!, specializationId: 'LFA_COACH' }, { aliases: ALIASES }))._unsafeUnwrap()).toBeNull();
      });

      if (options.duplicates) {
        it('scanPairs() returns every duplicate row of a pair', async () => {
          const { store } = await open({
            ...seed,
            progress: [...seed.progress, { userId: u[1]!, specializationId: 'LFA_COACH', level: 4 }],
          });
          const pair = (await scan(store)).find((p) => p.userId === u[1] && p.specializationId === 'LFA_COACH');
          expect(pair?.progress.map((r) => r.level).sort()).toEqual([3, 4]);
        });
      }

      if (options.nullLevels) {
        it('scanDifferingPairs() reports a NULL level', async () => {
          const { store } = await open({
            ...seed,
            progress: [...seed.progress, { userId: u[12]!, specializationId: 'LFA_COACH', level: null }],
            licenses: [...seed.licenses, { userId: u[12]!, specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 }],
          });
          if (!store.scanDifferingPairs) return;
          const got = (await collect(store.scanDifferingPairs({ aliases: ALIASES, maxLevels: MAX_LEVELS }))).flat();
          expect(got.find((p) => p.userId === u[12])?.progress[0]?.level).toBeNull();
        });
      }
    });

    describe('writing', () => {
      const coach = (userId: UserId, p: number | null, l: number | null, m: number | null = l) => ({
        userId,
        specializationId: 'LFA_COACH',
        expected: {
          progress: p === null ? null : { specializationId: 'LFA_COACH', level: p },
          license: l === null ? null : { specializationId: 'LFA_COACH', level: l, maxAchievedLevel: m },
        },
      });

      it('applyBatch() applies every kind of action and writes one progression row per license level change', async () => {
        const h = await open();
        const actions: WriteAction[] = [
          { ...coach(u[2]!, 2, 4), kind: 'SetProgressLevel', write: { level: 4 }, reason: 'raise progress' },
          {
            ...coach(u[4]!, null, 5, 6),
            kind: 'CreateProgress',
            write: { specializationId: 'LFA_COACH', level: 5 },
            reason: 'create progress',
          },
          {
            userId: u[3]!,
            specializationId: 'INTERNSHIP',
            expected: { progress: { specializationId: 'INTERNSHIP', level: 1 }, license: null },
            kind: 'CreateLicense',
            write: { specializationId: 'INTERNSHIP', level: 1, maxAchievedLevel: 1 },
            reason: 'create license',
            evidence: 'Progress level: 1',
          },
          {
            userId: u[1]!,
            specializationId: 'INTERNSHIP',
            expected: { progress: { specializationId: 'INTERNSHIP', level: 2 }, license: { specializationId: 'INTERNSHIP', level: 1, maxAchievedLevel: 1 } },
            kind: 'SetLicenseLevel',
            write: { level: 2, maxAchievedLevel: 2 },
            reason: 'raise license',
            evidence: 'Progress level: 2',
          },
        ];
        const outcomes = (await h.store.applyBatch(actions, context(u[9]!)))._unsafeUnwrap();
        expect(outcomes).toEqual(['Applied', 'Applied', 'Applied', 'Applied']);
        const snap = await h.snapshot();
        expect(snap.progress.find((r) => r.userId === u[2] && r.specializationId === 'LFA_COACH')?.level).toBe(4);
        expect(snap.progress.find((r) => r.userId === u[4])).toMatchObject({ level: 5, xp: 0, sessions: 0 });
        expect(snap.licenses.find((r) => r.userId === u[3])).toEqual({ userId: u[3], specializationId: 'INTERNSHIP', level: 1, maxAchievedLevel: 1 });
        expect(snap.licenses.find((r) => r.userId === u[1] && r.specializationId === 'INTERNSHIP')).toMatchObject({ level: 2, maxAchievedLevel: 2 });
        expect(snap.progressions).toHaveLength(2);
        expect(snap.progressions).toContainEqual({
          userId: u[3],
          specializationId: 'INTERNSHIP',
          fromLevel: null,
          toLevel: 1,
          advancedBy: u[9],
          reason: 'create license',
          evidence: 'Progress level: 1',
        });
        expect(snap.progressions).toContainEqual({
          userId: u[1],
          specializationId: 'INTERNSHIP',
          fromLevel: 1,
          toLevel: 2,
          advancedBy: u[9],
          reason: 'raise license',
          evidence: 'Progress level: 2',
        });
      });

      it('applyBatch() records a null actor for automatic changes', async () => {
        const h = await open();
        const action: WriteAction = {
          ...coach(u[2]!, 2, 4),
          kind: 'SetLicenseLevel',
          write: { level: 2, maxAchievedLevel: 4 },
          reason: 'demote',
          evidence: 'e',
        };
        expect((await h.store.applyBatch([action], context(null)))._unsafeUnwrap()).toEqual(['Applied']);
        expect((await h.snapshot()).progressions).toEqual([
          { userId: u[2], specializationId: 'LFA_COACH', fromLevel: 4, toLevel: 2, advancedBy: null, reason: 'demote', evidence: 'e' },
        ]);
      });

      it('applyBatch() never lowers maxAchievedLevel and writes no history when only it changes', async () => {
        const h = await open();
        const lower: WriteAction = { ...coach(u[11]!, 6, 6, 8), kind: 'SetLicenseLevel', write: { level: 5, maxAchievedLevel: 5 }, reason: 'r', evidence: 'e' };
        expect((await h.store.applyBatch([lower], context()))._unsafeUnwrap()).toEqual(['Applied']);
        let snap = await h.snapshot();
        expect(snap.licenses.find((r) => r.userId === u[11])).toMatchObject({ level: 5, maxAchievedLevel: 8 });
        const fix: WriteAction = {
          userId: u[8]!,
          specializationId: 'GANCUJU_PLAYER',
          expected: { progress: { specializationId: 'GANCUJU_PLAYER', level: 5 }, license: { specializationId: 'GANCUJU_PLAYER', level: 5, maxAchievedLevel: 3 } },
          kind: 'SetLicenseLevel',
          write: { level: 5, maxAchievedLevel: 5 },
          reason: 'fix max achieved',
          evidence: 'e',
        };
        expect((await h.store.applyBatch([fix], context()))._unsafeUnwrap()).toEqual(['Applied']);
        snap = await h.snapshot();
        expect(snap.licenses.find((r) => r.userId === u[8])).toMatchObject({ level: 5, maxAchievedLevel: 5 });
        expect(snap.progressions).toHaveLength(1); // only the 6 → 5 change above
      });

      it('applyBatch() keeps the id a row is stored under', async () => {
        const h = await open();
        const action: WriteAction = {
          userId: u[6]!,
          specializationId: 'GANCUJU_PLAYER',
          expected: { progress: { specializationId: 'PLAYER', level: 4 }, license: { specializationId: 'GANCUJU_PLAYER', level: 4, maxAchievedLevel: 4 } },
          kind: 'SetProgressLevel',
          write: { level: 5 },
          reason: 'r',
        };
        expect((await h.store.applyBatch([action], context()))._unsafeUnwrap()).toEqual(['Applied']);
        const snap = await h.snapshot();
        expect(snap.progress.filter((r) => r.userId === u[6])).toMatchObject([{ specializationId: 'PLAYER', level: 5 }]);
      });

      it('applyBatch() is compare-and-set: an action whose pair moved on is Stale and writes nothing', async () => {
        const h = await open();
        await h.setLevel('license', u[2]!, 'LFA_COACH', 5); // license moved 4 → 5 since the plan
        await h.setLevel('progress', u[1]!, 'INTERNSHIP', 3); // the other side moved
        const before = await h.snapshot();
        const actions: WriteAction[] = [
          { ...coach(u[2]!, 2, 4), kind: 'SetProgressLevel', write: { level: 4 }, reason: 'r' },
          {
            userId: u[1]!,
            specializationId: 'INTERNSHIP',
            expected: { progress: { specializationId: 'INTERNSHIP', level: 2 }, license: { specializationId: 'INTERNSHIP', level: 1, maxAchievedLevel: 1 } },
            kind: 'SetLicenseLevel',
            write: { level: 2, maxAchievedLevel: 2 },
            reason: 'r',
            evidence: 'e',
          },
          {
            // The license exists: a create expecting none is stale (no duplicate is made).
            ...coach(u[1]!, 3, null),
            kind: 'CreateLicense',
            write: { specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 },
            reason: 'r',
            evidence: 'e',
          },
          {
            // The progress row is stored under the alias PLAYER: "no progress" is false.
            userId: u[6]!,
            specializationId: 'GANCUJU_PLAYER',
            expected: { progress: null, license: { specializationId: 'GANCUJU_PLAYER', level: 4, maxAchievedLevel: 4 } },
            kind: 'CreateProgress',
            write: { specializationId: 'GANCUJU_PLAYER', level: 4 },
            reason: 'r',
          },
          { ...coach(u[11]!, 6, 6, 7), kind: 'SetLicenseLevel', write: { level: 6, maxAchievedLevel: 7 }, reason: 'r', evidence: 'e' },
        ];
        // The third: that license already holds what the create would write (level 3), so it is
        // AlreadyApplied rather than Stale; either way no second license is made.
        expect((await h.store.applyBatch(actions, context()))._unsafeUnwrap()).toEqual(['Stale', 'Stale', 'AlreadyApplied', 'Stale', 'Stale']);
        expect(await h.snapshot()).toEqual(before);
      });

      it('applyBatch() applies the fresh actions of a batch and skips the stale ones', async () => {
        const h = await open();
        await h.setLevel('license', u[2]!, 'LFA_COACH', 5);
        const actions: WriteAction[] = [
          { ...coach(u[2]!, 2, 4), kind: 'SetProgressLevel', write: { level: 4 }, reason: 'r' },
          { ...coach(u[4]!, null, 5, 6), kind: 'CreateProgress', write: { specializationId: 'LFA_COACH', level: 5 }, reason: 'r' },
        ];
        expect((await h.store.applyBatch(actions, context()))._unsafeUnwrap()).toEqual(['Stale', 'Applied']);
        const snap = await h.snapshot();
        expect(snap.progress.find((r) => r.userId === u[2] && r.specializationId === 'LFA_COACH')?.level).toBe(2);
        expect(snap.progress.find((r) => r.userId === u[4])?.level).toBe(5);
      });

      it('applyBatch() judges every action of a batch against the state at the start of the batch', async () => {
        const h = await open();
        // Both actions of one pair expect the same starting state.
        const expected = {
          progress: { specializationId: 'INTERNSHIP', level: 3 },
          license: { specializationId: 'INTERNSHIP', level: 5, maxAchievedLevel: 5 },
        };
        const actions: WriteAction[] = [
          { userId: u[5]!, specializationId: 'INTERNSHIP', expected, kind: 'SetLicenseLevel', write: { level: 3, maxAchievedLevel: 5 }, reason: 'clamp', evidence: 'e' },
          { userId: u[5]!, specializationId: 'INTERNSHIP', expected, kind: 'SetProgressLevel', write: { level: 3 }, reason: 'noop' },
        ];
        expect((await h.store.applyBatch(actions, context()))._unsafeUnwrap()).toEqual(['Applied', 'Applied']);
        const snap = await h.snapshot();
        expect(snap.licenses.find((r) => r.userId === u[5])).toMatchObject({ level: 3, maxAchievedLevel: 5 });
      });

      it('applyBatch() is atomic: a batch with one failing write is rolled back whole and reported as err', async () => {
        const h = await open();
        const before = await h.snapshot();
        const actions: WriteAction[] = [
          { ...coach(u[2]!, 2, 4), kind: 'SetProgressLevel', write: { level: 4 }, reason: 'r' },
          {
            userId: u[3]!,
            specializationId: 'INTERNSHIP',
            expected: { progress: { specializationId: 'INTERNSHIP', level: 1 }, license: null },
            kind: 'CreateLicense',
            write: { specializationId: 'INTERNSHIP', level: 1, maxAchievedLevel: 1 },
            reason: 'r',
            evidence: 'e',
          },
          {
            // Violates the foreign key to the specializations table.
            userId: u[4]!,
            specializationId: 'LFA_COACH',
            expected: { progress: null, license: { specializationId: 'LFA_COACH', level: 5, maxAchievedLevel: 6 } },
            kind: 'CreateProgress',
            write: { specializationId: 'NOT_A_SPECIALIZATION', level: 5 },
            reason: 'r',
          },
        ];
        const result = await h.store.applyBatch(actions, context());
        expect(result.isErr()).toBe(true);
        expect(result._unsafeUnwrapErr()._tag).toBe('StoreUnavailable');
        expect(await h.snapshot()).toEqual(before);
      });

      it('applyBatch() of already applied actions writes nothing and adds no history', async () => {
        const h = await open();
        const actions: WriteAction[] = [
          { ...coach(u[2]!, 2, 4), kind: 'SetLicenseLevel', write: { level: 2, maxAchievedLevel: 4 }, reason: 'r', evidence: 'e' },
          { ...coach(u[4]!, null, 5, 6), kind: 'CreateProgress', write: { specializationId: 'LFA_COACH', level: 5 }, reason: 'r' },
        ];
        expect((await h.store.applyBatch(actions, context()))._unsafeUnwrap()).toEqual(['Applied', 'Applied']);
        const once = await h.snapshot();
        expect((await h.store.applyBatch(actions, context()))._unsafeUnwrap()).toEqual(['AlreadyApplied', 'AlreadyApplied']);
        expect(await h.snapshot()).toEqual(once);
        expect(once.progressions).toHaveLength(1);
      });

      it('applyBatch() reports AlreadyApplied only when the pair holds exactly the planned state, else Stale', async () => {
        const h = await open();
        // u2: progress 2, license 4 (max 4). Raise the progress to 4: applied once, then already applied.
        const raise: WriteAction[] = [{ ...coach(u[2]!, 2, 4), kind: 'SetProgressLevel', write: { level: 4 }, reason: 'r' }];
        expect((await h.store.applyBatch(raise, context()))._unsafeUnwrap()).toEqual(['Applied']);
        expect((await h.store.applyBatch(raise, context()))._unsafeUnwrap()).toEqual(['AlreadyApplied']);
        // Someone moves the license on: the same action is now stale, not already applied.
        await h.setLevel('license', u[2]!, 'LFA_COACH', 5);
        const before = await h.snapshot();
        expect((await h.store.applyBatch(raise, context()))._unsafeUnwrap()).toEqual(['Stale']);
        expect(await h.snapshot()).toEqual(before);
      });

      it('applyBatch() of an empty batch succeeds and writes nothing', async () => {
        const h = await open();
        const before = await h.snapshot();
        expect((await h.store.applyBatch([], context()))._unsafeUnwrap()).toEqual([]);
        expect(await h.snapshot()).toEqual(before);
      });
    });

    describe('run lock', () => {
      it('acquireRunLock() refuses a second whole run with RunInProgress until the first releases', async () => {
        const h = await open();
        const other = h.otherStore ? await h.otherStore() : h.store;
        const first = (await h.store.acquireRunLock({}))._unsafeUnwrap();
        const second = await other.acquireRunLock({});
        expect(second.isErr() && second.error._tag).toBe('RunInProgress');
        await first.release();
        const third = (await other.acquireRunLock({}))._unsafeUnwrap();
        await third.release();
      });

      it('acquireRunLock() lets different shards run together but not a shard and a whole run', async () => {
        const h = await open();
        const other = h.otherStore ? await h.otherStore() : h.store;
        const a = (await h.store.acquireRunLock({ shard: { index: 0, count: 2 } }))._unsafeUnwrap();
        const b = (await other.acquireRunLock({ shard: { index: 1, count: 2 } }))._unsafeUnwrap();
        const sameShard = await other.acquireRunLock({ shard: { index: 0, count: 2 } });
        expect(sameShard.isErr() && sameShard.error._tag).toBe('RunInProgress');
        const whole = await other.acquireRunLock({});
        expect(whole.isErr() && whole.error._tag).toBe('RunInProgress');
        await a.release();
        await b.release();
        const after = (await other.acquireRunLock({}))._unsafeUnwrap();
        await after.release();
      });

      it('acquireRunLock({ wait: true }) waits for the holder to release', async () => {
        const h = await open();
        const other = h.otherStore ? await h.otherStore() : h.store;
        const first = (await h.store.acquireRunLock({}))._unsafeUnwrap();
        let acquired = false;
        const waiting = other.acquireRunLock({}, { wait: true }).map((lock) => {
          acquired = true;
          return lock;
        });
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(acquired).toBe(false);
        await first.release();
        const second = (await waiting)._unsafeUnwrap();
        expect(acquired).toBe(true);
        await second.release();
      });
    });
  });
}
