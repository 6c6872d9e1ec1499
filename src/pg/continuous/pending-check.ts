import { err, ok, ResultAsync, type Result } from 'neverthrow';
import type { StoreError, StoreUnavailable } from '../../errors.js';
import { pgStoreUnavailable } from '../transient-errors.js';
import type { MaxLevelResolver } from '../../max-level/resolution.js';
import type { Desync } from '../../sync/desync.js';
import { diffPair } from '../../sync/diff.js';
import { comparePairKeys } from '../../sync/pair-key.js';
import { quoteIdentifier as q } from '../identifier.js';
import { LEVELSYNC_MAPPING, requireMapping, type PgMapping } from '../pg-mapping.js';
import { toPgConnection, type PgConnectionInput, type SqlRunner } from '../sql-client.js';
import { CHANGE_TABLE } from './capture-ddl.js';
import { readPendingPairs } from './pending-pairs.js';

/**
 * How far behind the reconcilers are.
 *
 * ```ts
 * const lag = await pendingLag(pool);
 * if (lag.isErr()) console.error(lag.error.message);
 * else if (lag.value.oldestMs > 5_000) alert(`reconcilers are ${lag.value.oldestMs} ms behind (${lag.value.pending} changes)`);
 * ```
 */
export interface ChangeLag {
  /** Change rows waiting (a key changed twice counts twice). */
  readonly pending: number;
  /** Age of the oldest pending change in milliseconds (0 when none is pending). */
  readonly oldestMs: number;
}

/** Reads the lag from the change table (cost: the number of pending rows). */
export async function readLag(run: SqlRunner, mapping: PgMapping): Promise<Result<ChangeLag, StoreUnavailable>> {
  try {
    const result = await run(
      `SELECT count(*) AS n, coalesce(extract(epoch FROM clock_timestamp() - min(changed_at)) * 1000, 0) AS age FROM ${q(mapping.schema)}.${q(CHANGE_TABLE)}`,
    );
    const row = result.rows[0] as { n: unknown; age: unknown };
    return ok({ pending: Number(row.n), oldestMs: Math.max(0, Math.round(Number(row.age))) });
  } catch (cause) {
    return err(pgStoreUnavailable('postgres', cause, 'could not read the change table (is change capture installed?)'));
  }
}

/**
 * The lag of change capture: pending changes and the age of the oldest.
 *
 * ```ts
 * const lag = await pendingLag(pool, { mapping: ORIGINAL_SYSTEM_MAPPING });
 * ```
 */
export function pendingLag(client: PgConnectionInput, options: { readonly mapping?: PgMapping } = {}): ResultAsync<ChangeLag, StoreUnavailable> {
  const connection = toPgConnection(client);
  const mapping = requireMapping(options.mapping ?? LEVELSYNC_MAPPING);
  return new ResultAsync(readLag(connection.run, mapping));
}

/** Options of {@link checkPending}. */
export interface CheckPendingOptions {
  readonly resolver: MaxLevelResolver;
  readonly mapping?: PgMapping;
  /** Distinct pending keys read at most, oldest first (default 100 000). */
  readonly limit?: number;
}

/** What {@link checkPending} found among the pending changed pairs. */
export interface PendingCheck {
  /** Distinct pending (user, stored specialization id) keys. */
  readonly pendingKeys: number;
  /** Pairs read (at most `limit`; keys whose records are all gone are not pairs). */
  readonly pairsChecked: number;
  /** Desyncs among them, in key order. */
  readonly desyncs: readonly Desync[];
  readonly lag: ChangeLag;
}

/**
 * The desyncs among the pairs with a pending change only: reads the change table's keys and
 * just those pairs (one statement), and diffs them. Its cost grows with the number of pending
 * changes, not with the size of the tables. Writes nothing and claims nothing.
 *
 * ```ts
 * const check = await checkPending(pool, { resolver });
 * check.match(
 *   ({ desyncs, pairsChecked }) => console.log(`${desyncs.length} desyncs among ${pairsChecked} changed pairs`),
 *   (error) => console.error(`${error._tag}: ${error.message}`),
 * );
 * ```
 */
export function checkPending(client: PgConnectionInput, options: CheckPendingOptions): ResultAsync<PendingCheck, StoreError> {
  const connection = toPgConnection(client);
  const mapping = requireMapping(options.mapping ?? LEVELSYNC_MAPPING);
  const limit = options.limit ?? 100_000;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError(`levelsync/pg: limit must be a positive integer (got ${String(limit)})`);
  const catalog = options.resolver.catalog;
  return new ResultAsync(
    (async (): Promise<Result<PendingCheck, StoreError>> => {
      let read;
      try {
        read = await readPendingPairs(connection.run, mapping, catalog.aliasMap, limit);
      } catch (cause) {
        return err(pgStoreUnavailable('postgres', cause, 'could not read the pending changes (is change capture installed?)'));
      }
      if (read.isErr()) return err(read.error);
      const lag: ChangeLag = { pending: read.value.pending, oldestMs: read.value.oldestMs };
      const pairs = read.value.pairs.sort(comparePairKeys);
      const ids = [...new Set(pairs.map((p) => p.specializationId))];
      const table = await options.resolver.resolveAll(ids);
      const maxLevels = new Map<string, number>();
      for (const id of ids) {
        const max = table.maxLevelOf(id);
        if (max !== undefined) maxLevels.set(id, max);
      }
      const desyncs: Desync[] = [];
      for (const pair of pairs) for (const d of diffPair(pair, { maxLevelOf: (id) => maxLevels.get(id) })) desyncs.push(d);
      return ok({ pendingKeys: read.value.keys, pairsChecked: pairs.length, desyncs, lag });
    })(),
  );
}
