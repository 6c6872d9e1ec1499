/**
 * The structural SQL client levelsync talks to, and the adapters that normalise a `pg.Pool`, a
 * `pg.PoolClient` (or `pg.Client`) and an in-process PGlite database into one
 * {@link PgConnection}. Nothing here imports `pg` or PGlite: any object with the right shape fits.
 *
 * @module
 */

/**
 * What a query returns, as every supported driver reports it.
 *
 * ```ts
 * const result: SqlQueryResult = await pool.query('SELECT 1 AS one');
 * ```
 */
export interface SqlQueryResult {
  readonly rows: readonly unknown[];
  /** `pg` reports it for every command; PGlite reports `affectedRows`/`rowCount`. */
  readonly rowCount?: number | null;
  readonly affectedRows?: number;
}

/**
 * The least levelsync needs from a client: a parameterised `query(text, values)` returning rows.
 * A `pg.Pool`, a `pg.PoolClient`, a `pg.Client`, a PGlite instance and a PGlite transaction all
 * satisfy it (like kysely's `PostgresPool`).
 *
 * ```ts
 * const client: SqlQueryable = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * ```
 */
export interface SqlQueryable {
  // `any[]` keeps pg's and PGlite's own `query` overloads assignable.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query(text: string, values?: any[]): Promise<SqlQueryResult>;
}

/**
 * A checked-out session of a pool (`pg.PoolClient`): levelsync gives it back with `release()`,
 * passing `true` when the session must not be reused (its connection broke).
 *
 * ```ts
 * const session: SqlPoolSession = await pool.connect();
 * ```
 */
export interface SqlPoolSession extends SqlQueryable {
  release(destroy?: boolean | Error): void;
  /**
   * node-postgres emits `error` on a checked-out client whose connection ends (terminated
   * backend, idle timeout, failover); without a listener Node.js would crash the process.
   * levelsync listens while it holds the session and then releases it as broken.
   */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * A connection pool (`pg.Pool`): queries on any connection, plus `connect()` for a dedicated
 * session (cursors, session advisory locks, multi-statement transactions).
 *
 * ```ts
 * const pool: SqlPool = new pg.Pool({ max: 10 });
 * ```
 */
export interface SqlPool extends SqlQueryable {
  connect(): Promise<SqlPoolSession>;
}

/**
 * An in-process PGlite database (`@electric-sql/pglite`): one session; `transaction(fn)` runs
 * `fn` exclusively inside BEGIN/COMMIT.
 *
 * ```ts
 * const db: PGliteLike = await PGlite.create();
 * ```
 */
export interface PGliteLike extends SqlQueryable {
  transaction<T>(callback: (tx: SqlQueryable) => Promise<T>): Promise<T>;
}

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
 * How levelsync reaches the database: one of three kinds, each with its own rules.
 * - `pool`: statements go to any pooled connection; cursors, session advisory locks and
 *   multi-statement transactions use a dedicated checkout.
 * - `client`: a session the caller owns (typically a `pg.PoolClient` inside the caller's
 *   transaction). levelsync never issues BEGIN/COMMIT/ROLLBACK on it: its statements join
 *   whatever transaction is open.
 * - `pglite`: an in-process PGlite database (one session); transactions go through
 *   `db.transaction()`, run locks are in-process.
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
  readonly kind: 'pool' | 'client' | 'pglite';
  /** The pool, client or database given; keys in-process lock tables. */
  readonly target: object;
  /** Runs one statement (on any pooled connection for a pool). */
  readonly run: SqlRunner;
  /**
   * Runs `fn` inside one transaction: BEGIN/COMMIT on a checkout (pool), `db.transaction`
   * (PGlite), or as is for a caller's client (its statements join the caller's transaction).
   * A throw rolls back (pool, PGlite) and is rethrown.
   */
  transaction<T>(fn: (run: SqlRunner) => Promise<T>): Promise<T>;
  /** A session for work spanning several statements outside a transaction (cursors, locks). */
  checkout(): Promise<PgSession>;
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
  return brand({
    kind: 'pool',
    target: pool,
    run,
    checkout,
    async transaction(fn) {
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
    },
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
  return brand({
    kind: 'client',
    target: client,
    run,
    checkout: async () => ({ run, release: () => {} }),
    transaction: (fn) => fn(run),
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
  return brand({
    kind: 'pglite',
    target: db,
    run,
    checkout: async () => ({ run, release: () => {} }),
    transaction: (fn) => db.transaction((tx) => fn(runnerOf(tx))),
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
