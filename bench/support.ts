// Small helpers shared by the benchmark scripts: options, logging to stderr, statistics,
// database URLs, child processes and a statement-counting pool.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { pgPool, type PgConnection, type SqlQueryable } from 'levelsync/pg';

/** Fractions of the users × specializations grid that drift (see bench/dataset.ts). */
export interface DriftMix {
  /** No progress row: the license is an orphan (MissingProgress). */
  readonly missingProgress: number;
  /** Of the cells with progress, no license (MissingLicense). */
  readonly missingLicense: number;
  /** License level one off the progress level (LevelMismatch, within the maximum). */
  readonly levelDrift: number;
  /** License level two above the maximum (AboveMaxLevel). */
  readonly aboveMax: number;
}

/** The drift mix of M and L (issue 6): ≈1 % level drift, ≈0.5 % rows missing per side, ≈0.2 % above the maximum. */
export const DRIFT_M: DriftMix = { missingProgress: 0.005, missingLicense: 0.005, levelDrift: 0.01, aboveMax: 0.002 };

/**
 * The data sets. `layout`: `canonical` stores every row under the five canonical ids (M, L and
 * the drift sets); `legacy` is the original system's real state (issue 10): every row under
 * PLAYER / COACH / INTERNSHIP, the rename having skipped these tables (bench/dataset.ts).
 */
export const DATASETS = {
  /** Issue 6: 200 k users × 5 specializations, 1 M pairs, the M drift mix. */
  M: { users: 200_000, layout: 'canonical', drift: DRIFT_M },
  /** Issue 6: 1 M users × 5 specializations, 5 M pairs. */
  L: { users: 1_000_000, layout: 'canonical', drift: DRIFT_M },
  /** Issue 10: 200 k users × PLAYER / COACH / INTERNSHIP (600 k pairs), every row under a legacy id, the M drift mix. */
  legacy: { users: 200_000, layout: 'legacy', drift: DRIFT_M },
  /** Issue 10: 1 M pairs (200 k users × 5) with 20 % level drift (≈ 200 k desyncs, ≈ 210 k differing pairs). */
  drift: { users: 200_000, layout: 'canonical', drift: { ...DRIFT_M, levelDrift: 0.2 } },
  /** Issue 10, the memory figures: 1.5 M pairs (300 k users × 5), two thirds drifting: ≈ 1.0 M desyncs. */
  'drift-1m': { users: 300_000, layout: 'canonical', drift: { ...DRIFT_M, levelDrift: 0.66 } },
} as const satisfies Record<string, { readonly users: number; readonly layout: 'canonical' | 'legacy'; readonly drift: DriftMix }>;
export type DatasetName = keyof typeof DATASETS;

/** `--dataset` as typed (M, l, LEGACY, Drift-1M …) → the data set's name, or undefined. */
export function datasetNamed(text: string): DatasetName | undefined {
  const wanted = text.trim().toLowerCase();
  return (Object.keys(DATASETS) as DatasetName[]).find((name) => name.toLowerCase() === wanted);
}

/** Where the bench connects when no `--url` is given (the role must be allowed to CREATE DATABASE). */
export const DEFAULT_SERVER_URL =
  process.env['LEVELSYNC_BENCH_DATABASE_URL'] || process.env['LEVELSYNC_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

/** Progress goes to stderr so that `--json` leaves stdout to the one JSON object. */
export function log(message: string): void {
  const time = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[bench ${time}] ${message}\n`);
}

/** The median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rounds for display and JSON (3 significant decimals by default). */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Seconds since `start` (a `process.hrtime.bigint()` value). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** One statement seen by a counting connection. */
export interface CountedStatement {
  readonly text: string;
}

/**
 * Wraps a `pg.Pool` so that every statement on any of its sessions (pool queries, checked-out
 * sessions, transactions, cursor FETCHes) is counted, as `test/support/counting-client.ts` does.
 */
export function countingPool(pool: pg.Pool): { connection: PgConnection; statements: CountedStatement[]; reset(): void } {
  const statements: CountedStatement[] = [];
  const counting = (target: SqlQueryable): SqlQueryable => ({
    query: (text: string, values?: unknown[]) => {
      statements.push({ text });
      return target.query(text, values);
    },
  });
  const wrapper = {
    ...counting(pool),
    connect: async () => {
      const client = await pool.connect();
      return {
        ...counting(client),
        release: (destroy?: boolean | Error) => client.release(destroy),
        on: (event: 'error', listener: (error: Error) => void) => client.on(event, listener),
        removeListener: (event: 'error', listener: (error: Error) => void) => client.removeListener(event, listener),
      };
    },
  };
  return { connection: pgPool(wrapper), statements, reset: () => void statements.splice(0) };
}

/**
 * Runs a bench script in a child Node.js process (through tsx), so that its memory, including
 * its peak RSS, is its own. The child prints ONE JSON object on stdout; its stderr is passed
 * through. Resolves to the parsed object.
 */
export function runChild<T>(script: string, args: readonly string[]): Promise<T> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return new Promise((resolve, reject) => {
    // The children, like run.ts, measure the built package: bench/tsconfig.json has no path
    // mapping. A caller that set TSX_TSCONFIG_PATH (the bench's smoke test: the sources) keeps it.
    const env = { ...process.env, TSX_TSCONFIG_PATH: process.env['TSX_TSCONFIG_PATH'] ?? fileURLToPath(new URL('./tsconfig.json', import.meta.url)) };
    const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with code ${String(code)}`));
      try {
        resolve(JSON.parse(out) as T);
      } catch (cause) {
        reject(new Error(`${script} printed no JSON object: ${out.slice(0, 200)}`, { cause }));
      }
    });
  });
}

/** The bench's policy: progress is the truth for a level mismatch, as the original job did. */
export const BENCH_POLICY = {
  direction: 'progress-to-license',
  allowDemotion: true,
  missing: 'flag',
  aboveMax: 'flag',
} as const;

/** Evenly spaced elements of a list (keys spread over the whole table, the costliest case for EXPLAIN). */
export function spread<T>(list: readonly T[], count: number): T[] {
  if (list.length <= count) return [...list];
  const step = list.length / count;
  return Array.from({ length: count }, (_, i) => list[Math.floor(i * step)]!);
}
