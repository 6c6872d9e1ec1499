import { beforeEach, describe, expect, it } from 'vitest';
import { createLearningService } from '../../examples/service-hooks/learning-service.js';
import { SAMPLE, levels, reset, useExampleDatabase } from './example-database.js';

describe('examples/service-hooks', () => {
  const database = useExampleDatabase('service_hooks');
  beforeEach(async () => {
    await reset(database().run, SAMPLE);
  });
  const service = (beforeCommit?: () => void) => createLearningService({ pool: database().pool, ...(beforeCommit ? { beforeCommit } : {}) });
  const history = async () =>
    (await database().run(`SELECT l.user_id::int AS u, p.from_level AS "from", p.to_level AS "to", p.advanced_by::int AS by FROM levelsync.license_progressions p JOIN levelsync.licenses l ON l.id = p.license_id ORDER BY p.id`)).rows;

  it('a progress level-up brings the license along in the same transaction', async () => {
    // Learner 3 has INTERNSHIP progress at 1 and no license; level 2 needs 18 000 XP, 18 sessions, 120 hours.
    const r = await service().recordProgressGain(3, 'internship', { xp: 8_000, sessions: 3, theoryHours: 60, practiceHours: 60 });
    const value = r._unsafeUnwrap();
    expect(value.progress).toMatchObject({ leveledUp: true, levelsGained: 1, after: { level: 2, xp: 18_000 } });
    expect(value.sync.actions.map((a) => a.kind)).toEqual(['CreateLicense']);
    const after = await levels(database().run);
    expect(after.progress['3/INTERNSHIP']).toBe(2);
    expect(after.licenses['3/INTERNSHIP']).toBe(2);
    expect(await history()).toContainEqual({ u: 3, from: null, to: 2, by: null });
  });

  it('a license advancement brings the progress record along', async () => {
    const r = await service().advanceLicense(5, 'LFA_FOOTBALL_PLAYER', 5, 900, 'Passed the assessment');
    expect(r._unsafeUnwrap()).toMatchObject({ fromLevel: 4, toLevel: 5 });
    const after = await levels(database().run);
    expect(after.licenses['5/LFA_FOOTBALL_PLAYER']).toBe(5);
    expect(after.progress['5/LFA_FOOTBALL_PLAYER']).toBe(5);
    expect(await history()).toContainEqual({ u: 5, from: 4, to: 5, by: 900 });
  });

  it('a failure before COMMIT rolls back both the change and its sync', async () => {
    const before = await levels(database().run);
    const beforeHistory = await history();
    const failing = service(() => {
      throw new Error('the notification service is down');
    });
    const gain = await failing.recordProgressGain(3, 'INTERNSHIP', { xp: 8_000, sessions: 3, theoryHours: 60, practiceHours: 60 });
    expect(gain._unsafeUnwrapErr()).toMatchObject({ _tag: 'RolledBack', message: 'rolled back: the notification service is down' });
    const advance = await failing.advanceLicense(5, 'LFA_FOOTBALL_PLAYER', 5, 900, 'Passed the assessment');
    expect(advance._unsafeUnwrapErr()._tag).toBe('RolledBack');
    expect(await levels(database().run)).toEqual(before);
    expect(await history()).toEqual(beforeHistory);
  });

  it('the level rules refuse a skipped level, and nothing is written', async () => {
    const before = await levels(database().run);
    const r = await service().advanceLicense(1, 'COACH', 4, 900, 'Too fast');
    expect(r._unsafeUnwrapErr()).toMatchObject({ _tag: 'AdvancementRejected', reason: 'SkipsLevels', message: 'Can only advance one level at a time' });
    const negative = await service().recordProgressGain(1, 'LFA_COACH', { xp: -5 });
    expect(negative._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'xp' });
    expect(await levels(database().run)).toEqual(before);
  });

  it('a progress gain never lowers a license staff advanced: the pair is flagged instead', async () => {
    // Learner 2: progress 2, license 3 (advanced by staff). A small gain keeps progress at 2.
    const r = await service().recordProgressGain(2, 'GANCUJU_PLAYER', { xp: 100 });
    const value = r._unsafeUnwrap();
    expect(value.progress.leveledUp).toBe(false);
    expect(value.sync).toMatchObject({ inSync: false, actions: [{ kind: 'FlagForReview' }] });
    expect((await levels(database().run)).licenses['2/GANCUJU_PLAYER']).toBe(3);
  });
});
