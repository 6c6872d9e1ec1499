import type { PgConnection } from 'levelsync/pg';

/** Where a shared suite runs: PGlite in process, or a database on the PostgreSQL server. */
export interface PgTestTarget {
  /** `PGlite` or `PostgreSQL`, used in suite names. */
  readonly label: string;
  /** The connection (a pool on the server, the PGlite database in process). Call in tests or hooks. */
  readonly connection: () => PgConnection;
  /** True on the real server (concurrency and locking behave as in production). */
  readonly server: boolean;
}

/** Drops a schema if it exists (for suites that recreate theirs). */
export async function dropSchema(connection: PgConnection, schema: string): Promise<void> {
  await connection.run(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
