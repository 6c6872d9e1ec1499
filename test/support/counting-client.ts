import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { pglite, pgPool, type PgConnection, type SqlQueryable } from 'levelsync/pg';

/** One statement seen by a counting connection. */
export interface LoggedStatement {
  readonly text: string;
  readonly values: readonly unknown[] | undefined;
  /** The rows it returned, once it has (a FETCH's rows are what a cursor read). */
  readonly rows?: readonly Record<string, unknown>[];
}

/** A connection that records every statement it runs (its pool checkouts and transactions included). */
export interface CountingConnection {
  readonly connection: PgConnection;
  readonly statements: readonly LoggedStatement[];
  /** Forgets what was recorded so far. */
  reset(): void;
}

function counting(target: SqlQueryable, log: LoggedStatement[]): SqlQueryable {
  return {
    query: async (text: string, values?: unknown[]) => {
      const entry: { text: string; values: unknown[] | undefined; rows?: readonly Record<string, unknown>[] } = { text, values };
      log.push(entry);
      const result = await target.query(text, values);
      entry.rows = result.rows as readonly Record<string, unknown>[];
      return result;
    },
  };
}

/** Wraps a `pg.Pool` so that every statement, on any of its sessions, is recorded. */
export function countingPool(pool: pg.Pool): CountingConnection {
  const log: LoggedStatement[] = [];
  const wrapper = {
    ...counting(pool, log),
    connect: async () => {
      const client = await pool.connect();
      return { ...counting(client, log), release: (destroy?: boolean | Error) => client.release(destroy) };
    },
  };
  return { connection: pgPool(wrapper), statements: log, reset: () => void log.splice(0) };
}

/** Wraps a PGlite database so that every statement, in transactions too, is recorded. */
export function countingPGlite(db: PGlite): CountingConnection {
  const log: LoggedStatement[] = [];
  const wrapper = {
    ...counting(db, log),
    transaction: <T>(fn: (tx: SqlQueryable) => Promise<T>) => db.transaction((tx) => fn(counting(tx, log))),
  };
  return { connection: pglite(wrapper), statements: log, reset: () => void log.splice(0) };
}
