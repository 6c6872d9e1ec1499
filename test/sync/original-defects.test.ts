// The defects of the system levelsync replaces (see the reference description of its sync
// service), each reproduced as a scenario and shown fixed.
import { describe, expect, it } from 'vitest';
import { applyPlan, checkHealth, createMaxLevelResolver, createPlan, scanDesyncs, validateAdvancement } from 'levelsync';
import { createInMemoryMaxLevelRepository } from 'levelsync/testing';
import { store, testResolver } from './fixtures.js';

describe('defects of the original sync service, fixed', () => {
  it('the 6-hour job no longer demotes a license an admin advanced (its progress hook had failed)', async () => {
    // Admin advanced the license 4 → 5; the license → progress hook failed, so progress is still 4.
    const s = store({
      progress: [{ userId: 7, specializationId: 'LFA_COACH', level: 4 }],
      licenses: [{ userId: 7, specializationId: 'LFA_COACH', level: 5, maxAchievedLevel: 5 }],
    });
    // The original job always ran progress → license and wrote the license back to 4.
    // levelsync's default (higher-wins) raises progress instead.
    const scan = (await scanDesyncs(s, { resolver: testResolver() }))._unsafeUnwrap();
    const plan = createPlan(scan)._unsafeUnwrap();
    await applyPlan(plan, s);
    const snap = s.snapshot();
    expect(snap.licenses[0]).toMatchObject({ level: 5, maxAchievedLevel: 5 });
    expect(snap.progress[0]).toMatchObject({ level: 5 });
    expect(snap.progressions).toEqual([]);
    // Even a job configured like the original (progress → license) only flags the demotion.
    const strict = createPlan(scan, { policy: { direction: 'progress-to-license' } })._unsafeUnwrap();
    expect(strict.actions).toEqual([expect.objectContaining({ kind: 'FlagForReview', message: expect.stringContaining('Would lower the license from 5 to 4') })]);
  });

  it('an unknown specialization is an error, not a silent maximum of 1 (nor 8)', async () => {
    const resolver = createMaxLevelResolver({ repositories: [createInMemoryMaxLevelRepository({ values: {} })] });
    const unknown = await resolver.resolve('LFA_FUTSAL_COACH');
    expect(unknown._unsafeUnwrapErr()._tag).toBe('UnknownSpecialization');
    // The renamed specializations that the original resolved to 1 resolve to their real maximum.
    for (const id of ['GANCUJU_PLAYER', 'LFA_COACH', 'LFA_FOOTBALL_PLAYER']) {
      expect((await resolver.resolve(id))._unsafeUnwrap().maxLevel).toBe(8);
      expect(validateAdvancement({ currentLevel: 1, targetLevel: 2, maxLevel: 8 }).isOk()).toBe(true);
    }
    // Pairs of an unknown specialization are flagged, never repaired against a guessed maximum.
    const s = store({ progress: [{ userId: 1, specializationId: 'MYSTERY', level: 3 }] });
    const plan = createPlan((await scanDesyncs(s, { resolver }))._unsafeUnwrap())._unsafeUnwrap();
    expect(plan.actions.map((a) => a.kind)).toEqual(['FlagForReview']);
    expect(plan.warnings.join('\n')).toContain('MYSTERY');
  });

  it('creating a license writes a progression row (the original wrote none)', async () => {
    const s = store({ progress: [{ userId: 3, specializationId: 'INTERNSHIP', level: 2, xp: 18_000, sessions: 18 }] });
    const plan = createPlan((await scanDesyncs(s, { resolver: testResolver() }))._unsafeUnwrap())._unsafeUnwrap();
    await applyPlan(plan, s);
    expect(s.snapshot().progressions).toEqual([
      {
        userId: 3,
        specializationId: 'INTERNSHIP',
        fromLevel: null,
        toLevel: 2,
        advancedBy: null,
        reason: 'levelsync: license created from progress level 2',
        evidence: 'Progress level: 2, XP: 18000, Sessions: 18',
      },
    ]);
  });

  it('one failure no longer poisons the rest of a bulk run', async () => {
    // The original never rolled back after a database error, so every later sync failed too.
    const users = Array.from({ length: 20 }, (_, i) => i + 1);
    const s = store({
      progress: users.map((userId) => ({ userId, specializationId: 'LFA_COACH', level: 2 })),
      licenses: users.map((userId) => ({ userId, specializationId: 'LFA_COACH', level: 1, maxAchievedLevel: 1 })),
    });
    const plan = createPlan((await scanDesyncs(s, { resolver: testResolver() }))._unsafeUnwrap())._unsafeUnwrap();
    s.failWhen((a) => a.userId === 3);
    const report = (await applyPlan(plan, s, { batchSize: 5 }))._unsafeUnwrap();
    expect(report.counts).toMatchObject({ Applied: 15, Failed: 5 });
    s.failWhen(null);
    // A re-run (level-triggered) repairs what the failed batch left.
    const rerun = createPlan((await scanDesyncs(s, { resolver: testResolver() }))._unsafeUnwrap())._unsafeUnwrap();
    expect(rerun.actions).toHaveLength(5);
    expect((await applyPlan(rerun, s))._unsafeUnwrap().counts.Applied).toBe(5);
    expect(s.snapshot().licenses.every((r) => r.level === 2)).toBe(true);
  });

  it('health counts license-only orphans (the original enumerated progress rows only)', async () => {
    const users = Array.from({ length: 50 }, (_, i) => i + 1);
    const s = store({
      progress: users.slice(0, 45).map((userId) => ({ userId, specializationId: 'LFA_COACH', level: 1 })),
      licenses: users.map((userId) => ({ userId, specializationId: 'LFA_COACH', level: 1, maxAchievedLevel: 1 })),
    });
    const health = (await checkHealth(s, { resolver: testResolver() }))._unsafeUnwrap();
    expect(health).toMatchObject({
      totalPairs: 50,
      consistentPairs: 45,
      inconsistentPairs: 5,
      consistencyRate: 90,
      status: 'critical',
      orphans: { progressOnly: 0, licenseOnly: 5 },
    });
  });
});
