import { isAbsolute, relative, resolve } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { maskUrlPassword } from '../_internal/redact-secrets.js';
import { usageFailure, type CliFailure } from './cli-failure.js';

/** The default folder of the embedded database, under the working directory. */
export const DEFAULT_DATA_DIR = '.levelsync/data';

/** Where the command's data lives. `display` is safe to print: it never holds a password. */
export type ConnectionTarget =
  | {
      readonly kind: 'server';
      readonly url: string;
      readonly display: string;
      /** The password of the URL, so that output can mask it wherever it might appear. */
      readonly password: string | null;
      readonly from: '--database-url' | 'DATABASE_URL';
    }
  | { readonly kind: 'embedded'; readonly dataDir: string; readonly display: string };

/**
 * Picks the database: `--database-url`, else `DATABASE_URL`, else the embedded database in
 * `--data-dir` (default `.levelsync/data`). A URL is validated; a bad one is a usage error that
 * never echoes the URL (it may hold a password).
 */
export function resolveTarget(
  options: { readonly databaseUrl?: string; readonly dataDir?: string },
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  defaults: { readonly dataDir?: string; readonly ignoreEnv?: boolean } = {},
): Result<ConnectionTarget, CliFailure> {
  if (options.databaseUrl !== undefined) return parseDatabaseUrl(options.databaseUrl, '--database-url');
  const fromEnv = defaults.ignoreEnv ? undefined : env.DATABASE_URL;
  if (options.dataDir === undefined && fromEnv !== undefined && fromEnv.trim() !== '') return parseDatabaseUrl(fromEnv, 'DATABASE_URL');
  const dir = options.dataDir ?? defaults.dataDir ?? DEFAULT_DATA_DIR;
  const dataDir = resolve(cwd, dir);
  const shown = relative(cwd, dataDir);
  const display = shown === '' ? '.' : shown.startsWith('..') || isAbsolute(shown) ? dataDir : shown;
  return ok({ kind: 'embedded', dataDir, display });
}

/** Validates a PostgreSQL URL and derives a printable form with the password masked. */
export function parseDatabaseUrl(text: string, from: '--database-url' | 'DATABASE_URL'): Result<ConnectionTarget, CliFailure> {
  const expected = 'expected a URL like postgres://user@host:5432/database (a password, if any, as user:password@host)';
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return err(usageFailure(`${from} is not a valid URL: ${expected}`));
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return err(usageFailure(`${from} must start with postgres:// or postgresql:// (got ${url.protocol}//…): ${expected}`));
  }
  if (url.hostname === '' && !url.searchParams.has('host')) {
    return err(usageFailure(`${from} has no host: ${expected}`));
  }
  if (url.pathname.length > 1 && /[/\\]/.test(decodeSafely(url.pathname.slice(1)))) {
    return err(usageFailure(`${from} has a malformed database name: ${expected}`));
  }
  const password = url.password !== '' ? decodeSafely(url.password) : url.searchParams.get('password');
  const display = maskUrlPassword(url);
  return ok({ kind: 'server', url: text.trim(), display, password: password !== null && password !== '' ? password : null, from });
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
