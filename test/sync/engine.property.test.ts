import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyPlan,
  createPlan,
  isInformational,
  isWriteAction,
  scanDesyncs,
  type SyncPlan,
  type SyncPolicyInput,
} from 'levelsync';
import { formatPairKey } from '../../src/sync/pair-key.js';
import type { InMemorySyncStore, LicenseRowData, ProgressRowData } from 'levelsync/testing';
import { store, testResolver } from './fixtures.js';

const SPECS = ['GANCUJU_PLAYER', 'PLAYER', 'LFA_COACH', 'INTERNSHIP', 'MYSTERY'] as const;
const MAX: Record<string, number> = { GANCUJU_PLAYER: 8, PLAYER: 8, LFA_COACH: 8, INTERNSHIP: 3 };
const canonical = (id: string) => (id === 'PLAYER' ? 'GANCUJU_PLAYER' : id);

const level = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom<number | null>(null, 0, -1, 2.5, 9, 10) },
);
const row = fc.record({
  userId: fc.integer({ min: 1, max: 12 }),
  spec: fc.constantFrom(...SPECS),
  hasProgress: fc.boolean(),
  hasLicense: fc.boolean(),
  progressLevel: level,
  licenseLevel: level,
  maxDelta: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.constantFrom<number | null>(-1, null) }),
  duplicate: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});
