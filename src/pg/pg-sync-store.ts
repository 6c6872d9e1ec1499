import { randomUUID } from 'node:crypto';
import { err, ok, ResultAsync, type Result } from 'neverthrow';
import { z } from 'zod';
import type { Catalog } from '../domain/catalog.js';
import { DEFAULT_CATALOG } from '../domain/default-catalog.js';
import type { UserId } from '../domain/records.js';
import { describeCause, validationError, type StoreError, type ValidationError, type ValidationIssue } from '../errors.js';
import { pgStoreUnavailable } from './transient-errors.js';
import type { LegacyIdUsage } from '../sync/legacy-ids.js';
import { parseWith } from '../_internal/zod.js';
import type { WriteAction } from '../sync/action.js';
import { safeLogger, type Logger } from '../logger.js';
import type { PairKey } from '../sync/pair-key.js';
import { ShardSchema } from '../sync/shard.js';
import type { SyncPair } from '../sync/pair.js';
import type { ApplyContext, DifferingPairQuery, PairQuery, RunLock, RunScope, SyncStore, WriteOutcome } from '../sync/sync-store.js';
import { acquireRunLock, pairLockKey } from './advisory-run-lock.js';
import { applyValues, buildApplyStatement, checkBatch, chunkByPair } from './apply-statement.js';
import { quoteTable } from './identifier.js';
import { joinedRowReader, PairAssembler, pairFromSideRows, sideRowReader, unreadableRowKey } from './pair-rows.js';
import { LEVELSYNC_MAPPING, requireMapping, type PgMapping } from './pg-mapping.js';
import { countValue, rowReader, textValue } from './row-values.js';
import {
  buildCountQuery,
  buildDifferingPairsQuery,
  buildLegacyIdQuery,
  buildPairsQuery,
  buildReadPairQuery,
  type BuiltStatement,
  type PairFilter,
} from './scan-query.js';
import { toPgConnection, type PgConnection, type PgConnectionInput, type PgSession } from './sql-client.js';
import { toColumnUserId } from './sql-params.js';
import { introspectTables, type MappedTableFacts } from './table-introspection.js';

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
   * trip with a fixed cost of a few milliseconds on top of the rows: measured on 110 k differing
   * pairs, 1 000-row FETCHes cost 5–10 µs per row on the client, 10 000-row FETCHes about 4.
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

const DEFAULT_PAGE_SIZE = 1_000;
const DEFAULT_CHUNK_SIZE = 2_000;
const MIN_FETCH_SIZE = 1_000;
const DEFAULT_FETCH_SIZE = 10_000;

const PairQuerySchema = z.object({
  specializationIds: z.array(z.string({ error: 'must be a string' })).optional(),
  userIds: z.array(z.unknown()).optional(),
  shard: ShardSchema.optional(),
  aliases: z.instanceof(Map, { error: 'must be a Map of alias → canonical id' }).optional(),
  pageSize: z.number().int().min(1).max(1_000_000).optional(),
});

const DifferingQuerySchema = PairQuerySchema.extend({
  maxLevels: z.instanceof(Map, { error: 'must be a Map of canonical id → maximum level' }),
});

