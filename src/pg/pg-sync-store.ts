/**
 * The PostgreSQL `SyncStore` factory: it checks its options, reads what it needs once and
 * composes the rooms that do the work — query checks (`store/store-options.ts`), pair streaming
 * (`store/pair-stream.ts`), the pair-lock policy (`store/pair-locks.ts`) and chunked apply
 * (`store/apply-batch.ts`) — over the statement builders and row readers.
 *
 * @module
 */
import { err, ok, ResultAsync, type Result } from 'neverthrow';
import type { Catalog } from '../domain/catalog.js';
import { DEFAULT_CATALOG } from '../domain/default-catalog.js';
import { validationError, type StoreError } from '../errors.js';
import { pgStoreUnavailable } from './transient-errors.js';
import type { LegacyIdUsage } from '../sync/legacy-ids.js';
import { parseWith } from '../_internal/zod.js';
import { safeLogger, type Logger } from '../logger.js';
import type { PairKey } from '../sync/pair-key.js';
import type { SyncPair } from '../sync/pair.js';
import type { DifferingPairQuery, PairQuery, RunLock, RunScope, SyncStore } from '../sync/sync-store.js';
import { acquireRunLock } from './advisory-run-lock.js';
import { compileMapping } from './mapping/compile.js';
import { pairFromSideRows } from './pair-rows.js';
import { LEVELSYNC_MAPPING } from './mapping/presets.js';
import { requireMapping } from './mapping/parse.js';
import type { PgMapping } from './mapping/schema.js';
import { countValue, rowReader, textValue } from './row-values.js';
import { buildCountQuery, buildDifferingPairsQuery, buildLegacyIdQuery, buildPairsQuery, buildReadPairQuery } from './scan-query.js';
import { toPgConnection, type PgConnection, type PgConnectionInput } from './sql-client.js';
import { introspectTables, type MappedTableFacts } from './table-introspection.js';
import { readSpecializationRows } from './specialization-rows.js';
import { createBatchApplier } from './store/apply-batch.js';
import { readPairLock } from './store/pair-locks.js';
import { invalidPages, NO_JIT, streamPairs } from './store/pair-stream.js';
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_PAGE_SIZE,
  DifferingQuerySchema,
  MIN_FETCH_SIZE,
  pairFilterOf,
  PairKeySchema,
  positiveInteger,
  ShardSchema,
} from './store/store-options.js';

/**
 * Options of {@link createPgSyncStore}.
 *
 * ```ts
 * createPgSyncStore(pool, { mapping: ORIGINAL_SYSTEM_MAPPING, pageSize: 5_000, chunkSize: 2_000, logger: pino() });
 * ```
 */
export interface PgSyncStoreOptions {
  /** Where the data lives (default {@link LEVELSYNC_MAPPING}: levelsync's own schema). */
  readonly mapping?: PgMapping;
  /** Pairs per page when a query gives none (default 1 000). */
  readonly pageSize?: number;
  /**
   * Rows per cursor FETCH (default the larger of 10 000 and the page size). Each FETCH is a round
   * trip with a fixed cost on top of the rows, so small FETCHes cost more per row (figures in
   * docs/benchmarks.md).
   */
  readonly fetchSize?: number;
  /**
   * Write actions per apply statement (default 2 000). Keep it in the 1 000–5 000 range: far
   * above, PostgreSQL switches from primary-key probes to hashing the whole table.
   */
  readonly chunkSize?: number;
  /** Debug/warn messages; silent by default. Never receives connection strings. */
  readonly logger?: Logger;
  /** The store's name in messages (default `postgres`, or `pglite` on PGlite). */
  readonly name?: string;
  /**
   * The catalog whose legacy ids (aliases) the store groups under their canonical ids in every
   * read, scan and write, in SQL (default `DEFAULT_CATALOG`: PLAYER → GANCUJU_PLAYER,
   * COACH → LFA_COACH). A database that still names its specializations PLAYER/COACH can use a
   * catalog where those are the canonical ids.
   */
  readonly catalog?: Catalog;
}

/**
 * A `SyncStore` over PostgreSQL or PGlite, with what it was built from.
 *
 * ```ts
 * const store = createPgSyncStore(pool);
 * const facts = await store.tableFacts();
 * if (facts.isOk() && !facts.value.progress.uniqueKey) console.warn('run cleanupDuplicates() and add the unique key');
 * ```
 */