const data = fc.array(row, { maxLength: 40 }).map((rows) => {
  const progress: ProgressRowData[] = [];
  const licenses: LicenseRowData[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    // One row per stored key (a unique key, as in a database), except explicit duplicates.
    const key = `${r.userId}/${r.spec}`;
    if (seen.has(key) && !r.duplicate) continue;
    seen.add(key);
    if (r.hasProgress) progress.push({ userId: r.userId, specializationId: r.spec, level: r.progressLevel, xp: 100, sessions: 2 });
    if (r.hasLicense || !r.hasProgress) {
      const max = r.maxDelta === null || r.licenseLevel === null ? null : r.licenseLevel + r.maxDelta;
      licenses.push({ userId: r.userId, specializationId: r.spec, level: r.licenseLevel, maxAchievedLevel: max });
    }
  }
  return { progress, licenses };
});
const policy: fc.Arbitrary<SyncPolicyInput> = fc.record(
  {
    direction: fc.constantFrom('higher-wins', 'progress-to-license', 'license-to-progress'),
    allowDemotion: fc.boolean(),
    missing: fc.constantFrom('create', 'flag'),
    aboveMax: fc.constantFrom('flag', 'clamp'),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<SyncPolicyInput>;

async function planOf(s: InMemorySyncStore, p: SyncPolicyInput): Promise<SyncPlan> {
  const scan = (await scanDesyncs(s, { resolver: testResolver() }))._unsafeUnwrap();
  return createPlan(scan, { policy: p })._unsafeUnwrap();
}
async function problemKeys(s: InMemorySyncStore): Promise<Set<string>> {
  const scan = (await scanDesyncs(s, { resolver: testResolver() }))._unsafeUnwrap();
  return new Set(scan.desyncs.filter((d) => !isInformational(d)).map(formatPairKey));
}
const levelOf = (rows: readonly { userId: number | string; specializationId: string; level: number | null }[]) =>
  new Map(rows.map((r) => [`${String(r.userId)}/${r.specializationId}`, r.level]));

describe('sync engine invariants (property-based, in-memory store)', () => {
  it('after applying a plan, a new diff holds exactly the pairs the plan flagged for review', async () => {
    await fc.assert(
      fc.asyncProperty(data, policy, fc.integer({ min: 1, max: 10 }), async (seed, p, batchSize) => {
        const s = store(seed);
        const plan = await planOf(s, p);
        const report = (await applyPlan(plan, s, { batchSize }))._unsafeUnwrap();
        expect(report.counts.Stale + report.counts.Failed).toBe(0);
        const flagged = new Set(plan.actions.filter((a) => a.kind === 'FlagForReview').map(formatPairKey));
        expect(await problemKeys(s)).toEqual(flagged);
      }),
      { numRuns: 300 },
    );
  });

  it('applying the same plan again writes nothing and adds no history', async () => {
    await fc.assert(
      fc.asyncProperty(data, policy, async (seed, p) => {
        const s = store(seed);
        const plan = await planOf(s, p);
        await applyPlan(plan, s);
        const once = s.snapshot();
        const again = (await applyPlan(plan, s))._unsafeUnwrap();
        expect(again.counts.Applied).toBe(0);
        expect(s.snapshot()).toEqual(once);
      }),
      { numRuns: 200 },
    );
  });

  it('no action writes a level below 1 or above the maximum; maxAchievedLevel never decreases', async () => {
    await fc.assert(
      fc.asyncProperty(data, policy, async (seed, p) => {
        const s = store(seed);
        const before = s.snapshot();
        const plan = await planOf(s, p);
        for (const action of plan.actions.filter(isWriteAction)) {
          expect(action.write.level).toBeGreaterThanOrEqual(1);
          expect(action.write.level).toBeLessThanOrEqual(MAX[canonical(action.specializationId)]!);
          expect(Number.isInteger(action.write.level)).toBe(true);
        }
        await applyPlan(plan, s);
        const group = (rows: readonly { userId: number | string; specializationId: string; maxAchievedLevel: number | null }[]) => {
          const map = new Map<string, number[]>();
          for (const r of rows) {
            const key = `${r.userId}/${r.specializationId}`;
            map.set(key, [...(map.get(key) ?? []), typeof r.maxAchievedLevel === 'number' ? r.maxAchievedLevel : -Infinity].sort((a, b) => a - b));
          }
          return map;
        };
        const after = group(s.snapshot().licenses);
        for (const [key, values] of group(before.licenses)) {
          const now = after.get(key)!;
          values.forEach((value, i) => expect(now[i]).toBeGreaterThanOrEqual(value));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('under the default policy no level ever decreases', async () => {
    await fc.assert(
      fc.asyncProperty(data, async (seed) => {
        const s = store(seed);
        const before = s.snapshot();
        await applyPlan(await planOf(s, {}), s);
        const after = s.snapshot();
        for (const [side, rows] of [['progress', before.progress], ['license', before.licenses]] as const) {
          const now = levelOf(side === 'progress' ? after.progress : after.licenses);
          for (const [key, level] of levelOf(rows)) {
            if (typeof level === 'number') expect(now.get(key)).toBeGreaterThanOrEqual(level);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('every license level change writes exactly one progression row', async () => {
    await fc.assert(
      fc.asyncProperty(data, policy, async (seed, p) => {
        const s = store(seed);
        const before = levelOf(s.snapshot().licenses);
        await applyPlan(await planOf(s, p), s);
        const after = s.snapshot();
        const changed = [...levelOf(after.licenses)].filter(([key, level]) => !before.has(key) || before.get(key) !== level);
        expect(after.progressions).toHaveLength(changed.length);
        for (const [key, level] of changed) {
          const history = after.progressions.filter((h) => `${h.userId}/${h.specializationId}` === key);
          expect(history).toEqual([expect.objectContaining({ fromLevel: before.has(key) ? before.get(key) : null, toLevel: level })]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a dry run writes nothing and reports exactly the write actions as Planned', async () => {
    await fc.assert(
      fc.asyncProperty(data, policy, async (seed, p) => {
        const s = store(seed);
        const before = s.snapshot();
        const plan = await planOf(s, p);
        const report = (await applyPlan(plan, s, { dryRun: true }))._unsafeUnwrap();
        expect(s.snapshot()).toEqual(before);
        const planned = report.outcomes.filter((o) => o.status === 'Planned').map((o) => o.index);
        expect(planned).toEqual(plan.actions.flatMap((a, i) => (isWriteAction(a) ? [i] : [])));
      }),
      { numRuns: 200 },
    );
  });

  it('if k planned pairs change between plan and apply, exactly those k are Stale (or AlreadyApplied, when the change is what the plan writes) and left as changed', async () => {
    await fc.assert(
      fc.asyncProperty(data, policy, fc.integer({ min: 0, max: 2 ** 31 }), async (seed, p, pick) => {
        const s = store(seed);
        const plan = await planOf(s, p);
        const writes = plan.actions.filter(isWriteAction);
        const pairs = [...new Map(writes.map((a) => [formatPairKey(a), a])).values()];
        const k = pairs.length === 0 ? 0 : pick % (pairs.length + 1);
        const changed = pairs.slice(0, k);
        // A concurrent writer touches one side of each of the k pairs.
        for (const a of changed) {
          const side = a.expected.license ? 'license' : 'progress';
          const rowState = side === 'license' ? a.expected.license! : a.expected.progress!;
          const old = rowState.level;
          s.setLevel(side, a.userId, rowState.specializationId, typeof old === 'number' && old < 7 ? old + 1 : 1);
        }
        const disturbed = s.snapshot();
        const report = (await applyPlan(plan, s, { batchSize: 3 }))._unsafeUnwrap();
        const stalePairs = new Set(
          report.outcomes.filter((o) => o.status === 'Stale' || o.status === 'AlreadyApplied').map((o) => formatPairKey(plan.actions[o.index]!)),
        );
        expect(stalePairs).toEqual(new Set(changed.map(formatPairKey)));
        const after = s.snapshot();
        for (const a of changed) {
          const key = (r: { userId: number | string; specializationId: string }) => formatPairKey({ userId: r.userId, specializationId: canonical(r.specializationId) });
          const mine = (rows: readonly { userId: number | string; specializationId: string }[]) => rows.filter((r) => key(r) === formatPairKey(a));
          expect(mine(after.progress)).toEqual(mine(disturbed.progress));
          expect(mine(after.licenses)).toEqual(mine(disturbed.licenses));
        }
      }),
      { numRuns: 200 },
    );
  });
});
