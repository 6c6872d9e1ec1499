import type pg from 'pg';
import type { SqlRunner } from 'levelsync/pg';
import { createPrng } from '../../../src/cli/demo/prng.js';

/**
 * Settings of the reliability suite. Short by default (the whole folder in about three minutes
 * on a 2-core machine); `LEVELSYNC_RELIABILITY=long` runs more rows, rounds and fault points.
 * `LEVELSYNC_RELIABILITY_SEED=<n>` replays a run (every test prints the seed it used).
 */
export const LONG = process.env['LEVELSYNC_RELIABILITY'] === 'long';

/** The short or the long value. */
export function scale<T>(short: T, long: T): T {
  return LONG ? long : short;
}

/** The seed of this run: from the environment, or fresh (and printed with the figures). */
export const SEED: number = (() => {
  const given = Number(process.env['LEVELSYNC_RELIABILITY_SEED']);
  return Number.isSafeInteger(given) && given > 0 ? given : 1 + Math.floor(Math.random() * 2_000_000_000);
})();

/** Per-test timeout: generous, never a timing assertion. */
export const TEST_TIMEOUT = scale(150_000, 1_500_000);

/**
 * Prints one line with the figures a test checked, so that a reader sees the load it held:
 * `[reliability] concurrency/levelsync: runs=16 writes=2210 … seed=123`.
 */
export function printFigures(test: string, figures: Readonly<Record<string, number | string | boolean>>): void {
  const parts = Object.entries(figures).map(([key, value]) => `${key}=${String(value)}`);
  console.log(`[reliability] ${test} (${LONG ? 'long' : 'short'}): ${parts.join(' ')} seed=${SEED}`);
}

/** A small seeded PRNG (mulberry32): the same seed gives the same run. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** A weighted choice among `[item, weight]` entries. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T;
  /** `k` distinct items (fewer when there are fewer). */
  sample<T>(items: readonly T[], k: number): T[];
  chance(p: number): boolean;
}

export function createRng(seed: number): Rng {
  // The demo's mulberry32 (a seed of 0 counts as 1, as the first runs of this suite did).
  const { next, int, chance, weighted, shuffle } = createPrng(seed >>> 0 || 1);
  return {
    next,
    int,
    chance,
    pick: (items) => items[int(0, items.length - 1)]!,
    weighted: (entries) => entries[weighted(entries.map(([, weight]) => weight))]![0],
    sample: (items, k) => shuffle(items).slice(0, Math.min(k, items.length)),
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A `SqlRunner` over a pool or a client (for the test's own SQL). */
export function runnerOf(client: pg.Pool | pg.PoolClient): SqlRunner {
  return async (text, values) => {
    const result = await client.query(text, values === undefined ? undefined : [...values]);
    return { rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? result.rows.length };
  };
}

/** The backends of `applicationName` in this database that wait on a lock (their pids). */
export async function lockWaiters(admin: pg.Pool, applicationName: string): Promise<number[]> {
  const result = await admin.query(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`,
    [applicationName],
  );
  return result.rows.map((row) => Number(row.pid));
}

/** Waits (polling) until a backend of `applicationName` waits on a lock; null when `done()` says the work ended first. */
export async function waitForLockWait(admin: pg.Pool, applicationName: string, done: () => boolean, timeoutMs = 20_000): Promise<number | null> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const pids = await lockWaiters(admin, applicationName);
    if (pids.length > 0) return pids[0]!;
    if (done()) return null;
    await sleep(5);
  }
  throw new Error(`no backend of ${applicationName} waited on a lock within ${timeoutMs} ms`);
}

/** Counts of values, e.g. of string keys. */
export function countBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Sorted multiset difference, for readable assertion messages: what `a` has that `b` lacks. */
export function multisetMinus(a: readonly string[], b: readonly string[]): string[] {
  const counts = countBy(b, (x) => x);
  const out: string[] = [];
  for (const x of a) {
    const n = counts.get(x) ?? 0;
    if (n > 0) counts.set(x, n - 1);
    else out.push(x);
  }
  return out.sort();
}