export interface PgSyncStore extends SyncStore {
  scanDifferingPairs(query: DifferingPairQuery): AsyncIterable<Result<readonly SyncPair[], StoreError>>;
  readonly mapping: PgMapping;
  /**
   * What the advisory lock keys of this store are derived from (`runLockKeys(lockNamespace)`):
   * the schema and the two table names, so that stores over different tables never block each
   * other.
   */
  readonly lockNamespace: string;
  readonly connection: PgConnection;
  /**
   * Facts read once from the catalog: whether each table has a unique (user, specialization)
   * key (duplicate detection is only paid for where it has none) and its column types.
   */
  tableFacts(): ResultAsync<MappedTableFacts, StoreError>;
}

const readCount = rowReader({ n: countValue }, 'count row', {});
const readLegacy = rowReader({ sid: textValue, canon: textValue, p_rows: countValue, l_rows: countValue, pairs: countValue }, 'legacy id row', {});

/**
 * A `SyncStore` over PostgreSQL (through `pg`) or PGlite, for levelsync's own schema or an
 * existing one described by a {@link PgMapping}.
 *
 * - `scanDifferingPairs` finds the pairs in desync in ONE set-based statement (a FULL JOIN of
 *   both tables, filtered before the join, maximum levels bound as arrays) streamed through a
 *   server-side cursor: one pass over the data, only differing pairs travel.
 * - `scanPairs` streams every pair the same way; `countPairs` and `readPair` are one statement.
 * - `applyBatch` writes a chunk of actions in ONE statement (compare-and-set, creations with
 *   `ON CONFLICT DO NOTHING`, history rows from RETURNING), so a batch of up to `chunkSize`
 *   actions costs one round trip and needs no BEGIN/COMMIT.
 * - `acquireRunLock` takes session advisory locks (in-process locks on PGlite).
 *
 * An invalid mapping is a programmer error and throws a `TypeError` whose `cause` is the
 * `ValidationError` naming the field (validate untrusted mappings with `parsePgMapping`).
 *
 * ```ts
 * import pg from 'pg';
 * import { createPgSyncStore, ORIGINAL_SYSTEM_MAPPING } from 'levelsync/pg';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const store = createPgSyncStore(pool, { mapping: ORIGINAL_SYSTEM_MAPPING });
 * const plan = (await scanDesyncs(store, { resolver })).andThen((scan) => createPlan(scan));
 * ```
 */
