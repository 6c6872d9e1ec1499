/**
 * The structural SQL client levelsync talks to, and the adapters that normalise a `pg.Pool`, a
 * `pg.PoolClient` (or `pg.Client`) and an in-process PGlite database into one
 * {@link PgConnection}. Nothing here imports `pg` or PGlite: any object with the right shape fits.
 * (Somewhat over 300 lines: the connection contract and its three adapters are read together;
 * the driver shapes are in `driver-shapes.ts`, cursor streaming in `cursor.ts`.)
 *
 * @module
 */

import { localSettingsStatement, streamInTransaction, streamWithHold, type CursorOptions } from './cursor.js';
import type { PGliteLike, SqlPool, SqlPoolSession, SqlQueryable, SqlQueryResult } from './driver-shapes.js';

export type { PGliteLike, SqlPool, SqlPoolSession, SqlQueryable, SqlQueryResult } from './driver-shapes.js';
export type { CursorOptions } from './cursor.js';

/**
 * The normalised result levelsync works with.
 *
 * ```ts
 * const { rows, rowCount } = await pgPool(pool).run('SELECT 1 AS one');
 * ```
 */
export interface SqlRows {
  readonly rows: readonly Record<string, unknown>[];
  readonly rowCount: number;
}

/**
 * A function that runs one statement.
 *
 * ```ts
 * const run: SqlRunner = pgPool(pool).run;
 * await run('UPDATE t SET level = $1 WHERE id = $2', [3, 42]);
 * ```
 */
export type SqlRunner = (text: string, values?: readonly unknown[]) => Promise<SqlRows>;

/**
 * A session held until `release()`: a pool checkout, or the client/PGlite itself.
 *
 * ```ts
 * const session = await pgPool(pool).checkout();
 * try { await session.run('SELECT pg_advisory_lock(1)'); } finally { session.release(); }
 * ```
 */
export interface PgSession {
  readonly run: SqlRunner;
  /** Gives the session back; `destroy` drops its connection (pool only). Never throws. */
  release(destroy?: boolean): void;
  /** Aborted when the session's connection ends while held (pool checkouts only). */
  readonly ended?: AbortSignal;
}

/**
 * How levelsync reaches the database. Each of the three kinds is an object whose capabilities
 * say what levelsync may do with it, so no code asks which kind it holds:
 * - `pool` ({@link pgPool}): statements go to any pooled connection; cursors, session advisory
 *   locks and multi-statement transactions use a dedicated checkout.
 * - `client` ({@link pgClient}): a session the caller owns (typically a `pg.PoolClient` inside
 *   the caller's transaction). levelsync never issues BEGIN/COMMIT/ROLLBACK on it: its
 *   statements join whatever transaction is open.
 * - `pglite` ({@link pglite}): an in-process PGlite database (one session); transactions go
 *   through `db.transaction()`, run locks are in-process.
 *
 * Build one with {@link pgPool}, {@link pgClient}, {@link pglite}, or let
 * {@link toPgConnection} recognise the object.
 *
 * ```ts
 * const connection = pgPool(new pg.Pool());
 * const rows = await connection.run('SELECT 1 AS one');
 * ```
 */
