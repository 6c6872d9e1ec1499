import { describe, expect, it } from 'vitest';
import { diff, type SyncPair } from 'levelsync';
import fc from 'fast-check';
import { checkHealth } from 'levelsync';
import type { LicenseRowData, ProgressRowData } from '../../src/testing/store-snapshot.js';
import { checkHealthStreaming, healthReport } from '../../src/sync/health.js';
import { store, testResolver } from './fixtures.js';

const max = () => 8;
const pairs = (n: number, broken: number): SyncPair[] =>
  Array.from({ length: n }, (_, i) => ({
    userId: i + 1,
    specializationId: 'LFA_COACH',
    progress: [{ specializationId: 'LFA_COACH', level: 2, xp: 0, sessions: 0 }],
    licenses: i < broken ? [] : [{ specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 }],
  }));

describe('healthReport', () => {
  it.each([
    [1000, 10, 'healthy', 99],
    [1000, 11, 'degraded', 98.9],
    [1000, 50, 'degraded', 95],
    [1000, 51, 'critical', 94.9],
  ])('%i pairs with %i broken is %s (%f %%)', (n, broken, status, rate) => {
    const report = healthReport({ totalPairs: n, desyncs: diff(pairs(n, broken), { maxLevelOf: max }) });
    expect(report).toMatchObject({ status, consistencyRate: rate, inconsistentPairs: broken, requiresAttention: status !== 'healthy' });
  });

  it('is healthy at 100 % with no pairs', () => {
    expect(healthReport({ totalPairs: 0, desyncs: [] })).toMatchObject({ consistencyRate: 100, status: 'healthy' });
  });

  it('counts a pair with several desyncs once, and legacy ids not at all', () => {
    const desyncs = diff(
      [
        {
          userId: 1,
          specializationId: 'INTERNSHIP',
          progress: [{ specializationId: 'INTERNSHIP', level: 4, xp: 0, sessions: 0 }],
          licenses: [{ specializationId: 'INTERNSHIP', level: 5, maxAchievedLevel: 1 }],
        },
        {
          userId: 2,
          specializationId: 'GANCUJU_PLAYER',
          progress: [{ specializationId: 'PLAYER', level: 1, xp: 0, sessions: 0 }],
          licenses: [{ specializationId: 'GANCUJU_PLAYER', level: 1, maxAchievedLevel: 1 }],
        },
      ],
      { maxLevelOf: (id) => (id === 'INTERNSHIP' ? 3 : 8), listLegacy: true },
    );
    const report = healthReport({ totalPairs: 2, desyncs });
    expect(report.inconsistentPairs).toBe(1);
    expect(report.byKind.LegacySpecializationId).toBe(1);
    expect(report.byKind.AboveMaxLevel).toBe(2);
  });

  it('tells the user ids 7 and "7" apart: two pairs, not one', () => {
    const missingLicense = (userId: number | string): SyncPair => ({
      userId,
      specializationId: 'LFA_COACH',
      progress: [{ specializationId: 'LFA_COACH', level: 2, xp: 0, sessions: 0 }],
      licenses: [],
    });
    const report = healthReport({ totalPairs: 2, desyncs: diff([missingLicense(7), missingLicense('7')], { maxLevelOf: max }) });
    expect(report.inconsistentPairs).toBe(2);
    expect(report.consistentPairs).toBe(0);
  });
});

describe('checkHealthStreaming (what `levelsync health` uses)', () => {
  // Random tables of a few users and specializations, legacy ids and duplicates included, read in
  // pages of 1 to 5 pairs: the streamed count must equal checkHealth's, which keeps every desync.
  const SPECS = ['LFA_COACH', 'COACH', 'GANCUJU_PLAYER', 'PLAYER', 'INTERNSHIP'] as const;
  const level = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 8 }) }, { weight: 1, arbitrary: fc.constantFrom<number | null>(null, 0, 9) });
  const row = fc.record({
    userId: fc.integer({ min: 1, max: 12 }),
    spec: fc.constantFrom(...SPECS),
    side: fc.constantFrom('progress', 'license', 'both'),
    progressLevel: level,
    licenseLevel: level,
  });
  it('reports exactly what checkHealth reports, without the desyncs, whatever the page size', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 40 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), async (rows, pageSize, listLegacy) => {
        const progress: ProgressRowData[] = [];
        const licenses: LicenseRowData[] = [];
        for (const r of rows) {
          if (r.side !== 'license') progress.push({ userId: r.userId, specializationId: r.spec, level: r.progressLevel, xp: 0, sessions: 0 });
          if (r.side !== 'progress') licenses.push({ userId: r.userId, specializationId: r.spec, level: r.licenseLevel, maxAchievedLevel: r.licenseLevel });
        }
        const options = { resolver: testResolver(), pageSize, ...(listLegacy ? { listLegacy: true } : {}) };
        const full = (await checkHealth(store({ progress, licenses }), options))._unsafeUnwrap();
        const streamed = (await checkHealthStreaming(store({ progress, licenses }), options))._unsafeUnwrap();
        const { desyncs, checkedAt: _a, ...expected } = full;
        const { checkedAt: _b, ...actual } = streamed;
        expect(actual).toEqual(expected);
        expect(streamed.inconsistentPairs).toBe(new Set(desyncs.filter((d) => d.kind !== 'LegacySpecializationId').map((d) => `${d.userId}/${d.specializationId}`)).size);
      }),
      { numRuns: 150 },
    );
  });
});
