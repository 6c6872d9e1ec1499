import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = `${ROOT}src/cli/main.ts`;
const TSX = pathToFileURL(`${ROOT}node_modules/tsx/dist/loader.mjs`).href;

/** The server the PostgreSQL tests use, or undefined (those tests are then skipped). */
export const SERVER_URL = process.env.LEVELSYNC_TEST_DATABASE_URL;
export const SKIP_SERVER_REASON = 'LEVELSYNC_TEST_DATABASE_URL is not set: the PostgreSQL-server CLI tests are skipped (set it to e.g. postgres://postgres@127.0.0.1:5432/test)';

/** The password the tests put in URLs; the server trusts local connections, so it is never checked. */
export const SECRET = 'secret-password';

/** The server URL with a password added (trust auth ignores it), to check it is never printed. */
export function urlWithPassword(base: string, password = SECRET): string {
  const url = new URL(base);
  if (url.username === '') url.username = 'postgres';
  url.password = password;
  return url.toString();
}

export interface ProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Every output the tests saw, to check that no password ever appeared in any of them. */
export const transcript: string[] = [];

/**
 * Runs `node --import tsx src/cli/main.ts …` (no build needed) in `cwd`, with a minimal
 * environment: no DATABASE_URL unless given, no colours forced, stdout/stderr not a terminal.
 */
export function runLevelsync(args: readonly string[], options: { readonly cwd: string; readonly env?: Record<string, string> }): Promise<ProcessResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...(options.env ?? {}) };
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: options.cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: 170_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : -1;
      transcript.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A schema name no other test run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A pool on the test server, for seeding and inspecting what the CLI did. */
export function serverPool(): pg.Pool {
  return new pg.Pool({ connectionString: SERVER_URL, max: 2 });
}

/** Drops schemas this test created (and only those). */
export async function dropSchemas(pool: pg.Pool, schemas: readonly string[]): Promise<void> {
  for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