export interface PgConnection {
  /** Which adapter built it (descriptive: levelsync decides by the capabilities below). */
  readonly kind: 'pool' | 'client' | 'pglite';
  /** The engine: `postgres` (a server) or `pglite` (in process); the default name of stores over it. */
  readonly engine: 'postgres' | 'pglite';
  /**
   * Other sessions may work on the same tables at the same time (a server): creations where a
   * table has no unique key need advisory locks, and a lock may wait. False on PGlite (one
   * in-process session).
   */
  readonly concurrentSessions: boolean;
  /**
   * levelsync may BEGIN and COMMIT transactions of its own (a pool, PGlite). False for a caller's
   * client: levelsync's statements join the caller's transaction.
   */
  readonly ownTransactions: boolean;
  /**
   * Every statement runs on one session that other stores may share (a caller's client, PGlite):
   * run locks also need an in-process table, as a session's advisory locks are re-entrant.
   */
  readonly sharedSession: boolean;
  /** The pool, client or database given; keys in-process lock tables. */
  readonly target: object;
  /** Runs one statement (on any pooled connection for a pool). */
  readonly run: SqlRunner;
  /**
   * Runs one statement with transaction-local settings (`set_config(name, value, true)`) where
   * that needs no change to a session levelsync does not own: in a short transaction of its own
   * on a pool; as is on a caller's client and on PGlite.
   */
  runWithSettings(settings: Readonly<Record<string, string>>, text: string, values?: readonly unknown[]): Promise<SqlRows>;
  /**
   * Runs `fn` inside one transaction: BEGIN/COMMIT on a checkout (pool), `db.transaction`
   * (PGlite), or as is for a caller's client (its statements join the caller's transaction).
   * A throw rolls back (pool, PGlite) and is rethrown.
   */
  transaction<T>(fn: (run: SqlRunner) => Promise<T>): Promise<T>;
  /** A session for work spanning several statements outside a transaction (cursors, locks). */
  checkout(): Promise<PgSession>;
  /**
   * Streams a statement's rows in batches of `fetchSize` through a server-side cursor: in a
   * read-only transaction on a dedicated session (pool), WITH HOLD elsewhere (no transaction is
   * left open between fetches). Abandoning the iteration closes the cursor; an error is thrown.
   */
  stream(text: string, values: readonly unknown[], options: CursorOptions): AsyncIterable<SqlRows['rows']>;
}

const BRAND: unique symbol = Symbol.for('levelsync.pg.connection');
type Branded = PgConnection & { readonly [BRAND]: true };

function normalise(result: SqlQueryResult): SqlRows {
  const rows = (Array.isArray(result.rows) ? result.rows : []) as readonly Record<string, unknown>[];
  const count = result.rowCount ?? result.affectedRows ?? rows.length;
  return { rows, rowCount: typeof count === 'number' ? count : rows.length };
}

function runnerOf(client: SqlQueryable): SqlRunner {
  return async (text, values) => normalise(await client.query(text, values === undefined ? undefined : [...values]));
}

function brand(connection: PgConnection): Branded {
  return Object.freeze({ ...connection, [BRAND]: true as const });
}

/**
 * Wraps a pool (`pg.Pool` or anything with `query` and `connect`). levelsync checks out a
 * dedicated session for cursors, session advisory locks and multi-statement transactions, and
 * always gives it back.
 *
 * ```ts
 * import pg from 'pg';
 * const store = createPgSyncStore(pgPool(new pg.Pool({ connectionString: process.env.DATABASE_URL })));
 * ```
 */
export function pgPool(pool: SqlPool): PgConnection {
  const run = runnerOf(pool);
  const checkout = async (): Promise<PgSession> => {
    const session = await pool.connect();
    let released = false;
    let broken = false;
    const ended = new AbortController();
    // Listen for the connection ending while levelsync holds the session (see SqlPoolSession.on).
    const onError = (error: Error) => {
      broken = true;
      if (!released) ended.abort(error);
    };
    session.on?.('error', onError);
    const run = runnerOf(session);
    return {
      ended: ended.signal,
      run: async (text, values) => {
        if (broken) throw new Error('the database session ended (terminated or lost connection)');
        return run(text, values);
      },
      release(destroy = false) {
        if (released) return;
        released = true;
        const drop = destroy || broken;
        // A dropped session keeps a listener: its connection may still report the end.
        if (!drop) session.removeListener?.('error', onError);
        try {
          session.release(drop);
        } catch {
          // A pool that refuses the session back has nothing more to tell us.
        }
      },
    };
  };
  const transaction = async <T>(fn: (run: SqlRunner) => Promise<T>): Promise<T> => {
    const session = await checkout();
    try {
      await session.run('BEGIN');
      const value = await fn(session.run);
      await session.run('COMMIT');
      session.release();
      return value;
    } catch (cause) {
      try {
        await session.run('ROLLBACK');
        session.release();
      } catch {
        session.release(true);
      }
      throw cause;
    }
  };
  return brand({
    kind: 'pool',
    engine: 'postgres',
    concurrentSessions: true,
    ownTransactions: true,
    sharedSession: false,
    target: pool,
    run,
    checkout,
    transaction,
    runWithSettings: (settings, text, values) =>
      transaction(async (inTransaction) => {
        const set = localSettingsStatement(settings);
        if (set.values.length > 0) await inTransaction(set.text, set.values);
        return inTransaction(text, values);
      }),
    stream: (text, values, options) => streamInTransaction(checkout, text, values, options),
  });
}

