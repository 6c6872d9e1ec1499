import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { Pool } from 'pg';
import { err, ok, type Result } from 'neverthrow';
import { describeCause } from '../index.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../sync/apply-options.js';
import { busyFailure, configFailure, type CliFailure } from './cli-failure.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import type { CliOutput } from './cli-io.js';
import type { ConnectionTarget } from './connection-target.js';
import { pglite, pgPool, type PgConnection } from '../pg/index.js';

/**
 * An open database: a `pg.Pool` on a server, or an in-process PGlite, with the levelsync
 * connection over it (whose capabilities say what may be done with it). Close it exactly once.
 */
export type OpenDatabase =
  | { readonly kind: 'server'; readonly target: ConnectionTarget & { kind: 'server' }; readonly pool: Pool; readonly connection: PgConnection; close(): Promise<void> }
  | {
      readonly kind: 'embedded';
      readonly connection: PgConnection;
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

// The default `lock_timeout` of the command's server sessions is the library's
// DEFAULT_LOCK_TIMEOUT_MS (5 s, justified there): a statement waits at most that long for a row
// lock someone else holds, so a stuck session delays a run by a few such waits instead of
// stalling it forever. `--lock-timeout 0` turns it off.

/**
 * Connects to the target. A server is checked with one query so that a wrong host, port,
 * database or password fails here, once, as a configuration error; its sessions get
 * `lock_timeout` (`lockTimeoutMs`, default {@link DEFAULT_LOCK_TIMEOUT_MS}; 0: none). The
 * embedded database folder is locked for this process first (a second process is refused with
 * the holder's pid, nothing opened), then opened; it is created only when `create` is true
 * (`migrate`, `demo`), otherwise a missing one is a configuration error that says how to make it.
 */
export async function openDatabase(
  target: ConnectionTarget,
  out: CliOutput,
  options: { readonly create: boolean; readonly lockTimeoutMs?: number; readonly heldLock?: DataDirLock },
): Promise<Result<OpenDatabase, CliFailure>> {
  if (target.kind === 'server') {
    if (target.password !== null) out.addSecret(target.password);
    let pg: typeof import('pg');
    try {
      pg = (await import('pg')).default as unknown as typeof import('pg');
    } catch {
      return err(configFailure('the `pg` package is needed to talk to a PostgreSQL server: run npm install pg'));
    }
    const lockTimeout = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    const pool: Pool = new pg.Pool({
      connectionString: target.url,
      max: 4,
      connectionTimeoutMillis: 15_000,
      application_name: 'levelsync',
      ...(lockTimeout > 0 ? { lock_timeout: lockTimeout } : {}),
    });
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
      connection: pgPool(pool),
      close: async () => {
        if (closed) return;
        closed = true;
        await pool.end().catch(() => {});
      },
    });
  }

  // One process per folder: locked before PGlite touches it (two writers corrupt it), and before
  // the folder is judged: a folder another process is creating (the demo, a first migrate) is
  // half-written, and the true answer is "in use by process N", not "no database" or "not a
  // levelsync database". Where even the parent folder is missing, nobody holds a lock on it.
  // A caller that had to lock the folder before (the demo, which deletes it first) hands its lock over.
  const parentExists = existsSync(dirname(target.dataDir));
  let lock: DataDirLock | undefined = options.heldLock;
  if (lock === undefined && parentExists) {
    const locked = lockEmbeddedFolder(target.dataDir, target.display);
    if (locked.isErr()) return err(locked.error);
    lock = locked.value;
  }
  const exists = isDataDir(target.dataDir);
  const refuse = (failure: CliFailure) => {
    lock?.release();
    return err(failure);
  };
  if (!exists) {
    if (existsSync(target.dataDir) && readdirSync(target.dataDir).length > 0) {
      return refuse(configFailure(`${target.display} exists but is not an embedded levelsync database: choose another --data-dir`));
    }
    if (!options.create) {
      return refuse(
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
    return refuse(configFailure('the `@electric-sql/pglite` package is needed for the embedded database: run npm install @electric-sql/pglite'));
  }
  if (lock === undefined) {
    mkdirSync(dirname(target.dataDir), { recursive: true });
    const locked = lockEmbeddedFolder(target.dataDir, target.display);
    if (locked.isErr()) return err(locked.error);
    lock = locked.value;
  }
  const result = await openEmbedded(PGliteClass, target as ConnectionTarget & { kind: 'embedded' }, out, options, isDataDir(target.dataDir), lock);
  if (result.isErr()) lock.release();
  return result;
}

async function openEmbedded(
  PGliteClass: typeof import('@electric-sql/pglite').PGlite,
  target: ConnectionTarget & { kind: 'embedded' },
  out: CliOutput,
  options: { readonly create: boolean },
  exists: boolean,
  lock: DataDirLock,
): Promise<Result<OpenDatabase, CliFailure>> {
  if (!exists && !options.create) {
    return err(configFailure(`no embedded database in ${target.display}: run \`levelsync migrate\` to create one, or pass --database-url`));
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
    connection: pglite(db),
    created: !exists,
    close: async () => {
      if (closed) return;
      closed = true;
      await db.close().catch(() => {});
      lock.release();
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

/** Locks an embedded database folder for this process, or says who holds it (exit code: busy). */
export function lockEmbeddedFolder(dataDir: string, display: string): Result<DataDirLock, CliFailure> {
  const locked = lockDataDir(dataDir);
  if (locked.isOk()) return ok(locked.value);
  const e = locked.error;
  if (e._tag === 'Failed') return err(configFailure(`cannot lock the embedded database in ${display} (${e.path}): ${describeCause(e.cause)}`));
  const who =
    e.holder.pid > 0
      ? `levelsync process ${e.holder.pid}${e.holder.createdAt ? ` (since ${e.holder.createdAt})` : ''}`
      : `whoever wrote ${e.path} (remove it if no levelsync process uses the folder)`;
  return err(busyFailure(`the embedded database in ${display} is in use by ${who}: only one process may open it; try again when it has finished`));
}
