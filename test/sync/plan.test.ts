import { describe, expect, it } from 'vitest';
import { createPlan, diff, parsePlan, renderPlan, type Desync, type SyncPair, type SyncPlan } from 'levelsync';

const max = (id: string) => ({ GANCUJU_PLAYER: 8, LFA_COACH: 8, INTERNSHIP: 3 } as Record<string, number>)[id];
const NOW = new Date('2026-11-25T12:00:00.000Z');
const p = (specializationId: string, level: number | null, xp = 0) => ({ specializationId, level, xp, sessions: 0 });
const l = (specializationId: string, level: number | null, maxAchievedLevel: number | null = level) => ({ specializationId, level, maxAchievedLevel });
const desyncsOf = (...pairs: SyncPair[]): Desync[] => diff(pairs, { maxLevelOf: max });
const plan = (desyncs: Desync[], policy = {}): SyncPlan => createPlan(desyncs, { policy, now: () => NOW })._unsafeUnwrap();
const one = (userId: number, spec: string, progress: ReturnType<typeof p>[], licenses: ReturnType<typeof l>[]): SyncPair => ({
  userId,
  specializationId: spec,
  progress,
  licenses,
});

describe('createPlan', () => {
  const mismatchUp = one(1, 'LFA_COACH', [p('LFA_COACH', 5, 90_000)], [l('LFA_COACH', 3)]);
  const mismatchDown = one(2, 'LFA_COACH', [p('LFA_COACH', 2)], [l('LFA_COACH', 4, 4)]);

  it('higher-wins (default) raises the lower record and never demotes', () => {
    const { actions } = plan(desyncsOf(mismatchUp, mismatchDown));
    expect(actions.map((a) => [a.userId, a.kind, a.write])).toEqual([
      [1, 'SetLicenseLevel', { level: 5, maxAchievedLevel: 5 }],
      [2, 'SetProgressLevel', { level: 4 }],
    ]);
    expect(actions[0]).toMatchObject({
      expected: { progress: { specializationId: 'LFA_COACH', level: 5 }, license: { specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 } },
      evidence: 'Progress level: 5, XP: 90000, Sessions: 0',
    });
  });

  it('progress-to-license flags a demotion of the license unless allowDemotion', () => {
    const flagged = plan(desyncsOf(mismatchUp, mismatchDown), { direction: 'progress-to-license' }).actions;
    expect(flagged.map((a) => a.kind)).toEqual(['SetLicenseLevel', 'FlagForReview']);
    expect(flagged[1]).toMatchObject({ reasons: ['LevelMismatch'], message: 'Would lower the license from 4 to 2 (allowDemotion is off)' });
    const allowed = plan(desyncsOf(mismatchDown), { direction: 'progress-to-license', allowDemotion: true });
    expect(allowed.actions).toEqual([expect.objectContaining({ kind: 'SetLicenseLevel', write: { level: 2, maxAchievedLevel: 4 } })]);
    expect(allowed.warnings).toContain('1 action(s) lower a level: review them before applying');
  });

  it('license-to-progress makes progress follow the license', () => {
    const { actions } = plan(desyncsOf(mismatchDown), { direction: 'license-to-progress' });
    expect(actions).toEqual([expect.objectContaining({ kind: 'SetProgressLevel', write: { level: 4 } })]);
  });

  it('creates missing records from their counterpart, or flags them', () => {
    const orphans = desyncsOf(one(3, 'INTERNSHIP', [p('INTERNSHIP', 2)], []), one(4, 'LFA_COACH', [], [l('LFA_COACH', 6, 7)]));
    expect(plan(orphans).actions.map((a) => [a.kind, a.write])).toEqual([
      ['CreateLicense', { specializationId: 'INTERNSHIP', level: 2, maxAchievedLevel: 2 }],
      ['CreateProgress', { specializationId: 'LFA_COACH', level: 6 }],
    ]);
    expect(plan(orphans, { missing: 'flag' }).actions.map((a) => a.kind)).toEqual(['FlagForReview', 'FlagForReview']);
  });

  it('flags levels above the maximum by default and clamps them on request', () => {
    const above = desyncsOf(one(5, 'INTERNSHIP', [p('INTERNSHIP', 3)], [l('INTERNSHIP', 5, 5)]));
    expect(plan(above).actions).toEqual([expect.objectContaining({ kind: 'FlagForReview', reasons: ['AboveMaxLevel'] })]);
    expect(plan(above, { aboveMax: 'clamp' }).actions).toEqual([
      expect.objectContaining({ kind: 'SetLicenseLevel', write: { level: 3, maxAchievedLevel: 5 } }),
    ]);
  });

  it('flags what a machine must not guess: unknown specializations, duplicates, invalid levels', () => {
    const ds = desyncsOf(
      one(6, 'MYSTERY', [p('MYSTERY', 1)], []),
      one(7, 'LFA_COACH', [p('LFA_COACH', 1), p('LFA_COACH', 2)], [l('LFA_COACH', 1)]),
      one(8, 'LFA_COACH', [p('LFA_COACH', null)], [l('LFA_COACH', 2)]),
    );
    const { actions } = plan(ds, { aboveMax: 'clamp', allowDemotion: true });
    expect(actions.map((a) => (a.kind === 'FlagForReview' ? a.reasons : a.kind))).toEqual([
      ['UnknownSpecialization'],
      ['DuplicateRecord'],
      ['InvalidLevel'],
    ]);
  });

  it('raises a maximum achieved level below the current level without changing the level', () => {
    const { actions } = plan(desyncsOf(one(9, 'GANCUJU_PLAYER', [p('GANCUJU_PLAYER', 5)], [l('GANCUJU_PLAYER', 5, 3)])));
    expect(actions).toEqual([expect.objectContaining({ kind: 'SetLicenseLevel', write: { level: 5, maxAchievedLevel: 5 } })]);
  });

  it('applies per-specialization overrides', () => {
    const ds = desyncsOf(mismatchDown, one(2, 'INTERNSHIP', [p('INTERNSHIP', 1)], [l('INTERNSHIP', 2)]));
    const { actions, policy } = plan(ds, { overrides: { internship: { direction: 'progress-to-license', allowDemotion: true } } });
    expect(policy.overrides).toEqual({ INTERNSHIP: { direction: 'progress-to-license', allowDemotion: true } });
    expect(actions.map((a) => [a.specializationId, a.kind, a.write])).toEqual([
      ['INTERNSHIP', 'SetLicenseLevel', { level: 1, maxAchievedLevel: 2 }],
      ['LFA_COACH', 'SetProgressLevel', { level: 4 }],
    ]);
  });

  it('plans nothing for legacy ids alone, and warns about them per pair when they are listed', () => {
    const pairs = [one(10, 'GANCUJU_PLAYER', [p('PLAYER', 4)], [l('PLAYER', 4)]), one(11, 'GANCUJU_PLAYER', [p('PLAYER', 4)], [l('GANCUJU_PLAYER', 4)])];
    expect(diff(pairs, { maxLevelOf: max })).toEqual([]);
    const legacy = plan(diff(pairs, { maxLevelOf: max, listLegacy: true }));
    expect(legacy.actions).toEqual([]);
    expect(legacy.summary.desyncs.LegacySpecializationId).toBe(3);
    // Pairs, not records: user 10 has two rows under PLAYER.
    expect(legacy.warnings).toEqual([expect.stringMatching(/^2 pair\(s\) have records stored under the legacy id PLAYER → GANCUJU_PLAYER/)]);
  });

  it('turns a scan\'s legacy-id summary into one warning per stored id, with pairs and rows counted apart', () => {
    const legacyIds = [{ storedId: 'PLAYER', canonicalId: 'GANCUJU_PLAYER', progressRows: 1_990, licenseRows: 1_938, pairs: 2_004, deprecatedAfter: '2026-05-18' }];
    const made = createPlan({ desyncs: [], legacyIds }, { now: () => NOW })._unsafeUnwrap();
    expect(made.warnings).toEqual([
      'Legacy id PLAYER → GANCUJU_PLAYER: 2004 pair(s) with 1990 progress row(s) and 1938 license row(s) stored under PLAYER (deprecated after 2026-05-18); migrate them when convenient (no repair needs it)',
    ]);
  });

  it('summarises actions by kind, desyncs by kind and pairs', () => {
    const { summary } = plan(desyncsOf(mismatchUp, mismatchDown, one(3, 'INTERNSHIP', [p('INTERNSHIP', 2)], [])));
    expect(summary.actions).toMatchObject({ SetLicenseLevel: 1, SetProgressLevel: 1, CreateLicense: 1, total: 3 });
    expect(summary.desyncs).toMatchObject({ LevelMismatch: 2, MissingLicense: 1, total: 3 });
    expect(summary.pairs).toBe(3);
  });

  it('rejects an invalid policy with an error naming the field', () => {
    const result = createPlan([], { policy: { direction: 'sideways' as never } });
    expect(result._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'direction' });
  });
});