/**
 * Wraps a session the caller owns: a `pg.PoolClient` (typically inside the caller's
 * transaction) or a `pg.Client`. levelsync uses it as is and never issues BEGIN, COMMIT or
 * ROLLBACK on it: its writes commit or roll back with the caller's transaction.
 *
 * ```ts
 * const client = await pool.connect();
 * await client.query('BEGIN');
 * await syncPair(createPgSyncStore(pgClient(client)), key, { resolver });
 * await client.query('COMMIT');
 * ```
 */
export function pgClient(client: SqlQueryable): PgConnection {
  const run = runnerOf(client);
  const session: PgSession = { run, release: () => {} };
  return brand({
    kind: 'client',
    engine: 'postgres',
    concurrentSessions: true,
    ownTransactions: false,
    sharedSession: true,
    target: client,
    run,
    runWithSettings: (_settings, text, values) => run(text, values),
    checkout: async () => session,
    transaction: (fn) => fn(run),
    stream: (text, values, options) => streamWithHold(session, text, values, options),
  });
}

/**
 * Wraps an in-process PGlite database. PGlite has a single session, so levelsync runs
 * transactions through `db.transaction()` and keeps run locks in process (advisory locks cannot
 * exclude anyone there).
 *
 * ```ts
 * import { PGlite } from '@electric-sql/pglite';
 * const db = await PGlite.create();
 * await migrate(pglite(db));
 * ```
 */
export function pglite(db: PGliteLike): PgConnection {
  const run = runnerOf(db);
  const session: PgSession = { run, release: () => {} };
  return brand({
    kind: 'pglite',
    engine: 'pglite',
    concurrentSessions: false,
    ownTransactions: true,
    sharedSession: true,
    target: db,
    run,
    runWithSettings: (_settings, text, values) => run(text, values),
    checkout: async () => session,
    transaction: (fn) => db.transaction((tx) => fn(runnerOf(tx))),
    stream: (text, values, options) => streamWithHold(session, text, values, options),
  });
}

/**
 * True for a value built by {@link pgPool}, {@link pgClient} or {@link pglite}.
 *
 * ```ts
 * isPgConnection(pgPool(pool)); // true
 * isPgConnection(pool);         // false: a raw pool, recognised by toPgConnection
 * ```
 */
export function isPgConnection(value: unknown): value is PgConnection {
  return typeof value === 'object' && value !== null && (value as Partial<Branded>)[BRAND] === true;
}

/**
 * What levelsync's PostgreSQL functions accept: an adapter built by {@link pgPool},
 * {@link pgClient} or {@link pglite}, or a raw pool, client or PGlite instance that
 * {@link toPgConnection} recognises.
 *
 * ```ts
 * function storeFor(db: PgConnectionInput) { return createPgSyncStore(db); }
 * ```
 */
export type PgConnectionInput = PgConnection | SqlPool | SqlPoolSession | PGliteLike | SqlQueryable;

/**
 * Recognises what it is given: a {@link PgConnection} is returned as is; an object with
 * `release()` is a checked-out client (used as is, no BEGIN/COMMIT); one with `connect()` and
 * pool counters (`totalCount`) is a pool; one with `transaction()` and `exec()` is PGlite;
 * anything else with `query()` is a caller's client. Wrap explicitly when in doubt (a `pg.Client`
 * is recognised as a client).
 *
 * ```ts
 * const connection = toPgConnection(pool); // same as pgPool(pool)
 * ```
 */
export function toPgConnection(input: PgConnectionInput): PgConnection {
  if (isPgConnection(input)) return input;
  const value = input as unknown as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || typeof value['query'] !== 'function') {
    throw new TypeError('levelsync/pg: expected a pg.Pool, a pg.PoolClient, a PGlite database or an object with query(text, values)');
  }
  if (typeof value['release'] === 'function') return pgClient(input);
  if (typeof value['connect'] === 'function' && ('totalCount' in value || 'idleCount' in value)) return pgPool(input as SqlPool);
  if (typeof value['transaction'] === 'function' && typeof value['exec'] === 'function') return pglite(input as PGliteLike);
  return pgClient(input);
}
