// SyncStore conformance, writing: applyBatch is compare-and-set. An action whose pair moved on
// since the plan is Stale and writes nothing; one whose pair already holds the planned state is
// AlreadyApplied; every action of a batch is judged against the state at the start of the batch.
import { expect } from 'vitest';
import type { WriteAction } from '../sync/action.js';
import { conformanceTest, type ConformanceTest } from './conformance-harness.js';
import { coach, createLicense, createProgress, pairAt, setLicenseLevel, setProgressLevel } from './sync-store-actions.js';
import { context, type SyncStoreFixture } from './sync-store-fixture.js';

/** Outcomes of a batch against a store that moved on, or already holds the result. */
export function compareAndSetTests({ u, open }: SyncStoreFixture): ConformanceTest[] {
  return [
    conformanceTest('applyBatch() is compare-and-set: an action whose pair moved on is Stale and writes nothing', async () => {
      const h = await open();
      await h.setLevel('license', u[2]!, 'LFA_COACH', 5); // license moved 4 → 5 since the plan
      await h.setLevel('progress', u[1]!, 'INTERNSHIP', 3); // the other side moved
      const before = await h.snapshot();
      const actions: WriteAction[] = [
        setProgressLevel({ ...coach(u[2]!, 2, 4), level: 4 }),
        setLicenseLevel({ ...pairAt(u[1]!, 'INTERNSHIP', 2, 1), level: 2, maxAchievedLevel: 2 }),
        // The license exists: a create expecting none is stale (no duplicate is made).
        createLicense({ ...coach(u[1]!, 3, null), level: 3 }),
        // The progress row is stored under the alias PLAYER: "no progress" is false.
        createProgress({
          userId: u[6]!,
          specializationId: 'GANCUJU_PLAYER',
          expected: { progress: null, license: { specializationId: 'GANCUJU_PLAYER', level: 4, maxAchievedLevel: 4 } },
          level: 4,
        }),
        setLicenseLevel({ ...coach(u[11]!, 6, 6, 7), level: 6, maxAchievedLevel: 7 }),
      ];
      // The third: that license already holds what the create would write (level 3), so it is
      // AlreadyApplied rather than Stale; either way no second license is made.
      expect((await h.store.applyBatch(actions, context()))._unsafeUnwrap()).toEqual(['Stale', 'Stale', 'AlreadyApplied', 'Stale', 'Stale']);
      expect(await h.snapshot()).toEqual(before);
    }),

    conformanceTest('applyBatch() applies the fresh actions of a batch and skips the stale ones', async () => {
      const h = await open();
      await h.setLevel('license', u[2]!, 'LFA_COACH', 5);
      const actions: WriteAction[] = [setProgressLevel({ ...coach(u[2]!, 2, 4), level: 4 }), createProgress({ ...coach(u[4]!, null, 5, 6), level: 5 })];
      expect((await h.store.applyBatch(actions, context()))._unsafeUnwrap()).toEqual(['Stale', 'Applied']);
      const snap = await h.snapshot();
      expect(snap.progress.find((r) => r.userId === u[2] && r.specializationId === 'LFA_COACH')?.level).toBe(2);
      expect(snap.progress.find((r) => r.userId === u[4])?.level).toBe(5);
    }),

    conformanceTest('applyBatch() judges every action of a batch against the state at the start of the batch', async () => {
      const h = await open();
      // Both actions of one pair expect the same starting state.
      const pair = pairAt(u[5]!, 'INTERNSHIP', 3, 5, 5);
      const actions: WriteAction[] = [
        setLicenseLevel({ ...pair, level: 3, maxAchievedLevel: 5, reason: 'clamp' }),
        setProgressLevel({ ...pair, level: 3, reason: 'noop' }),
      ];
      expect((await h.store.applyBatch(actions, context()))._unsafeUnwrap()).toEqual(['Applied', 'Applied']);
      const snap = await h.snapshot();
      expect(snap.licenses.find((r) => r.userId === u[5])).toMatchObject({ level: 3, maxAchievedLevel: 5 });
    }),

    conformanceTest('applyBatch() of already applied actions writes nothing and adds no history', async () => {
      const h = await open();
      const actions: WriteAction[] = [
        setLicenseLevel({ ...coach(u[2]!, 2, 4), level: 2, maxAchievedLevel: 4 }),
        createProgress({ ...coach(u[4]!, null, 5, 6), level: 5 }),
      ];
      expect((await h.store.applyBatch(actions, context()))._unsafeUnwrap()).toEqual(['Applied', 'Applied']);
      const once = await h.snapshot();
      expect((await h.store.applyBatch(actions, context()))._unsafeUnwrap()).toEqual(['AlreadyApplied', 'AlreadyApplied']);
      expect(await h.snapshot()).toEqual(once);
      expect(once.progressions).toHaveLength(1);
    }),

    conformanceTest('applyBatch() reports AlreadyApplied only when the pair holds exactly the planned state, else Stale', async () => {
      const h = await open();
      // u2: progress 2, license 4 (max 4). Raise the progress to 4: applied once, then already applied.
      const raise: WriteAction[] = [setProgressLevel({ ...coach(u[2]!, 2, 4), level: 4 })];
      expect((await h.store.applyBatch(raise, context()))._unsafeUnwrap()).toEqual(['Applied']);
      expect((await h.store.applyBatch(raise, context()))._unsafeUnwrap()).toEqual(['AlreadyApplied']);
      // Someone moves the license on: the same action is now stale, not already applied.
      await h.setLevel('license', u[2]!, 'LFA_COACH', 5);
      const before = await h.snapshot();
      expect((await h.store.applyBatch(raise, context()))._unsafeUnwrap()).toEqual(['Stale']);
      expect(await h.snapshot()).toEqual(before);
    }),
  ];
}
