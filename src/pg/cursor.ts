/**
 * Streaming a statement's rows through a server-side cursor, the two ways a connection can:
 * inside a read-only transaction on a dedicated session (a pool), or WITH HOLD on a session
 * levelsync does not own or that must not stay inside a transaction between fetches.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { PgSession, SqlRows } from './sql-client.js';

/**
 * How a cursor is read.
 *
 * ```ts
 * for await (const rows of connection.stream(text, values, { fetchSize: 10_000 })) handle(rows);
 * ```
 */
export interface CursorOptions {
  /** Rows per FETCH (each FETCH is one round trip). */
  readonly fetchSize: number;
  /**
   * Transaction-local settings (`set_config(name, value, true)`) for the cursor's own read-only
   * transaction; ignored where the cursor has no transaction of its own (a caller's client,
   * PGlite).
   */
  readonly settings?: Readonly<Record<string, string>>;
}

type Rows = SqlRows['rows'];

function cursorName(): string {
  return `levelsync_${randomUUID().replace(/-/g, '')}`;
}

/** `SELECT set_config($1, $2, true), …` for the given settings, with its parameters. */
export function localSettingsStatement(settings: Readonly<Record<string, string>>): { readonly text: string; readonly values: string[] } {
  const entries = Object.entries(settings);
  const calls = entries.map((_, i) => `set_config($${2 * i + 1}::text, $${2 * i + 2}::text, true)`);
  return { text: `SELECT ${calls.join(', ')}`, values: entries.flat() };
}

async function* fetchAll(session: PgSession, cursor: string, fetchSize: number): AsyncGenerator<Rows> {
  for (;;) {
    const batch = await session.run(`FETCH FORWARD ${fetchSize} FROM ${cursor}`);
    if (batch.rows.length > 0) yield batch.rows;
    if (batch.rows.length < fetchSize) return;
  }
}

/**
 * A dedicated session and a read-only transaction: the cursor streams without materialising,
 * and the transaction-local settings end with it. The session is given back when the stream
 * ends, fails or is abandoned; dropped when it could not be cleaned up.
 */
export async function* streamInTransaction(
  checkout: () => Promise<PgSession>,
  text: string,
  values: readonly unknown[],
  options: CursorOptions,
): AsyncGenerator<Rows> {
  const cursor = cursorName();
  const session = await checkout();
  let inTransaction = false;
  let declared = false;
  let broken = true;
  try {
    await session.run('BEGIN READ ONLY');
    inTransaction = true;
    if (options.settings && Object.keys(options.settings).length > 0) {
      const set = localSettingsStatement(options.settings);
      await session.run(set.text, set.values);
    }
    await session.run(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${text}`, values);
    declared = true;
    yield* fetchAll(session, cursor, options.fetchSize);
    await session.run(`CLOSE ${cursor}`);
    declared = false;
    await session.run('COMMIT');
    inTransaction = false;
  } finally {
    try {
      if (inTransaction) await session.run('ROLLBACK');
      else if (declared) await session.run(`CLOSE ${cursor}`);
      broken = false;
    } catch {
      // The session is unusable: it is destroyed below.
    }
    session.release(broken);
  }
}

/**
 * The caller's session or PGlite: WITH HOLD works inside and outside a transaction and leaves no
 * transaction open between fetches.
 */
export async function* streamWithHold(session: PgSession, text: string, values: readonly unknown[], options: CursorOptions): AsyncGenerator<Rows> {
  const cursor = cursorName();
  let declared = false;
  try {
    await session.run(`DECLARE ${cursor} NO SCROLL CURSOR WITH HOLD FOR ${text}`, values);
    declared = true;
    yield* fetchAll(session, cursor, options.fetchSize);
    await session.run(`CLOSE ${cursor}`);
    declared = false;
  } finally {
    if (declared) {
      try {
        await session.run(`CLOSE ${cursor}`);
      } catch {
        // Nothing more to do: the session is the caller's (or PGlite's only one).
      }
    }
  }
}
