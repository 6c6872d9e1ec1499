/**
 * Streaming pairs out of one statement: the connection's cursor (with the planner settings a
 * full read wants), rows assembled into pairs, pairs cut into pages.
 *
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { describeCause, type StoreError, type ValidationError } from '../../errors.js';
import { pgStoreUnavailable } from '../transient-errors.js';
import type { Logger } from '../../logger.js';
import type { SyncPair } from '../../sync/pair.js';
import { PairAssembler, unreadableRowKey, type JoinedRow } from '../pair-rows.js';
import type { BuiltStatement } from '../pair-sql.js';
import type { PgConnection } from '../sql-client.js';
import type { MappedTableFacts } from '../table-introspection.js';
import { DEFAULT_FETCH_SIZE } from './store-options.js';

/**
 * Transaction-local planner settings of a scan's read-only transaction (they end with it):
 * - a cursor is planned for its first 10 % by default (fast-start plans); levelsync reads it to
 *   the end, so it plans for all of it: the same hash join as a plain query;
 * - the planner cannot know how few join rows differ, so it overestimates the rows to sort by
 *   one or two orders of magnitude, and the inflated cost would switch on JIT compilation that
 *   makes no join faster and costs more than it saves (see docs/benchmarks.md, "Notes from the
 *   code"). JIT is off altogether.
 */
export const SCAN_SETTINGS: Readonly<Record<string, string>> = { cursor_tuple_fraction: '1', jit: 'off' };

/** JIT off alone: for a statement run beside a scan (a new session would otherwise load LLVM first). */
export const NO_JIT: Readonly<Record<string, string>> = { jit: 'off' };

/** What a pair stream needs from its store. */
export interface PairStreamContext {
  readonly connection: PgConnection;
  readonly name: string;
  readonly logger: Logger;
  /** Rows per FETCH when given as an option; else the larger of the default and the page size. */
  readonly fetchSize: number | undefined;
  readonly loadFacts: () => Promise<MappedTableFacts>;
  readonly readJoined: (raw: unknown) => Result<JoinedRow, ValidationError>;
  /** Whether user ids are integers (how an unreadable row's key is read). */
  readonly integerUsers: boolean;
}

/**
 * Streams the pairs of the statement `build` makes, `pageSize` per page. A row levelsync cannot
 * represent flags its pair for review and the scan goes on; a failure is the last page, an `err`.
 */
export async function* streamPairs(
  context: PairStreamContext,
  build: (facts: MappedTableFacts) => BuiltStatement,
  pageSize: number,
  what: string,
): AsyncGenerator<Result<readonly SyncPair[], StoreError>> {
  const { connection, name, logger } = context;
  const fetchSize = context.fetchSize ?? Math.max(DEFAULT_FETCH_SIZE, pageSize);
  const started = Date.now();
  let pairs = 0;
  try {
    const statement = build(await context.loadFacts());
    const assembler = new PairAssembler();
    let page: SyncPair[] = [];
    for await (const rows of connection.stream(statement.text, statement.values, { fetchSize, settings: SCAN_SETTINGS })) {
      for (const raw of rows) {
        const row = context.readJoined(raw);
        const done = row.isOk() ? assembler.push(row.value) : assembler.pushUnreadable(unreadableRowKey(raw, context.integerUsers), row.error.message);
        if (done) {
          page.push(done);
          if (page.length >= pageSize) {
            pairs += page.length;
            yield ok(page);
            page = [];
          }
        }
      }
    }
    const last = assembler.flush();
    if (last) page.push(last);
    if (page.length > 0) {
      pairs += page.length;
      yield ok(page);
    }
    logger.debug({ store: name, pairs, ms: Date.now() - started }, `${what} finished`);
  } catch (cause) {
    logger.warn({ store: name }, `${what} failed: ${describeCause(cause)}`);
    yield err(pgStoreUnavailable(name, cause, `could not ${what}`));
  }
}

/** A stream of one page: the error. */
export function invalidPages(error: StoreError): AsyncIterable<Result<readonly SyncPair[], StoreError>> {
  return (async function* () {
    yield err(error);
  })();
}
