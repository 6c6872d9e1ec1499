/**
 * The driver shapes levelsync accepts: structural types that a `pg.Pool`, a `pg.PoolClient`, a
 * `pg.Client` and a PGlite database all satisfy. Nothing here imports a driver.
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