describe('plan files', () => {
  const saved = plan(
    desyncsOf(
      one(1, 'LFA_COACH', [p('LFA_COACH', 5)], [l('LFA_COACH', 3)]),
      one(3, 'INTERNSHIP', [p('INTERNSHIP', 2)], []),
      one(6, 'MYSTERY', [p('MYSTERY', 1)], []),
    ),
  );
  const text = JSON.stringify(saved, null, 2);

  it('round-trips exactly through JSON and parsePlan', () => {
    expect(JSON.parse(JSON.stringify(saved))).toEqual(saved);
    expect(parsePlan(text)._unsafeUnwrap()).toEqual(saved);
  });

  it('refuses a plan edited after it was made (fingerprint)', () => {
    const edited = JSON.parse(text);
    edited.actions[0].reason = 'approved by nobody';
    expect(parsePlan(JSON.stringify(edited))._unsafeUnwrapErr()._tag).toBe('PlanFingerprintMismatch');
    const demoted = JSON.parse(text);
    demoted.actions[0].write = { level: 4, maxAchievedLevel: 4 };
    expect(parsePlan(JSON.stringify(demoted))._unsafeUnwrapErr()._tag).toBe('PlanFingerprintMismatch');
  });

  it.each([
    ['not JSON', '{"formatVersion": 1,', '(root)'],
    ['an array', '[]', '(root)'],
    ['no version', '{}', 'formatVersion'],
  ])('rejects %s naming the field', (_name, input, field) => {
    expect(parsePlan(input)._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field });
  });

  it('rejects an unknown format version', () => {
    expect(parsePlan({ ...saved, formatVersion: 3 })._unsafeUnwrapErr()._tag).toBe('UnsupportedPlanVersion');
  });

  it('refuses a version-1 plan (one JSON document) saying how to re-plan', () => {
    const error = parsePlan(JSON.stringify({ ...saved, formatVersion: 1 }))._unsafeUnwrapErr();
    expect(error._tag).toBe('UnsupportedPlanVersion');
    expect(error.message).toMatch(/version 1 plans .*make a new plan \(`levelsync plan --out <file>`/);
  });

  it.each([
    [(x: any) => (x.actions[0].write.level = 0), 'actions[0].write.level'],
    [(x: any) => (x.actions[0].write.level = 3.5), 'actions[0].write.level'],
    [(x: any) => (x.actions[0].userId = true), 'actions[0].userId'],
    [(x: any) => (x.actions[1].kind = 'DropTable'), 'actions[1].kind'],
    [(x: any) => (x.actions[0].expected.license = 'x'), 'actions[0].expected.license'],
    [(x: any) => (x.policy.direction = 'down'), 'policy.direction'],
    [(x: any) => (x.actions[0].specializationId = 'lfa coach'), 'actions[0].specializationId'],
    [(x: any) => (x.createdAt = 'yesterday'), 'createdAt'],
    [(x: any) => (x.actions[0].write.level = 9), 'actions[0].write.level'],
    [(x: any) => (x.actions[1].expected.license = { specializationId: 'INTERNSHIP', level: 1, maxAchievedLevel: 1 }), 'actions[1].expected.license'],
    [(x: any) => (x.summary.actions.total = 99), 'summary.actions.total'],
    [(x: any) => (x.extra = 1), '(root)'],
    [(x: any) => (x.actions[0].write.maxAchievedLevel = 1_000_000_000), 'actions[0].write.maxAchievedLevel'],
    [(x: any) => (x.actions[1].write.maxAchievedLevel = 3), 'actions[1].write.maxAchievedLevel'],
  ])('rejects a malformed plan and names the field (%#)', (mutate, field) => {
    const bad = JSON.parse(text);
    mutate(bad);
    const error = parsePlan(bad)._unsafeUnwrapErr();
    expect(error._tag).toBe('ValidationError');
    expect(error._tag === 'ValidationError' && error.issues.map((i) => i.field)).toContain(field);
    expect(error.message).toContain('Invalid plan');
  });
});

