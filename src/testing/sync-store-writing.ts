// SyncStore conformance, writing: applyBatch applies every kind of action, writes the history
// (one progression row per license level change, with its actor), never lowers a maximum
// achieved level, keeps the id a row is stored under, and is atomic.
import { expect } from 'vitest';
import type { WriteAction } from '../sync/action.js';
import { conformanceTest, type ConformanceTest } from './conformance-harness.js';
import { coach, createLicense, createProgress, pairAt, setLicenseLevel, setProgressLevel } from './sync-store-actions.js';
import { context, type SyncStoreFixture } from './sync-store-fixture.js';

/** What a batch writes: rows, history, and nothing when it fails. */
export function writeTests({ u, open }: SyncStoreFixture): ConformanceTest[] {
  return [
    conformanceTest('applyBatch() applies every kind of action and writes one progression row per license level change', async () => {
      const h = await open();
      const actions: WriteAction[] = [
        setProgressLevel({ ...coach(u[2]!, 2, 4), level: 4, reason: 'raise progress' }),
        createProgress({ ...coach(u[4]!, null, 5, 6), level: 5, reason: 'create progress' }),
        createLicense({ ...pairAt(u[3]!, 'INTERNSHIP', 1, null), level: 1, reason: 'create license', evidence: 'Progress level: 1' }),
        setLicenseLevel({ ...pairAt(u[1]!, 'INTERNSHIP', 2, 1), level: 2, maxAchievedLevel: 2, reason: 'raise license', evidence: 'Progress level: 2' }),
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
    }),

    conformanceTest('applyBatch() records a null actor for automatic changes', async () => {
      const h = await open();
      const action = setLicenseLevel({ ...coach(u[2]!, 2, 4), level: 2, maxAchievedLevel: 4, reason: 'demote' });
      expect((await h.store.applyBatch([action], context(null)))._unsafeUnwrap()).toEqual(['Applied']);
      expect((await h.snapshot()).progressions).toEqual([
        { userId: u[2], specializationId: 'LFA_COACH', fromLevel: 4, toLevel: 2, advancedBy: null, reason: 'demote', evidence: 'e' },
      ]);
    }),

    conformanceTest('applyBatch() never lowers maxAchievedLevel and writes no history when only it changes', async () => {
      const h = await open();
      const lower = setLicenseLevel({ ...coach(u[11]!, 6, 6, 8), level: 5, maxAchievedLevel: 5 });
      expect((await h.store.applyBatch([lower], context()))._unsafeUnwrap()).toEqual(['Applied']);
      let snap = await h.snapshot();
      expect(snap.licenses.find((r) => r.userId === u[11])).toMatchObject({ level: 5, maxAchievedLevel: 8 });
      const fix = setLicenseLevel({ ...pairAt(u[8]!, 'GANCUJU_PLAYER', 5, 5, 3), level: 5, maxAchievedLevel: 5, reason: 'fix max achieved' });
      expect((await h.store.applyBatch([fix], context()))._unsafeUnwrap()).toEqual(['Applied']);
      snap = await h.snapshot();
      expect(snap.licenses.find((r) => r.userId === u[8])).toMatchObject({ level: 5, maxAchievedLevel: 5 });
      expect(snap.progressions).toHaveLength(1); // only the 6 → 5 change above
    }),

    conformanceTest('applyBatch() keeps the id a row is stored under', async () => {
      const h = await open();
      const action = setProgressLevel({
        userId: u[6]!,
        specializationId: 'GANCUJU_PLAYER',
        expected: { progress: { specializationId: 'PLAYER', level: 4 }, license: { specializationId: 'GANCUJU_PLAYER', level: 4, maxAchievedLevel: 4 } },
        level: 5,
      });
      expect((await h.store.applyBatch([action], context()))._unsafeUnwrap()).toEqual(['Applied']);
      const snap = await h.snapshot();
      expect(snap.progress.filter((r) => r.userId === u[6])).toMatchObject([{ specializationId: 'PLAYER', level: 5 }]);
    }),

    conformanceTest('applyBatch() is atomic: a batch with one failing write is rolled back whole and reported as err', async () => {
      const h = await open();
      const before = await h.snapshot();
      const actions: WriteAction[] = [
        setProgressLevel({ ...coach(u[2]!, 2, 4), level: 4 }),
        createLicense({ ...pairAt(u[3]!, 'INTERNSHIP', 1, null), level: 1 }),
        // Violates the foreign key to the specializations table.
        createProgress({ ...coach(u[4]!, null, 5, 6), level: 5, storedId: 'NOT_A_SPECIALIZATION' }),
      ];
      const result = await h.store.applyBatch(actions, context());
      expect(result.isErr()).toBe(true);
      expect(result._unsafeUnwrapErr()._tag).toBe('StoreUnavailable');
      expect(await h.snapshot()).toEqual(before);
    }),

    conformanceTest('applyBatch() of an empty batch succeeds and writes nothing', async () => {
      const h = await open();
      const before = await h.snapshot();
      expect((await h.store.applyBatch([], context()))._unsafeUnwrap()).toEqual([]);
      expect(await h.snapshot()).toEqual(before);
    }),
  ];
}
