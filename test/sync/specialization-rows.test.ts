import { errAsync } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import {
  applyPlan,
  createMaxLevelResolver,
  createPlan,
  createPlanStream,
  openDesyncScan,
  parsePlan,
  renderPlan,
  scanDesyncs,
  storeUnavailable,
  type SyncAction,
  type SyncPlan,
  type SyncStore,
} from 'levelsync';
import { createInMemoryMaxLevelRepository, createInMemorySyncStore, type SyncStoreSeed } from 'levelsync/testing';

// Issue 11: "The plan predicts what it can: a write whose specialization row is missing (FK) is
// flagged for review with that reason instead of planned." Rows are stored under the legacy ids
// PLAYER and COACH, as the original system's tables hold them; the store's specializations table
// knows PLAYER but not COACH (it has LFA_COACH), and not INTERNSHIP.

const NOW = () => new Date('2026-11-25T12:00:00.000Z');

const SEED: SyncStoreSeed = {
  specializations: [
    { id: 'PLAYER', maxLevel: 8 },
    { id: 'LFA_COACH', maxLevel: 8 },
  ],
  progress: [
    { userId: 1, specializationId: 'PLAYER', level: 3 }, // progress only, under a legacy id with a row: license created
    { userId: 4, specializationId: 'LFA_COACH', level: 2 }, // both records, mismatch: repaired
  ],
  licenses: [
    { userId: 2, specializationId: 'COACH', level: 4, maxAchievedLevel: 4 }, // license only, COACH has no row: flagged
    { userId: 3, specializationId: 'INTERNSHIP', level: 2, maxAchievedLevel: 2 }, // license only, no INTERNSHIP row: flagged
    { userId: 4, specializationId: 'LFA_COACH', level: 5, maxAchievedLevel: 5 },
    { userId: 5, specializationId: 'LFA_COACH', level: 1, maxAchievedLevel: 1 }, // license only, with a row: progress created
  ],
};

/** The repository knows every canonical id (so the maxima come from it, not the fallback). */
const resolver = () =>
  createMaxLevelResolver({
    repositories: [createInMemoryMaxLevelRepository({ name: 'db', values: { GANCUJU_PLAYER: 8, LFA_COACH: 8, INTERNSHIP: 3 } })],
    fallback: false,
  });

const row = (a: SyncAction) => [a.userId, a.specializationId, a.kind, a.kind === 'FlagForReview' ? a.reasons : a.write];