describe('renderPlan', () => {
  it('prints the header, one row per action, the summary and the warnings', () => {
    const out = renderPlan(
      plan(desyncsOf(one(1, 'LFA_COACH', [p('LFA_COACH', 5)], [l('LFA_COACH', 3)]), one(6, 'MYSTERY', [p('MYSTERY', 1)], [])), {
        direction: 'higher-wins',
      }),
    );
    expect(out).toContain('policy: higher-wins, never demote, missing records: create, above maximum: flag');
    expect(out).toMatch(/1\s+1\s+LFA_COACH\s+SetLicenseLevel\s+license 3 → 5/);
    expect(out).toMatch(/2\s+6\s+MYSTERY\s+FlagForReview\s+review: Unknown specialization MYSTERY/);
    expect(out).toContain('summary: 2 action(s) for 2 pair(s): SetLicenseLevel 1, FlagForReview 1');
  });

  it('says so when there is nothing to do, and truncates long plans', () => {
    expect(renderPlan(plan([]))).toContain('Nothing to do');
    const many = desyncsOf(...Array.from({ length: 60 }, (_, i) => one(i + 1, 'INTERNSHIP', [p('INTERNSHIP', 1)], [])));
    expect(renderPlan(plan(many), { limit: 10 })).toContain('… and 50 more action(s)');
  });
});
