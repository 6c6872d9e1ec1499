// The levelsync CLI as users run it: the built `node dist/cli.js`, one process per command, timed
// from spawn to exit (Node start-up, connection, resolution, scan, plan, apply, output), with
// that process's peak RSS (bench/rss-probe.cjs) and the size of what it printed.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { BENCH_POLICY, secondsSince } from './support.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
/** The smoke test runs everything on the sources (no build): LEVELSYNC_BENCH_CLI=sources runs src/cli/main.ts through tsx. */
const FROM_SOURCES = process.env['LEVELSYNC_BENCH_CLI'] === 'sources';
const PROBE = fileURLToPath(new URL('./rss-probe.cjs', import.meta.url));

/** One CLI process. */
export interface CliRun {
  readonly command: string;
  readonly seconds: number;
  /** Peak RSS of the CLI process, MiB (null if it died before its exit handler ran). */
  readonly peakRssMiB: number | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdoutBytes: number;
  /** stdout, when it is at most `keepStdout` bytes (parsing a 350 MB `--json` is not the point). */
  readonly stdout: string | null;
  /** The last 2 000 characters of stderr (for failures). */
  readonly stderrTail: string;
}

/** The bench policy as CLI flags (the same policy the library contender uses). */
export const CLI_POLICY_FLAGS: readonly string[] = [
  '--direction', BENCH_POLICY.direction,
  ...(BENCH_POLICY.allowDemotion ? ['--allow-demotion'] : []),
  '--missing', BENCH_POLICY.missing,
  '--above-max', BENCH_POLICY.aboveMax,
];

/** Connection flags: the bench database, the original system's tables. */
export function cliConnection(databaseUrl: string): string[] {
  return ['--database-url', databaseUrl, '--mapping', 'original'];
}

/** Runs `node dist/cli.js <args>` with the RSS probe; resolves when it exits (any exit code). */
export function runCli(args: readonly string[], options: { readonly scratch: string; readonly keepStdout?: number }): Promise<CliRun> {
  if (!FROM_SOURCES && !existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  // tsx by URL: the CLI runs with the scratch folder as its working directory, where `tsx` does not resolve.
  const entry = FROM_SOURCES ? ['--import', import.meta.resolve('tsx'), join(ROOT, 'src', 'cli', 'main.ts')] : [CLI];
  const rssFile = join(options.scratch, `rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const keep = options.keepStdout ?? 8 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--require', PROBE, ...entry, ...args], {
      cwd: options.scratch,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LEVELSYNC_BENCH_RSS_FILE: rssFile, NO_COLOR: '1' },
    });
    const kept: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= keep) kept.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2_000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = secondsSince(started);
      let peakRssMiB: number | null = null;
      if (existsSync(rssFile)) {
        peakRssMiB = Number(readFileSync(rssFile, 'utf8')) / 1024;
        rmSync(rssFile, { force: true });
      }
      resolve({
        command: args[0] ?? '',
        seconds,
        peakRssMiB,
        exitCode: code,
        signal,
        stdoutBytes: bytes,
        stdout: bytes <= keep ? Buffer.concat(kept).toString('utf8') : null,
        stderrTail: stderr,
      });
    });
  });
}

/**
 * A CLI run failed when it exited 2 or above, or on a signal; exit 1 means "needs attention",
 * unless nothing reached stdout (Node's own exit code for an uncaught exception is 1 too).
 */
export function cliFailed(run: CliRun): boolean {
  return run.exitCode === null || run.exitCode >= 2 || (run.exitCode === 1 && run.stdoutBytes === 0);
}

/** One line for the log. */
export function describeCli(run: CliRun): string {
  const rss = run.peakRssMiB === null ? '?' : run.peakRssMiB.toFixed(0);
  const exit = run.signal ? `signal ${run.signal}` : `exit ${String(run.exitCode)}`;
  return `${run.command}: ${run.seconds.toFixed(2)} s, peak RSS ${rss} MiB, ${run.stdoutBytes.toLocaleString('en')} bytes out, ${exit}` +
    (cliFailed(run) ? ` — ${run.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : '');
}

/** What the license history and the licenses look like, to tell whether a run wrote anything. */
export interface WriteMark {
  readonly historyRows: number;
  readonly lastLicenseUpdate: string | null;
  readonly lastProgressUpdate: string | null;
}

/** Reads the write mark (history row count, latest `updated_at` on both tables). */
export async function writeMark(client: pg.Client): Promise<WriteMark> {
  const row = (
    await client.query(
      `SELECT (SELECT count(*) FROM license_progressions)::int AS h,
              (SELECT max(updated_at)::text FROM user_licenses) AS l,
              (SELECT max(updated_at)::text FROM specialization_progress) AS p`,
    )
  ).rows[0] as { h: number; l: string | null; p: string | null };
  return { historyRows: row.h, lastLicenseUpdate: row.l, lastProgressUpdate: row.p };
}
