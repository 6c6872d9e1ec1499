// SyncStore conformance, reading: scanPairs (order, paging, filters, shards, legacy ids),
// countPairs, scanDifferingPairs and summarizeLegacyIds.
import { expect } from 'vitest';
import { diffPair } from '../sync/diff.js';
import { countLegacyIdUse } from '../sync/legacy-ids.js';
import { comparePairKeys } from '../sync/pair-key.js';
import { shardOf } from '../sync/shard.js';
import type { PairQuery } from '../sync/sync-store.js';
import { conformanceTest, type ConformanceTest } from './conformance-harness.js';
import { ALIASES, collect, MAX_LEVELS, type SyncStoreFixture } from './sync-store-fixture.js';

/** The scans and counts of a store: every pair once, in key order, as the filters select them. */
export function scanTests({ settings, u, seed, everyPairKey, open, scan }: SyncStoreFixture): ConformanceTest[] {
  return [
    conformanceTest('scanPairs() yields every pair once, in key order, orphans of both sides included', async () => {
      const { store } = await open();
      const pairs = await scan(store);
      expect(pairs.map((p) => [p.userId, p.specializationId])).toEqual(everyPairKey);
      const sorted = [...pairs].sort(comparePairKeys);
      expect(pairs).toEqual(sorted);
      const orphanLicense = pairs.find((p) => p.userId === u[4]);
      expect(orphanLicense?.progress).toEqual([]);
      expect(orphanLicense?.licenses).toEqual([{ specializationId: 'LFA_COACH', level: 5, maxAchievedLevel: 6 }]);
    }),

    conformanceTest('scanPairs() groups rows stored under a legacy alias with the canonical id, keeping the stored id', async () => {
      const { store } = await open();
      const pair = (await scan(store)).find((p) => p.userId === u[6]);
      expect(pair?.specializationId).toBe('GANCUJU_PLAYER');
      expect(pair?.progress.map((r) => r.specializationId)).toEqual(['PLAYER']);
      expect(pair?.licenses.map((r) => r.specializationId)).toEqual(['GANCUJU_PLAYER']);
    }),

    conformanceTest('scanPairs() groups legacy ids by the catalog the store was created with, without per-call options', async () => {
      const { store } = await open();
      const pairs = (await collect(store.scanPairs({}))).flat();
      expect(pairs.filter((p) => p.userId === u[6]).map((p) => p.specializationId)).toEqual(['GANCUJU_PLAYER']);
    }),

    conformanceTest('scanPairs() with an empty per-call alias map treats a legacy id as its own specialization', async () => {
      const { store } = await open();
      const pairs = (await collect(store.scanPairs({ aliases: new Map() }))).flat();
      expect(pairs.filter((p) => p.userId === u[6]).map((p) => p.specializationId)).toEqual(['GANCUJU_PLAYER', 'PLAYER']);
    }),

    conformanceTest('scanPairs() carries levels, totals and maximum achieved levels as stored', async () => {
      const { store } = await open();
      const pair = (await scan(store)).find((p) => p.userId === u[1] && p.specializationId === 'LFA_COACH');
      expect(pair?.progress).toEqual([{ specializationId: 'LFA_COACH', level: 3, xp: 60_000, sessions: 20 }]);
      expect(pair?.licenses).toEqual([{ specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 }]);
    }),

    conformanceTest('scanPairs() pages hold at most pageSize pairs and together hold every pair', async () => {
      const { store } = await open();
      const pages = await collect(store.scanPairs({ aliases: ALIASES, pageSize: 3 }));
      expect(pages.length).toBeGreaterThanOrEqual(4);
      for (const page of pages) expect(page.length).toBeLessThanOrEqual(3);
      expect(pages.flat().map((p) => [p.userId, p.specializationId])).toEqual(everyPairKey);
    }),

    conformanceTest('scanPairs() filters by canonical specialization id, including rows stored under its aliases', async () => {
      const { store } = await open();
      const pairs = await scan(store, { specializationIds: ['GANCUJU_PLAYER'] });
      expect(pairs.map((p) => p.userId)).toEqual([u[6], u[8], u[10]]);
    }),

    conformanceTest('scanPairs() filters by user id', async () => {
      const { store } = await open();
      const pairs = await scan(store, { userIds: [u[1]!, u[4]!, u[12]!] });
      expect(pairs.map((p) => [p.userId, p.specializationId])).toEqual([
        [u[1], 'INTERNSHIP'],
        [u[1], 'LFA_COACH'],
        [u[4], 'LFA_COACH'],
      ]);
    }),

    conformanceTest('scanPairs() shards split the users into disjoint parts that agree with shardOf()', async () => {
      const { store } = await open();
      const all = await scan(store);
      const parts = [];
      for (let index = 0; index < 3; index++) {
        const part = await scan(store, { shard: { index, count: 3 } });
        for (const pair of part) expect(shardOf(pair.userId, 3)).toBe(index);
        parts.push(...part);
      }
      expect(parts.sort(comparePairKeys)).toEqual(all);
    }),

    conformanceTest('scanPairs({ after }) yields exactly the pairs after the key, from any key, with the other filters', async () => {
      const { store } = await open();
      const all = await scan(store);
      for (let i = 0; i < all.length; i++) {
        const key = { userId: all[i]!.userId, specializationId: all[i]!.specializationId };
        const rest = await scan(store, { after: key, pageSize: 2 });
        expect(rest.map((p) => [p.userId, p.specializationId]), `after ${String(key.userId)}/${key.specializationId}`).toEqual(everyPairKey.slice(i + 1));
      }
      // A key no pair has: the pairs after its position; a legacy id sorts as the string it is.
      const between = await scan(store, { after: { userId: u[1]!, specializationId: 'J' } });
      expect(between.map((p) => [p.userId, p.specializationId])).toEqual(everyPairKey.filter(([id, spec]) => id !== u[1] || spec > 'J'));
      const coach = await scan(store, { after: { userId: u[2]!, specializationId: 'LFA_COACH' }, specializationIds: ['LFA_COACH'] });
      expect(coach.map((p) => p.userId)).toEqual([u[4], u[11]]);
      expect((await store.countPairs({ aliases: ALIASES, after: { userId: u[6]!, specializationId: 'GANCUJU_PLAYER' } }))._unsafeUnwrap()).toBe(
        all.filter((p) => comparePairKeys(p, { userId: u[6]!, specializationId: 'GANCUJU_PLAYER' }) > 0).length,
      );
      if (store.scanDifferingPairs) {
        const after = { userId: u[2]!, specializationId: 'LFA_COACH' };
        const expected = all.filter((p) => comparePairKeys(p, after) > 0 && diffPair(p, { maxLevelOf: (x) => MAX_LEVELS.get(x) }).length > 0);
        const got = (await collect(store.scanDifferingPairs({ aliases: ALIASES, maxLevels: MAX_LEVELS, after, pageSize: 2 }))).flat();
        expect(got).toEqual(expected);
      }
    }),

    conformanceTest('scanPairs({ after }) refuses a key whose user id is not of the store\'s kind, naming after.userId', async () => {
      const { store } = await open();
      const wrong = settings.userIds === 'string' ? 7 : 'seven';
      const pages = [];
      for await (const page of store.scanPairs({ after: { userId: wrong, specializationId: 'LFA_COACH' } })) pages.push(page);
      expect(pages).toHaveLength(1);
      expect(pages[0]!._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'after.userId' });
    }),

    conformanceTest('countPairs() counts the pairs scanPairs() yields, with the same filters', async () => {
      const { store } = await open();
      expect((await store.countPairs({ aliases: ALIASES }))._unsafeUnwrap()).toBe(everyPairKey.length);
      expect((await store.countPairs({ aliases: ALIASES, specializationIds: ['LFA_COACH'] }))._unsafeUnwrap()).toBe(4);
      const shard = { index: 1, count: 2 };
      expect((await store.countPairs({ aliases: ALIASES, shard }))._unsafeUnwrap()).toBe((await scan(store, { shard })).length);
    }),

    conformanceTest('scanDifferingPairs() yields exactly the pairs diffPair() reports, in key order', async () => {
      const { store } = await open();
      if (!store.scanDifferingPairs) return;
      const all = await scan(store);
      const expected = all.filter((p) => diffPair(p, { maxLevelOf: (x) => MAX_LEVELS.get(x) }).length > 0);
      const got = (await collect(store.scanDifferingPairs({ aliases: ALIASES, maxLevels: MAX_LEVELS, pageSize: 2 }))).flat();
      expect(got).toEqual(expected);
      // The in-sync pairs are left out, the one stored under a legacy id included.
      expect(got.map((p) => p.userId)).not.toContain(u[10]);
      expect(got.map((p) => p.userId)).not.toContain(u[6]);
    }),

    conformanceTest('scanDifferingPairs({ listLegacy: true }) also yields the pairs with a row under a legacy id', async () => {
      const { store } = await open();
      if (!store.scanDifferingPairs) return;
      const all = await scan(store);
      const expected = all.filter((p) => diffPair(p, { maxLevelOf: (x) => MAX_LEVELS.get(x), listLegacy: true }).length > 0);
      const got = (await collect(store.scanDifferingPairs({ maxLevels: MAX_LEVELS, listLegacy: true }))).flat();
      expect(got).toEqual(expected);
      expect(got.map((p) => p.userId)).toContain(u[6]);
    }),

    conformanceTest('summarizeLegacyIds() counts rows and pairs per stored legacy id, with the scan filters', async () => {
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
    }),

    conformanceTest('scanDifferingPairs() honours the filters and treats an id missing from maxLevels as unknown', async () => {
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
    }),

    conformanceTest(
      'scanPairs() returns every duplicate row of a pair',
      async () => {
        const { store } = await open({
          ...seed,
          progress: [...seed.progress, { userId: u[1]!, specializationId: 'LFA_COACH', level: 4 }],
        });
        const pair = (await scan(store)).find((p) => p.userId === u[1] && p.specializationId === 'LFA_COACH');
        expect(pair?.progress.map((r) => r.level).sort()).toEqual([3, 4]);
      },
      { declared: settings.duplicates === true },
    ),

    conformanceTest(
      'scanDifferingPairs() reports a NULL level',
      async () => {
        const { store } = await open({
          ...seed,
          progress: [...seed.progress, { userId: u[12]!, specializationId: 'LFA_COACH', level: null }],
          licenses: [...seed.licenses, { userId: u[12]!, specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 }],
        });
        if (!store.scanDifferingPairs) return;
        const got = (await collect(store.scanDifferingPairs({ aliases: ALIASES, maxLevels: MAX_LEVELS }))).flat();
        expect(got.find((p) => p.userId === u[12])?.progress[0]?.level).toBeNull();
      },
      { declared: settings.nullLevels === true },
    ),
  ];
}
