// SyncStore conformance, reading: readPair, and user ids of the wrong type or as decimal text
// everywhere a user id goes in.
import { expect } from 'vitest';
import type { UserId } from '../domain/records.js';
import { conformanceTest, type ConformanceTest } from './conformance-harness.js';
import { createProgress } from './sync-store-actions.js';
import { ALIASES, collect, context, MAX_LEVELS, type SyncStoreFixture } from './sync-store-fixture.js';

/** Reading one pair, and the user-id checks every method shares. */
export function readTests({ settings, u, open, seed }: SyncStoreFixture): ConformanceTest[] {
  return [
    conformanceTest('readPair() of a canonical id finds the rows stored under its legacy id with no per-call options', async () => {
      const { store } = await open();
      const pair = (await store.readPair({ userId: u[6]!, specializationId: 'GANCUJU_PLAYER' }))._unsafeUnwrap();
      expect(pair?.progress).toEqual([{ specializationId: 'PLAYER', level: 4, xp: 0, sessions: 0 }]);
      expect(pair?.licenses).toEqual([{ specializationId: 'GANCUJU_PLAYER', level: 4, maxAchievedLevel: 4 }]);
    }),

    conformanceTest('a user id of the wrong type is a ValidationError naming the field, never "not found"', async () => {
      const { store, snapshot } = await open();
      const wrong: unknown = settings.userIds === 'string' ? 1 : 'not-a-number';
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
      const write = createProgress({ userId: wrong as UserId, specializationId: 'LFA_COACH', expected: { progress: null, license: null }, level: 1 });
      const applied = await store.applyBatch([write], context());
      expect(applied._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError' });
      expect(applied._unsafeUnwrapErr().message).toMatch(/actions\[0\]\.userId/);
      expect(await snapshot()).toEqual(before);
      // checkUserId (optional): the same rule, asked before a plan is applied.
      if (store.checkUserId) {
        expect(store.checkUserId(wrong, 'actions[7].userId')).toMatchObject({ field: 'actions[7].userId' });
        expect(store.checkUserId(u[1], 'userId')).toBeNull();
      }
    }),

    conformanceTest(
      'a decimal string user id on an integer store is converted exactly (readPair, scans, writes)',
      async () => {
        const { store } = await open();
        const asText = String(u[2]);
        const pair = (await store.readPair({ userId: asText, specializationId: 'LFA_COACH' }))._unsafeUnwrap();
        expect(pair).toMatchObject({ userId: u[2], licenses: [{ level: 4 }], progress: [{ level: 2 }] });
        const scanned = (await collect(store.scanPairs({ userIds: [asText] }))).flat();
        expect(scanned.map((p) => [p.userId, p.specializationId])).toEqual([[u[2], 'LFA_COACH']]);
        for (const bad of ['02', '2.0', ' 2', '+2']) {
          expect((await store.readPair({ userId: bad, specializationId: 'LFA_COACH' }))._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError' });
        }
      },
      { declared: settings.userIds !== 'string' },
    ),

    conformanceTest('specializationRows(), when implemented, lists every stored id of the specializations table exactly (legacy PLAYER beside GANCUJU_PLAYER)', async () => {
      const { store } = await open();
      if (store.specializationRows === undefined) return;
      const rows = (await store.specializationRows())._unsafeUnwrap();
      expect([...rows.ids].sort()).toEqual(seed.specializations.map((s) => s.id).sort());
      expect(rows.table).toMatch(/specializations/);
      expect(typeof rows.enforced.progress).toBe('boolean');
      expect(typeof rows.enforced.license).toBe('boolean');
    }),

    conformanceTest('readPair() returns one pair with its alias rows, or null when neither record exists', async () => {
      const { store } = await open();
      const pair = (await store.readPair({ userId: u[6]!, specializationId: 'GANCUJU_PLAYER' }, { aliases: ALIASES }))._unsafeUnwrap();
      expect(pair?.progress).toEqual([{ specializationId: 'PLAYER', level: 4, xp: 0, sessions: 0 }]);
      expect(pair?.licenses).toEqual([{ specializationId: 'GANCUJU_PLAYER', level: 4, maxAchievedLevel: 4 }]);
      expect((await store.readPair({ userId: u[12]!, specializationId: 'LFA_COACH' }, { aliases: ALIASES }))._unsafeUnwrap()).toBeNull();
    }),
  ];
}