const readCount = rowReader({ n: countValue }, 'count row', {});
const readLegacy = rowReader({ sid: textValue, canon: textValue, p_rows: countValue, l_rows: countValue, pairs: countValue }, 'legacy id row', {});
const readApplied = rowReader({ idx: countValue, done: z.boolean({ error: 'must be a boolean' }) }, 'apply result row', {});

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
  const name = options.name ?? (connection.kind === 'pglite' ? 'pglite' : 'postgres');
  const logger = safeLogger(options.logger);
  const defaultPageSize = positiveInteger(options.pageSize, DEFAULT_PAGE_SIZE, 'pageSize');
  const chunkSize = positiveInteger(options.chunkSize, DEFAULT_CHUNK_SIZE, 'chunkSize');
  const fetchOption = options.fetchSize === undefined ? undefined : positiveInteger(options.fetchSize, MIN_FETCH_SIZE, 'fetchSize');
  const applySql = buildApplyStatement(mapping);
  const readJoined = joinedRowReader(mapping);
  const integerUsers = mapping.userIdType === 'integer' || mapping.userIdType === 'bigint';
  const readSide = sideRowReader(mapping);
  const lockNamespace = [mapping.schema, quoteTable(mapping.schema, mapping.progress.table), quoteTable(mapping.schema, mapping.licenses.table)].join('|');

  let facts: Promise<MappedTableFacts> | undefined;
  const loadFacts = (): Promise<MappedTableFacts> => {
    facts ??= introspectTables(connection.run, mapping).catch((cause) => {
      facts = undefined;
      throw cause;
    });
    return facts;
  };
  const factsResult = () => ResultAsync.fromPromise(loadFacts(), (cause) => pgStoreUnavailable(name, cause, 'could not read the table catalog'));

  const storeAliases = (options.catalog ?? DEFAULT_CATALOG).aliasMap;

  /** A user id in the column's form (exact conversion), or the issue naming `field`. */
  const columnUserId = (value: unknown, field: string): { ok: true; value: UserId } | { ok: false; issue: ValidationIssue } => {
    const converted = toColumnUserId(value, mapping.userIdType);
    return converted.ok ? converted : { ok: false, issue: { field, message: `${converted.message} (user ids are ${mapping.userIdType} in this mapping)` } };
  };

  const filterOf = (query: PairQuery, subject: string): Result<PairFilter, ValidationError> => {
    const valid = parseWith(PairQuerySchema, query, subject);
    if (valid.isErr()) return err(valid.error);
    let userIds: UserId[] | undefined;
    if (query.userIds) {
      const issues: ValidationIssue[] = [];
      userIds = [];
      query.userIds.forEach((id, i) => {
        const c = columnUserId(id, `userIds[${i}]`);
        if (c.ok) userIds!.push(c.value);
        else issues.push(c.issue);
      });
      if (issues.length > 0) return err(validationError(subject, issues));
    }
    return ok({
      aliases: query.aliases ?? storeAliases,
      ...(query.specializationIds ? { specializationIds: query.specializationIds } : {}),
      ...(userIds ? { userIds } : {}),
      ...(query.shard ? { shard: query.shard } : {}),
    });
  };

  async function* stream(
    build: (facts: MappedTableFacts) => BuiltStatement,
    pageSize: number,
    what: string,
  ): AsyncGenerator<Result<readonly SyncPair[], StoreError>> {
    const fetchSize = fetchOption ?? Math.max(DEFAULT_FETCH_SIZE, pageSize);
    const cursor = `levelsync_${randomUUID().replace(/-/g, '')}`;
    let session: PgSession | undefined;
    let inTransaction = false;
    let declared = false;
    let broken = false;
    const started = Date.now();
    let pairs = 0;
    try {
      const statement = build(await loadFacts());
      session = await connection.checkout();
      if (connection.kind === 'pool') {
        // A dedicated session and a transaction: the cursor streams without materialising.
        await session.run('BEGIN READ ONLY');
        inTransaction = true;
        // Transaction-local planner settings (they end with this read-only transaction):
        // - a cursor is planned for its first 10 % by default (fast-start plans); levelsync
        //   reads it to the end, so plan for all of it: the same hash join as a plain query;
        // - the planner cannot know how few join rows differ, so it overestimates the rows to
        //   sort by one or two orders of magnitude, and the inflated cost switches on JIT
        //   inlining and optimisation (measured: up to 1 s of compilation on 4 M rows). JIT is
        //   off altogether: on the original's tables (600 k rows each) the bare join stays below
        //   jit_above_cost while the diff's inflated estimate does not, and then paid 0.3 s to
        //   load LLVM in a new session, 0.1–0.2 s of compilation and 0.2–0.4 s at executor end,
        //   for no faster join (measured, EXPLAIN ANALYZE on the legacy data set).
        await session.run(
          `SELECT set_config('cursor_tuple_fraction', '1', true), set_config('jit', 'off', true)`,
        );
        await session.run(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${statement.text}`, statement.values);
      } else {
        // The caller's session or PGlite: WITH HOLD works inside and outside a transaction
        // and leaves no transaction open between fetches.
        await session.run(`DECLARE ${cursor} NO SCROLL CURSOR WITH HOLD FOR ${statement.text}`, statement.values);
      }
      declared = true;
      const assembler = new PairAssembler();
      let page: SyncPair[] = [];
      for (;;) {
        const batch = await session.run(`FETCH FORWARD ${fetchSize} FROM ${cursor}`);
        for (const raw of batch.rows) {
          const row = readJoined(raw);
          // A row levelsync cannot represent flags its pair for review; the scan goes on.
          const done = row.isOk() ? assembler.push(row.value) : assembler.pushUnreadable(unreadableRowKey(raw, integerUsers), row.error.message);
          if (done) {
            page.push(done);
            if (page.length >= pageSize) {
              pairs += page.length;
              yield ok(page);
              page = [];
            }
          }
        }
        if (batch.rows.length < fetchSize) break;
      }
      const last = assembler.flush();
      if (last) page.push(last);
      await session.run(`CLOSE ${cursor}`);
      declared = false;
      if (inTransaction) {
        await session.run('COMMIT');
        inTransaction = false;
      }
      if (page.length > 0) {
        pairs += page.length;
        yield ok(page);
      }
      logger.debug({ store: name, pairs, ms: Date.now() - started }, `${what} finished`);
    } catch (cause) {
      broken = true;
      logger.warn({ store: name }, `${what} failed: ${describeCause(cause)}`);
      yield err(pgStoreUnavailable(name, cause, `could not ${what}`));
    } finally {
      if (session) {
        try {
          if (inTransaction) await session.run('ROLLBACK');
          else if (declared) await session.run(`CLOSE ${cursor}`);
          broken = false;
        } catch {
          // The session is unusable; a pool checkout is destroyed below.
        }
        session.release(broken && connection.kind === 'pool');
      }
    }
  }

  function invalidPages(error: StoreError): AsyncIterable<Result<readonly SyncPair[], StoreError>> {
    return (async function* () {
      yield err(error);
    })();
  }

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
      return stream((f) => buildPairsQuery(mapping, f, filter.value), query.pageSize ?? defaultPageSize, 'scan pairs');
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
      return stream(
        (f) => buildDifferingPairsQuery(mapping, f, filter.value, query.maxLevels, { listLegacy: query.listLegacy === true }),
        query.pageSize ?? defaultPageSize,
        'find differing pairs',
      );
    },

    summarizeLegacyIds(query) {
      const filter = filterOf(query, 'pair query');
      if (filter.isErr()) return new ResultAsync(Promise.resolve(err(filter.error)));
      if (filter.value.aliases.size === 0) return new ResultAsync(Promise.resolve(ok([])));
      return factsResult().andThen((f) => {
        const statement = buildLegacyIdQuery(mapping, f, filter.value);
        // On a pool, in its own short transaction without JIT (as the scan's cursor, which it
        // runs beside): a new session would otherwise load LLVM first (≈ 0.3 s).
        const counted =
          connection.kind === 'pool'
            ? connection.transaction(async (run) => {
                await run(`SELECT set_config('jit', 'off', true)`);
                return run(statement.text, statement.values);
              })
            : connection.run(statement.text, statement.values);
        return ResultAsync.fromPromise(counted, (cause) => pgStoreUnavailable(name, cause, 'could not count legacy ids')).andThen(
          (result) => {
            const out: LegacyIdUsage[] = [];
            for (const raw of result.rows) {
              const row = readLegacy(raw);
              if (row.isErr()) return err(row.error);
              const r = row.value;
              out.push({ storedId: r.sid, canonicalId: r.canon, progressRows: r.p_rows, licenseRows: r.l_rows, pairs: r.pairs });
            }
            return ok(out);
          },
        );
      });
    },

    countPairs(query) {
      const filter = filterOf(query, 'pair query');
      if (filter.isErr()) return new ResultAsync(Promise.resolve(err(filter.error)));
      return factsResult().andThen((f) => {
        const statement = buildCountQuery(mapping, f, filter.value);
        return ResultAsync.fromPromise(connection.run(statement.text, statement.values), (cause) => pgStoreUnavailable(name, cause, 'could not count pairs')).andThen(
          (result) => {
            const row = readCount(result.rows[0]);
            return row.isOk() ? ok(row.value.n) : err(row.error);
          },
        );
      });
    },

    readPair(key: PairKey, readOptions = {}) {
      const valid = parseWith(z.object({ userId: z.unknown(), specializationId: z.string() }), key, 'pair key');
      if (valid.isErr()) return new ResultAsync(Promise.resolve(err(valid.error)));
      const userId = columnUserId(key.userId, 'userId');
      if (!userId.ok) return new ResultAsync(Promise.resolve(err(validationError('pair key', [userId.issue]))));
      const aliases = readOptions.aliases ?? storeAliases;
      return factsResult().andThen((f) => {
        const pairLock = f.progress.uniqueKey && f.licenses.uniqueKey ? undefined : pairLockKey(lockNamespace, userId.value, key.specializationId);
        const statement = buildReadPairQuery(mapping, f, userId.value, key.specializationId, aliases, readOptions.lock ?? false, pairLock);
        return ResultAsync.fromPromise(connection.run(statement.text, statement.values), (cause) => pgStoreUnavailable(name, cause, 'could not read a pair')).andThen(
          (result) => {
            const rows = [];
            for (const raw of result.rows) {
              const row = readSide(raw);
              if (row.isErr()) return err(row.error);
              rows.push(row.value);
            }
            return ok(pairFromSideRows(userId.value, key.specializationId, rows));
          },
        );
      });
    },

    applyBatch(actions: readonly WriteAction[], context: ApplyContext) {
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

  /**
   * Where a table has no unique key, ON CONFLICT cannot stop two transactions from creating the
   * same record. Creations there are serialised per pair: the batch first takes a
   * transaction-level advisory lock on each pair it creates a record for (in key order), in its
   * own statement, so that the apply statement that follows runs on a snapshot taken after any
   * competing creator committed (READ COMMITTED). `readPair({ lock: true })` takes the same lock
   * first, so hooks and bulk runs lock in the same order. Costs BEGIN, the lock statement and
   * COMMIT per batch on a pool; nothing where both tables have unique keys.
   */
  function pairLocksFor(actions: readonly WriteAction[], facts: MappedTableFacts): string[] {
    const keys = new Set<string>();
    for (const action of actions) {
      const unguarded =
        (action.kind === 'CreateLicense' && !facts.licenses.uniqueKey) || (action.kind === 'CreateProgress' && !facts.progress.uniqueKey);
      if (unguarded) keys.add(pairLockKey(lockNamespace, action.userId, action.specializationId));
    }
    return [...keys].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  }

  async function applyAll(rawActions: readonly WriteAction[], rawContext: ApplyContext): Promise<Result<readonly WriteOutcome[], StoreError>> {
    if (rawActions.length === 0) return ok([]);
    // User ids in the column's form (a decimal string for an integer column, converted exactly).
    const issues: ValidationIssue[] = [];
    const actions = rawActions.map((action, i) => {
      const c = columnUserId(action.userId, `actions[${i}].userId`);
      if (!c.ok) issues.push(c.issue);
      return c.ok && c.value !== action.userId ? { ...action, userId: c.value } : action;
    });
    let actor = rawContext.actor;
    if (actor !== null) {
      const c = columnUserId(actor, 'context.actor');
      if (c.ok) actor = c.value;
      else issues.push(c.issue);
    }
    if (issues.length > 0) return err(validationError('write batch', issues));
    const context = {
      actor,
      now: rawContext.now,
      aliases: rawContext.aliases ?? storeAliases,
      ...(rawContext.lockTimeoutMs !== undefined ? { lockTimeoutMs: rawContext.lockTimeoutMs } : {}),
    };
    const invalid = checkBatch(actions, context, mapping);
    if (invalid) return err(invalid);
    const outcomes: WriteOutcome[] = actions.map(() => 'Stale');
    const chunks = chunkByPair(actions, chunkSize);
    const started = Date.now();
    type Run = (text: string, values?: readonly unknown[]) => Promise<{ rows: readonly Record<string, unknown>[] }>;
    const runChunk = async (run: Run, chunk: (typeof chunks)[number], pairLocks: readonly string[]) => {
      if (pairLocks.length > 0) {
        await run('SELECT count(pg_advisory_xact_lock(k.key)) AS n FROM unnest($1::int8[]) WITH ORDINALITY AS k(key, n)', [pairLocks]);
      }
      const result = await run(applySql, applyValues(chunk.actions, context, mapping));
      for (const raw of result.rows) {
        const row = readApplied(raw);
        if (row.isErr()) throw new Error(row.error.message);
        const index = chunk.indexes[row.value.idx];
        if (index !== undefined) outcomes[index] = row.value.done ? 'AlreadyApplied' : 'Applied';
      }
    };
    let statements = 0;
    try {
      const f = connection.kind === 'pglite' ? undefined : await loadFacts();
      const locks = chunks.map((chunk) => (f ? pairLocksFor(chunk.actions, f) : []));
      statements = chunks.length + locks.filter((l) => l.length > 0).length;
      // A lock timeout needs a transaction of ours (SET LOCAL): never on a caller's session,
      // where it would outlive the batch; PGlite has one session and never waits.
      const lockTimeout = context.lockTimeoutMs !== undefined && context.lockTimeoutMs > 0 && connection.kind === 'pool' ? context.lockTimeoutMs : undefined;
      if (chunks.length === 1 && locks[0]!.length === 0 && lockTimeout === undefined) await runChunk(connection.run, chunks[0]!, []);
      else {
        await connection.transaction(async (run) => {
          if (lockTimeout !== undefined) await run(`SELECT set_config('lock_timeout', $1::text, true)`, [`${lockTimeout}ms`]);
          for (let i = 0; i < chunks.length; i++) await runChunk(run, chunks[i]!, locks[i]!);
        });
      }
    } catch (cause) {
      logger.warn({ store: name, actions: actions.length }, `batch rolled back: ${describeCause(cause)}`);
      return err(pgStoreUnavailable(name, cause, 'rolled back a batch'));
    }
    const applied = outcomes.filter((o) => o === 'Applied').length;
    logger.debug({ store: name, actions: actions.length, applied, stale: actions.length - applied, statements, ms: Date.now() - started }, 'batch applied');
    return ok(outcomes);
  }

  return store;
}

function positiveInteger(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`levelsync/pg: ${field} must be a positive integer (got ${String(value)})`);
  return value;
}
