import { describe, expect, it } from 'vitest';
import { ok } from 'neverthrow';
import { syncPair, type SyncStore } from 'levelsync';
import { store, testResolver } from './fixtures.js';

describe('syncPair', () => {
  it('after a progress level-up, brings the license up with one progression row', async () => {
    const s = store({
      progress: [{ userId: 1, specializationId: 'LFA_COACH', level: 4, xp: 90_000, sessions: 22 }],
      licenses: [{ userId: 1, specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 }],
    });
    const report = (
      await syncPair(s, { userId: 1, specializationId: 'lfa_coach' }, { resolver: testResolver(), policy: { direction: 'progress-to-license' } })
    )._unsafeUnwrap();
    expect(report).toMatchObject({ specializationId: 'LFA_COACH', inSync: true, attempts: 1, outcomes: ['Applied'] });
    expect(s.snapshot().licenses[0]).toMatchObject({ level: 4, maxAchievedLevel: 4 });
    expect(s.snapshot().progressions).toEqual([expect.objectContaining({ fromLevel: 3, toLevel: 4 })]);
  });

  it('after an advancement, brings progress up (license-to-progress) and records no license history', async () => {
    const s = store({
      progress: [{ userId: 1, specializationId: 'GANCUJU_PLAYER', level: 2 }],
      licenses: [{ userId: 1, specializationId: 'GANCUJU_PLAYER', level: 3, maxAchievedLevel: 3 }],
    });
    const report = (
      await syncPair(s, { userId: 1, specializationId: 'PLAYER' }, { resolver: testResolver(), policy: { direction: 'license-to-progress' } })
    )._unsafeUnwrap();
    expect(report.specializationId).toBe('GANCUJU_PLAYER');
    expect(s.snapshot().progress[0]?.level).toBe(3);
    expect(s.snapshot().progressions).toEqual([]);
  });

  it('creates a missing license for a freshly created progress record', async () => {
    const s = store({ progress: [{ userId: 5, specializationId: 'INTERNSHIP', level: 1 }] });
    const report = (await syncPair(s, { userId: 5, specializationId: 'INTERNSHIP' }, { resolver: testResolver(), actor: 42 }))._unsafeUnwrap();
    expect(report.actions.map((a) => a.kind)).toEqual(['CreateLicense']);
    expect(s.snapshot().progressions).toEqual([expect.objectContaining({ fromLevel: null, toLevel: 1, advancedBy: 42 })]);
  });

  it('reports a pair with no records as not found and writes nothing', async () => {
    const s = store({});
    const report = (await syncPair(s, { userId: 5, specializationId: 'INTERNSHIP' }, { resolver: testResolver() }))._unsafeUnwrap();
    expect(report).toMatchObject({ notFound: true, inSync: true, actions: [] });
    expect(s.batchCalls).toBe(0);
  });

  it('does not guess for an unknown specialization: flags it, writes nothing', async () => {
    const s = store({ progress: [{ userId: 5, specializationId: 'MYSTERY', level: 2 }] });
    const report = (await syncPair(s, { userId: 5, specializationId: 'MYSTERY' }, { resolver: testResolver() }))._unsafeUnwrap();
    expect(report.inSync).toBe(false);
    expect(report.actions.map((a) => a.kind)).toEqual(['FlagForReview']);
    expect(s.batchCalls).toBe(0);
  });

  it('re-reads and re-plans when a concurrent writer made its action stale', async () => {
    const s = store({
      progress: [{ userId: 1, specializationId: 'LFA_COACH', level: 4 }],
      licenses: [{ userId: 1, specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 }],
    });
    let reads = 0;
    // A store whose first read races with a writer that moves progress to 5.
    const racing: SyncStore = {
      ...s,
      readPair: (key, options) => {
        reads++;
        const read = s.readPair(key, options);
        if (reads === 1) return read.andThen((pair) => (s.setLevel('progress', 1, 'LFA_COACH', 5), ok(pair)));
        return read;
      },
      applyBatch: (actions, context) => s.applyBatch(actions, context),
    };
    const report = (await syncPair(racing, { userId: 1, specializationId: 'LFA_COACH' }, { resolver: testResolver() }))._unsafeUnwrap();
    expect(report.attempts).toBe(2);
    expect(s.snapshot().licenses[0]?.level).toBe(5);
    expect(s.snapshot().progressions).toEqual([expect.objectContaining({ fromLevel: 3, toLevel: 5 })]);
  });

  it('rejects a bad id with an error naming the field', async () => {
    const s = store({});
    const result = await syncPair(s, { userId: 1, specializationId: 'not an id!' }, { resolver: testResolver() });
    expect(result._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'specializationId' });
  });
});