export function createPgSyncStore(client: PgConnectionInput, options: PgSyncStoreOptions = {}): PgSyncStore {
  const connection = toPgConnection(client);
  const mapping = requireMapping(options.mapping ?? LEVELSYNC_MAPPING);
  const compiled = compileMapping(mapping);
  const { lockNamespace, columnUserId } = compiled;
  const name = options.name ?? connection.engine;
  const logger = safeLogger(options.logger);
  const defaultPageSize = positiveInteger(options.pageSize, DEFAULT_PAGE_SIZE, 'pageSize');
  const chunkSize = positiveInteger(options.chunkSize, DEFAULT_CHUNK_SIZE, 'chunkSize');
  const fetchSize = options.fetchSize === undefined ? undefined : positiveInteger(options.fetchSize, MIN_FETCH_SIZE, 'fetchSize');

  let facts: Promise<MappedTableFacts> | undefined;
  const loadFacts = (): Promise<MappedTableFacts> => {
    facts ??= introspectTables(connection.run, compiled).catch((cause) => {
      facts = undefined;
      throw cause;
    });
    return facts;
  };
  const factsResult = () => ResultAsync.fromPromise(loadFacts(), (cause) => pgStoreUnavailable(name, cause, 'could not read the table catalog'));

  const storeAliases = (options.catalog ?? DEFAULT_CATALOG).aliasMap;
  const filterOf = (query: PairQuery, subject: string) => pairFilterOf(query, subject, columnUserId, storeAliases);
  const streamContext = {
    connection,
    name,
    logger,
    fetchSize,
    loadFacts,
    readJoined: compiled.readJoined,
    integerUsers: compiled.integerUsers,
  };
  const applyAll = createBatchApplier({ connection, name, logger, mapping: compiled, chunkSize, storeAliases, loadFacts });

  const store: PgSyncStore = {
    name,
    mapping,
    connection,
    lockNamespace,
    tableFacts: factsResult,

    aliases: storeAliases,

    scanPairs(query) {
      const filter = filterOf(query, 'pair query');
      if (filter.isErr()) return invalidPages(filter.error);
      return streamPairs(streamContext, (f) => buildPairsQuery(compiled, f, filter.value), query.pageSize ?? defaultPageSize, 'scan pairs');
    },

    scanDifferingPairs(query: DifferingPairQuery) {
      const valid = parseWith(DifferingQuerySchema, query, 'differing pair query');
      if (valid.isErr()) return invalidPages(valid.error);
      for (const [id, max] of query.maxLevels) {
        if (typeof id !== 'string' || typeof max !== 'number' || !Number.isFinite(max)) {
          return invalidPages(validationError('differing pair query', [{ field: `maxLevels.${String(id)}`, message: 'must be a finite number' }]));
        }
      }
      const filter = filterOf(query, 'differing pair query');
      if (filter.isErr()) return invalidPages(filter.error);
      return streamPairs(
        streamContext,
        (f) => buildDifferingPairsQuery(compiled, f, filter.value, query.maxLevels, { listLegacy: query.listLegacy === true }),
        query.pageSize ?? defaultPageSize,
        'find differing pairs',
      );
    },

    summarizeLegacyIds(query) {
      const filter = filterOf(query, 'pair query');
      if (filter.isErr()) return new ResultAsync(Promise.resolve(err(filter.error)));
      if (filter.value.aliases.size === 0) return new ResultAsync(Promise.resolve(ok([])));
      return factsResult().andThen((f) => {
        const statement = buildLegacyIdQuery(compiled, f, filter.value);
        // Without JIT, as the scan's cursor it runs beside: a new session would otherwise load
        // LLVM first.
        const counted = connection.runWithSettings(NO_JIT, statement.text, statement.values);
        return ResultAsync.fromPromise(counted, (cause) => pgStoreUnavailable(name, cause, 'could not count legacy ids')).andThen((result) => {
          const out: LegacyIdUsage[] = [];
          for (const raw of result.rows) {
            const row = readLegacy(raw);
            if (row.isErr()) return err(row.error);
            const r = row.value;
            out.push({ storedId: r.sid, canonicalId: r.canon, progressRows: r.p_rows, licenseRows: r.l_rows, pairs: r.pairs });
          }
          return ok(out);
        });
      });
    },

    specializationRows() {
      return readSpecializationRows(connection, mapping, name);
    },

    countPairs(query) {
      const filter = filterOf(query, 'pair query');
      if (filter.isErr()) return new ResultAsync(Promise.resolve(err(filter.error)));
      return factsResult().andThen((f) => {
        const statement = buildCountQuery(compiled, f, filter.value);
        return ResultAsync.fromPromise(connection.run(statement.text, statement.values), (cause) => pgStoreUnavailable(name, cause, 'could not count pairs')).andThen(
          (result) => {
            const row = readCount(result.rows[0]);
            return row.isOk() ? ok(row.value.n) : err(row.error);
          },
        );
      });
    },

    checkUserId(value: unknown, field: string) {
      const converted = columnUserId(value, field);
      return converted.ok ? null : converted.issue;
    },

    readPair(key: PairKey, readOptions = {}) {
      const valid = parseWith(PairKeySchema, key, 'pair key');
      if (valid.isErr()) return new ResultAsync(Promise.resolve(err(valid.error)));
      const userId = columnUserId(key.userId, 'userId');
      if (!userId.ok) return new ResultAsync(Promise.resolve(err(validationError('pair key', [userId.issue]))));
      const aliases = readOptions.aliases ?? storeAliases;
      return factsResult().andThen((f) => {
        const pairLock = readPairLock(f, lockNamespace, userId.value, key.specializationId);
        const statement = buildReadPairQuery(compiled, f, userId.value, key.specializationId, aliases, readOptions.lock ?? false, pairLock);
        return ResultAsync.fromPromise(connection.run(statement.text, statement.values), (cause) => pgStoreUnavailable(name, cause, 'could not read a pair')).andThen(
          (result) => {
            const rows = [];
            for (const raw of result.rows) {
              const row = compiled.readSide(raw);
              if (row.isErr()) return err(row.error);
              rows.push(row.value);
            }
            return ok(pairFromSideRows(userId.value, key.specializationId, rows));
          },
        );
      });
    },

    applyBatch(actions, context) {
      return new ResultAsync(applyAll(actions, context));
    },

    acquireRunLock(scope: RunScope, lockOptions = {}): ResultAsync<RunLock, StoreError> {
      if (scope.shard) {
        const valid = parseWith(ShardSchema, scope.shard, 'run scope', 'shard');
        if (valid.isErr()) return new ResultAsync(Promise.resolve(err(valid.error)));
      }
      return acquireRunLock(connection, lockNamespace, scope, lockOptions.wait ?? false, name, logger);
    },
  };
  return store;
}
