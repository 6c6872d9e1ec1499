import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { Pool } from 'pg';
import { err, ok, type Result } from 'neverthrow';
import { describeCause } from '../index.js';
import { configFailure, type CliFailure } from './cli-failure.js';
import type { CliOutput } from './cli-io.js';
import type { ConnectionTarget } from './connection-target.js';

/** An open database: a `pg.Pool` on a server, or an in-process PGlite. Close it exactly once. */
export type OpenDatabase =
  | { readonly kind: 'server'; readonly target: ConnectionTarget & { kind: 'server' }; readonly pool: Pool; close(): Promise<void> }
  | {
      readonly kind: 'embedded';
      readonly target: ConnectionTarget & { kind: 'embedded' };
      readonly db: PGlite;
      /** True when this call created the database (first start: initdb). */
      readonly created: boolean;
      close(): Promise<void>;
    };

/** True when the folder holds a PostgreSQL data directory. */
export function isDataDir(dir: string): boolean {
  return existsSync(join(dir, 'PG_VERSION'));
}

/**
 * Connects to the target. A server is checked with one query so that a wrong host, port,
 * database or password fails here, once, as a configuration error. The embedded database is
 * opened from its folder; it is created only when `create` is true (`migrate`, `demo`),
 * otherwise a missing one is a configuration error that says how to make it.
 */
export async function openDatabase(
  target: ConnectionTarget,
  out: CliOutput,
  options: { readonly create: boolean },
): Promise<Result<OpenDatabase, CliFailure>> {
  if (target.kind === 'server') {
    if (target.password !== null) out.addSecret(target.password);
    let pg: typeof import('pg');
    try {
      pg = (await import('pg')).default as unknown as typeof import('pg');
    } catch {
      return err(configFailure('the `pg` package is needed to talk to a PostgreSQL server: run npm install pg'));
    }
    const pool: Pool = new pg.Pool({ connectionString: target.url, max: 4, connectionTimeoutMillis: 15_000, application_name: 'levelsync' });
    // An idle client that loses its connection must not crash the process with an unhandled error.
    pool.on('error', (cause) => out.warn(`database connection lost: ${describeCause(cause)}`));
    try {
      await pool.query('SELECT 1');
    } catch (cause) {
      await pool.end().catch(() => {});
      return err(configFailure(`cannot connect to ${target.display}: ${describeCause(cause)} (check --database-url or DATABASE_URL)`));
    }
    let closed = false;
    return ok({
      kind: 'server',
      target,
      pool,
      close: async () => {
        if (closed) return;
        closed = true;
        await pool.end().catch(() => {});
      },
    });
  }

  const exists = isDataDir(target.dataDir);
  if (!exists) {
    if (existsSync(target.dataDir) && readdirSync(target.dataDir).length > 0) {
      return err(configFailure(`${target.display} exists but is not an embedded levelsync database: choose another --data-dir`));
    }
    if (!options.create) {
      return err(
        configFailure(
          `no embedded database in ${target.display}: run \`levelsync migrate\` to create one, \`levelsync demo\` to try levelsync, or pass --database-url`,
        ),
      );
    }
  }
  let PGliteClass: typeof import('@electric-sql/pglite').PGlite;
  try {
    PGliteClass = (await import('@electric-sql/pglite')).PGlite;
  } catch {
    return err(configFailure('the `@electric-sql/pglite` package is needed for the embedded database: run npm install @electric-sql/pglite'));
  }
  const stopTicker = startTicker(
    out,
    exists
      ? `Opening the embedded database in ${target.display} (PGlite)`
      : `Creating an embedded PostgreSQL (PGlite) in ${target.display}; the first start takes 5–20 s`,
  );
  let db: PGlite;
  try {
    if (!exists) mkdirSync(target.dataDir, { recursive: true });
    db = await PGliteClass.create(target.dataDir);
  } catch (cause) {
    stopTicker(false);
    return err(configFailure(`cannot open the embedded database in ${target.display}: ${describeCause(cause)}`));
  }
  stopTicker(true);
  let closed = false;
  return ok({
    kind: 'embedded',
    target,
    db,
    created: !exists,
    close: async () => {
      if (closed) return;
      closed = true;
      await db.close().catch(() => {});
    },
  });
}

/**
 * Says what is happening while a slow step runs: on a terminal, one line that counts seconds;
 * otherwise one line before and one after.
 */
export function startTicker(out: CliOutput, message: string): (success: boolean) => void {
  const started = Date.now();
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
  if (!out.interactive) {
    out.info(`${message}…`);
    return (success) => {
      if (success) out.info(`  ready in ${seconds()} s`);
    };
  }
  const render = () => out.stderr.write(`\r${out.scrub(message)}… ${Math.floor((Date.now() - started) / 1000)} s`);
  render();
  const timer = setInterval(render, 1_000);
  timer.unref();
  return (success) => {
    clearInterval(timer);
    out.stderr.write(`\r\u001b[2K${out.scrub(message)}… ${success ? `ready in ${seconds()} s` : 'failed'}\n`);
  };
}
