import { createHash } from 'node:crypto';
import { err, ok, ResultAsync, type Result } from 'neverthrow';
import { describeCause, runInProgress, type StoreError } from '../errors.js';
import { pgStoreUnavailable } from './transient-errors.js';
import { createLockTable } from '../_internal/lock-table.js';
import type { UserId } from '../domain/records.js';
import type { Logger } from '../logger.js';
import { pairKeyId } from '../sync/pair-key.js';
import { formatShard } from '../sync/shard.js';
import type { RunLock, RunScope } from '../sync/sync-store.js';
import type { PgConnection, PgSession } from './sql-client.js';

/**
 * A signed 64-bit advisory lock key (as a decimal string) derived from a text.
 *
 * ```ts
 * const key = advisoryKey('levelsync:run:levelsync'); // '-4815…' (a bigint as text)
 * ```
 */
export function advisoryKey(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest().readBigInt64BE(0).toString();
}

/**
 * The advisory lock keys of a namespace: one run key, one key per shard.
 *
 * ```ts
 * const { run, shard } = runLockKeys('levelsync|"levelsync"."progress"|"levelsync"."licenses"');
 * ```
 */
export interface RunLockKeys {
  readonly run: string;
  shard(index: number, count: number): string;
}

/**
 * Keys namespaced by a text (levelsync uses the schema and table names of the mapping).
 *
 * ```ts
 * const keys = runLockKeys('app|"app"."progress"|"app"."licenses"');
 * await pool.query('SELECT pg_try_advisory_lock($1::bigint)', [keys.run]); // what a whole run takes
 * ```
 */
export function runLockKeys(namespace: string): RunLockKeys {
  return {
    run: advisoryKey(`levelsync:run:${namespace}`),
    shard: (index, count) => advisoryKey(`levelsync:shard:${namespace}:${index}/${count}`),
  };
}

/**
 * The transaction-level advisory lock key of one pair (user, canonical specialization): taken
 * before a pair's records are read for update or created, where a table has no unique key to
 * stop two transactions from creating the same record.
 *
 * ```ts
 * await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [pairLockKey(namespace, 42, 'LFA_COACH')]);
 * ```
 */
export function pairLockKey(namespace: string, userId: UserId, specializationId: string): string {
  return advisoryKey(`levelsync:pair:${namespace}:${pairKeyId({ userId, specializationId })}`);
}

type LockTable = ReturnType<typeof createLockTable>;
const inProcess = new WeakMap<object, Map<string, LockTable>>();

/** The in-process lock table of a target (PGlite database, caller's client) and namespace. */
function lockTableOf(target: object, namespace: string): LockTable {
  let byNamespace = inProcess.get(target);
  if (!byNamespace) {
    byNamespace = new Map();
    inProcess.set(target, byNamespace);
  }
  let table = byNamespace.get(namespace);
  if (!table) {
    table = createLockTable();
    byNamespace.set(namespace, table);
  }
  return table;
}

/**
 * Takes the run lock of a scope, as the connection's capabilities require:
 * - a shared session (a caller's client, PGlite): an in-process lock table per target, since two
 *   stores on one session would otherwise share the session's re-entrant advisory locks;
 * - concurrent sessions (a server): session advisory locks on a checkout, held until
 *   `release()`. A whole run takes the run key exclusively; a shard takes the run key SHARED and
 *   its own shard key exclusively, so shards run side by side but never beside a whole run.
 *   `wait` blocks in `pg_advisory_lock*` instead of `pg_try_advisory_lock*`.
 * PGlite takes only the first (one session: advisory locks exclude nobody), a pool only the
 * second (a dedicated checkout), a caller's client both (in-process first).
 */
