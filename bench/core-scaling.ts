// core_diff_scaling: the in-memory core (`diff` then `createPlan`) on 1 M generated pairs,
// divided by the same on 100 k pairs. Linear scaling gives 10. Pairs are generated in memory
// (no database) with the bench drift, outside the timing; each size is timed `--reps` times
// after one warm-up run, and the medians are compared.
//
//   tsx bench/core-scaling.ts [--reps 3]
//
// Prints one JSON object on stdout.
import { parseArgs } from 'node:util';
import { createPlan, diff, type SyncPair } from 'levelsync';
// The demo's seeded PRNG (mulberry32), so every run diffs the same pairs.
import { createPrng } from '../src/cli/demo/prng.js';
import { BENCH_SPECIALIZATIONS, DRIFT } from './dataset.js';
import { BENCH_POLICY, median, peakRssMiB, secondsSince } from './support.js';

export interface CoreScaling {
  readonly smallPairs: number;
  readonly largePairs: number;
  readonly smallSeconds: readonly number[];
  readonly largeSeconds: readonly number[];
  readonly smallMedian: number;
  readonly largeMedian: number;
  readonly scaling: number;
  readonly smallDesyncs: number;
  readonly largeDesyncs: number;
  readonly peakRssMiB: number;
}

/** `count` pairs in key order (user, specialization), drifted as the database data set. */
export function generatePairs(count: number, seed = 42): SyncPair[] {
  const random = createPrng(seed).next;
  const specs = BENCH_SPECIALIZATIONS;
  const pairs: SyncPair[] = [];
  for (let i = 0; i < count; i++) {
    const spec = specs[i % specs.length]!;
    const userId = Math.floor(i / specs.length) + 1;
    const level = 1 + Math.floor(random() * spec.maxLevel);
    const r = random();
    const progress = [{ specializationId: spec.id, level, xp: level * 10_000, sessions: level * 5 }];
    if (r < DRIFT.missingProgress) {
      pairs.push({ userId, specializationId: spec.id, progress: [], licenses: [{ specializationId: spec.id, level, maxAchievedLevel: level }] });
      continue;
    }
    if (r < DRIFT.missingProgress + DRIFT.missingLicense) {
      pairs.push({ userId, specializationId: spec.id, progress, licenses: [] });
      continue;
    }
    const d = random();
    const licenseLevel = d < DRIFT.levelDrift ? (level < spec.maxLevel ? level + 1 : level - 1) : d < DRIFT.levelDrift + DRIFT.aboveMax ? spec.maxLevel + 2 : level;
    pairs.push({ userId, specializationId: spec.id, progress, licenses: [{ specializationId: spec.id, level: licenseLevel, maxAchievedLevel: licenseLevel }] });
  }
  return pairs;
}

const maxLevels = new Map(BENCH_SPECIALIZATIONS.map((s) => [s.id, s.maxLevel]));
const context = { maxLevelOf: (id: string) => maxLevels.get(id) };

/** One timed run of diff + createPlan; returns seconds and the number of desyncs. */
function diffAndPlan(pairs: readonly SyncPair[]): { seconds: number; desyncs: number } {
  const started = process.hrtime.bigint();
  const desyncs = diff(pairs, context);
  const plan = createPlan(desyncs, { policy: BENCH_POLICY, now: () => new Date(0) });
  if (plan.isErr()) throw new Error(plan.error.message);
  return { seconds: secondsSince(started), desyncs: desyncs.length };
}

export function measureCoreScaling(reps: number): CoreScaling {
  const small = generatePairs(100_000);
  const large = generatePairs(1_000_000);
  diffAndPlan(small); // warm-up: JIT and inline caches
  diffAndPlan(large);
  const smallSeconds: number[] = [];
  const largeSeconds: number[] = [];
  let smallDesyncs = 0;
  let largeDesyncs = 0;
  for (let i = 0; i < reps; i++) {
    const s = diffAndPlan(small);
    smallSeconds.push(s.seconds);
    smallDesyncs = s.desyncs;
    const l = diffAndPlan(large);
    largeSeconds.push(l.seconds);
    largeDesyncs = l.desyncs;
  }
  const smallMedian = median(smallSeconds);
  const largeMedian = median(largeSeconds);
  return {
    smallPairs: small.length,
    largePairs: large.length,
    smallSeconds,
    largeSeconds,
    smallMedian,
    largeMedian,
    scaling: largeMedian / smallMedian,
    smallDesyncs,
    largeDesyncs,
    peakRssMiB: peakRssMiB(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { reps: { type: 'string' } } });
  process.stdout.write(`${JSON.stringify(measureCoreScaling(Number(values.reps ?? 3)))}\n`);
}