describe('a write whose specialization row is missing is flagged, not planned (in-memory store)', () => {
  it('flags the creations under COACH and INTERNSHIP with SpecializationRowMissing, plans the rest, and the apply refuses nothing', async () => {
    const store = createInMemorySyncStore(SEED);
    const scan = (await scanDesyncs(store, { resolver: resolver() }))._unsafeUnwrap();
    expect(scan.specializationRows).toEqual({ table: 'specializations', ids: ['LFA_COACH', 'PLAYER'], enforced: { progress: true, license: true } });
    // The maximum of LFA_COACH came from the repository: the resolution alone could not tell that COACH has no row.
    expect(scan.maxLevels.resolutions.get('LFA_COACH')?.source).toBe('repository');
    const plan = createPlan(scan, { now: NOW })._unsafeUnwrap();
    expect(plan.actions.map(row)).toEqual([
      [1, 'GANCUJU_PLAYER', 'CreateLicense', { specializationId: 'PLAYER', level: 3, maxAchievedLevel: 3 }],
      [2, 'LFA_COACH', 'FlagForReview', ['SpecializationRowMissing', 'MissingProgress']],
      [3, 'INTERNSHIP', 'FlagForReview', ['SpecializationRowMissing', 'MissingProgress']],
      [4, 'LFA_COACH', 'SetProgressLevel', { level: 5 }],
      [5, 'LFA_COACH', 'CreateProgress', { specializationId: 'LFA_COACH', level: 1 }],
    ]);
    const flagged = plan.actions.filter((a) => a.kind === 'FlagForReview');
    expect(flagged.map((a) => (a.kind === 'FlagForReview' ? a.message : ''))).toEqual([
      'No row for specialization COACH in specializations: creating the progress record would violate its foreign key (add the row, then plan again)',
      'No row for specialization INTERNSHIP in specializations: creating the progress record would violate its foreign key (add the row, then plan again)',
    ]);
    expect(plan.warnings.filter((w) => w.includes('SpecializationRowMissing'))).toEqual([
      expect.stringMatching(/^Specialization COACH has no row in specializations: 1 pair\(s\) missing a record under it are flagged for review/),
      expect.stringMatching(/^Specialization INTERNSHIP has no row in specializations: 1 pair\(s\)/),
    ]);
    expect(renderPlan(plan)).toContain('No row for specialization COACH in specializations');

    // The plan file round-trips with the new reason, and the apply isolates no refusal: there is none.
    expect(parsePlan(JSON.stringify(plan))._unsafeUnwrap()).toEqual(plan);
    const report = (await applyPlan(plan, store))._unsafeUnwrap();
    expect(report.counts).toMatchObject({ Applied: 3, Failed: 0, Flagged: 2 });
    expect(report.status).toBe('Completed');
    const snapshot = await store.snapshot();
    expect(snapshot.progress.filter((r) => r.userId === 2 || r.userId === 3)).toEqual([]);
    console.info(`[figures] specialization-rows/in-memory: flagged=${flagged.length} applied=${report.counts.Applied} failed=${report.counts.Failed}`);
  });

  it('a streamed plan flags the same actions with the same fingerprint', async () => {
    const store = createInMemorySyncStore(SEED);
    const whole = createPlan((await scanDesyncs(store, { resolver: resolver() }))._unsafeUnwrap(), { now: NOW })._unsafeUnwrap();
    const opened = (await openDesyncScan(store, { resolver: resolver() }))._unsafeUnwrap();
    const stream = createPlanStream(opened, { now: NOW })._unsafeUnwrap();
    const actions: SyncAction[] = [];
    for await (const page of stream.pages) actions.push(...page._unsafeUnwrap().actions);
    expect(actions).toEqual(whole.actions);
    expect(stream.trailer()?.fingerprint).toBe(whole.fingerprint);
  });

  it('flags nothing when the store cannot say (read failed, or no specializationRows): the database refuses at apply, isolated', async () => {
    const failingRepository = createInMemoryMaxLevelRepository({ name: 'db', values: {} });
    failingRepository.failWith(new Error('connection refused'));
    // The repository is unreachable, so every maximum comes from the fallback constants.
    const fallbackResolver = createMaxLevelResolver({ repositories: [failingRepository] });
    const base = createInMemorySyncStore(SEED);
    const unreadable: SyncStore = Object.assign(Object.create(base) as SyncStore, {
      specializationRows: () => errAsync(storeUnavailable('memory', new Error('connection refused'), 'could not read the specializations table')),
    });
    const without: SyncStore = Object.assign(Object.create(base) as SyncStore, { specializationRows: undefined });
    const plans: Record<string, SyncPlan> = {};
    for (const [name, store] of Object.entries({ unreadable, without })) {
      const scan = (await scanDesyncs(store, { resolver: fallbackResolver }))._unsafeUnwrap();
      expect(scan.specializationRows, name).toBeUndefined();
      expect(scan.maxLevels.resolutions.get('LFA_COACH')?.source, name).toBe('fallback');
      plans[name] = createPlan(scan, { now: NOW })._unsafeUnwrap();
      expect(plans[name]!.actions.filter((a) => a.kind === 'FlagForReview'), name).toEqual([]);
      // The fallback warning is kept as it was.
      expect(plans[name]!.warnings.some((w) => /Maximum level of LFA_COACH \(8\) came from the fallback constants: .*connection refused/.test(w)), name).toBe(true);
    }
    expect(plans['unreadable']!.warnings).toContainEqual(expect.stringMatching(/^Could not read the specializations table \(.*connection refused\): records to create were not checked/));
    expect(plans['without']!.warnings.some((w) => w.includes('specializations table'))).toBe(false);
    const report = (await applyPlan(plans['unreadable']!, base))._unsafeUnwrap();
    expect(report.counts.Failed).toBe(2);
    expect(report.outcomes.filter((o) => o.status === 'Failed').map((o) => o.refusal?.sqlState)).toEqual(['23503', '23503']);
  });

  it('a side without a foreign key takes any id: nothing is flagged for it', async () => {
    const base = createInMemorySyncStore(SEED);
    const progressUnchecked: SyncStore = Object.assign(Object.create(base) as SyncStore, {
      specializationRows: async () => (await base.specializationRows!()).map((rows) => ({ ...rows, enforced: { progress: false, license: true } })),
    });
    const scan = (await scanDesyncs(progressUnchecked, { resolver: resolver() }))._unsafeUnwrap();
    const plan = createPlan(scan, { now: NOW })._unsafeUnwrap();
    expect(plan.actions.filter((a) => a.kind === 'FlagForReview')).toEqual([]);
    expect(plan.actions.filter((a) => a.kind === 'CreateProgress').map((a) => a.userId)).toEqual([2, 3, 5]);
  });
});