export function acquireRunLock(
  connection: PgConnection,
  namespace: string,
  scope: RunScope,
  wait: boolean,
  storeName: string,
  logger: Logger,
): ResultAsync<RunLock, StoreError> {
  const label = scope.shard ? `shard ${formatShard(scope.shard)}` : 'all';
  if (!connection.concurrentSessions) return lockTableOf(connection.target, namespace).acquire(scope, wait);
  const advisory = () => advisoryLock(connection, namespace, scope, wait, label, storeName, logger);
  if (!connection.sharedSession) return new ResultAsync(advisory());
  return lockTableOf(connection.target, namespace)
    .acquire(scope, wait)
    .andThen((local) =>
      new ResultAsync(advisory()).map((remote) => ({
        scope: label,
        release: async () => {
          await remote.release();
          await local.release();
        },
      })).orElse((error) => new ResultAsync(local.release().then(() => err(error)))),
    );
}

async function advisoryLock(
  connection: PgConnection,
  namespace: string,
  scope: RunScope,
  wait: boolean,
  label: string,
  storeName: string,
  logger: Logger,
): Promise<Result<RunLock, StoreError>> {
  const keys = runLockKeys(namespace);
  let session: PgSession;
  try {
    session = await connection.checkout();
  } catch (cause) {
    return err(pgStoreUnavailable(storeName, cause, 'could not take the run lock'));
  }
  const held: { readonly unlock: string; readonly key: string }[] = []; // released in reverse order
  const unlockAll = async () => {
    let broken = false;
    for (const { unlock, key } of held.splice(0).reverse()) {
      try {
        await session.run(`SELECT ${unlock}($1::bigint)`, [key]);
      } catch (cause) {
        broken = true;
        logger.warn({ store: storeName, scope: label }, `could not release an advisory lock: ${describeCause(cause)}`);
      }
    }
    session.release(broken);
  };
  try {
    const take = async (fn: 'pg_advisory_lock' | 'pg_advisory_lock_shared', key: string): Promise<boolean> => {
      const unlock = fn === 'pg_advisory_lock' ? 'pg_advisory_unlock' : 'pg_advisory_unlock_shared';
      if (wait) {
        // A waiting lock is not a stalled statement: no lock_timeout for it (the CLI sets one on
        // its connections), and back to the session's default once it is held.
        await session.run(`SELECT set_config('lock_timeout', '0', false)`);
        await session.run(`SELECT ${fn}($1::bigint)`, [key]);
        held.push({ unlock, key });
        await session.run('RESET lock_timeout');
        return true;
      }
      const tryFn = fn === 'pg_advisory_lock' ? 'pg_try_advisory_lock' : 'pg_try_advisory_lock_shared';
      const result = await session.run(`SELECT ${tryFn}($1::bigint) AS locked`, [key]);
      if (result.rows[0]?.['locked'] !== true) return false;
      held.push({ unlock, key });
      return true;
    };
    const taken = scope.shard
      ? (await take('pg_advisory_lock_shared', keys.run)) && (await take('pg_advisory_lock', keys.shard(scope.shard.index, scope.shard.count)))
      : await take('pg_advisory_lock', keys.run);
    if (!taken) {
      await unlockAll();
      return err(runInProgress(label));
    }
  } catch (cause) {
    await unlockAll();
    return err(pgStoreUnavailable(storeName, cause, 'could not take the run lock'));
  }
  let released = false;
  const ended = session.ended;
  return ok({
    scope: label,
    ...(ended
      ? {
          lost: ended,
          // A session advisory lock lives exactly as long as its session (levelsync unlocks only
          // in release()), so "the session still answers" is "the lock is still held". A round
          // trip on the lock's own idle session is the cheapest reliable check: `ended` fires
          // only when the process reads the closed socket, which a terminated backend's FATAL
          // may not yet have reached (or a proxy may hold open), while a statement on a dead
          // session fails. Asking pg_locks from the batch's session would cost the same round
          // trip and need the holder's pid and keys besides.
          stillHeld: async (): Promise<boolean> => {
            if (released || ended.aborted) return false;
            try {
              await session.run('SELECT 1');
              return true;
            } catch {
              return false;
            }
          },
        }
      : {}),
    release: async () => {
      if (released) return;
      released = true;
      await unlockAll();
    },
  });
}
