import { err, ok, ResultAsync, type Result } from 'neverthrow';
import type { UserId } from '../domain/records.js';
import { UserIdSchema } from '../domain/records.js';
import { SPECIALIZATION_ID_PATTERN, SpecializationIdSchema } from '../domain/specialization-id.js';
import { validationError, type StoreError } from '../errors.js';
import { parseWith } from '../_internal/zod.js';
import type { MaxLevelResolver, MaxLevelTable, Resolution } from '../max-level/resolution.js';
import { z } from 'zod';
import type { Desync } from './desync.js';
import { diffPair } from './diff.js';
import { countLegacyIdUse, legacyIdSummary, mergeLegacyIdUse, type LegacyIdSummary, type LegacyIdUsage } from './legacy-ids.js';
import { safeListener, safeLogger, type Logger } from '../logger.js';
import type { PlanScope } from './plan.js';
import { ShardSchema, type Shard } from './shard.js';
import { specializationRowCheck, type SpecializationRowCheck, type SpecializationRows } from './specialization-rows.js';
import type { PairKey } from './pair-key.js';
import type { PairQuery, SyncStore } from './sync-store.js';

/** Options of {@link scanDesyncs}. */
export interface ScanOptions {
  readonly resolver: MaxLevelResolver;
  /** Canonical ids or aliases; rows stored under aliases are included. */
  readonly specializationIds?: readonly string[];
  readonly userIds?: readonly UserId[];
  readonly shard?: Shard;
  readonly pageSize?: number;
  /**
   * Start after this pair key (keyset paging of a listing: the last key of the previous page).
   * Only the pairs after it are read, and the legacy-id counts cover those pairs. Not part of
   * `scope`: a plan made from such a scan covers only the pairs after the key.
   */
  readonly after?: PairKey;
  /** Let the store find the differing pairs itself when it can (default true). */
  readonly nativeDiff?: boolean;
  /**
   * Also list a `LegacySpecializationId` desync per record stored under a legacy id (default
   * false: legacy-id use is summarised once per stored id in `legacyIds`, and a pair stored under
   * a legacy id whose levels agree is in sync).
   */
  readonly listLegacy?: boolean;
  /** Called after each page with the number of pairs read so far. A listener that throws is ignored (logged at warn). */
  readonly onProgress?: (progress: { readonly pairsRead: number; readonly desyncs: number }) => void;
  readonly logger?: Logger;
}

/** What a scan found: the desyncs and everything a plan records about how they were found. */
export interface DesyncScan {
  /** In key order, then kind order. */
  readonly desyncs: readonly Desync[];
  /** Pairs the store returned (only the differing ones when the store diffs natively). */
  readonly pairsRead: number;
  /** The maximum levels used. */
  readonly maxLevels: MaxLevelTable;
  readonly aliases: ReadonlyMap<string, string>;
  /**
   * Legacy-id use in scope, one entry per stored legacy id (rows of each side, pairs, canonical
   * id, deprecation date), counted by the store where it can (`summarizeLegacyIds`).
   */
  readonly legacyIds: readonly LegacyIdSummary[];
  readonly scope: PlanScope;
  /** E.g. a maximum level that came from the fallback constants because the repository failed. */
  readonly warnings: readonly string[];
  /**
   * The store's specialization rows (`SyncStore.specializationRows`), when it could read them: a
   * plan made from the scan flags a creation under an id without a row instead of planning it.
   */
  readonly specializationRows?: SpecializationRows;
}

const ScanOptionsSchema = z.object({
  specializationIds: z.array(SpecializationIdSchema).min(1).optional(),
  userIds: z.array(UserIdSchema).min(1).max(100_000).optional(),
  shard: ShardSchema.optional(),
  pageSize: z.number().int().min(1).max(100_000).optional(),
  after: z.object({ userId: UserIdSchema, specializationId: SpecializationIdSchema }).optional(),
});

/** What a scan knows besides its desyncs; complete once its pages have been read. */
export type DesyncScanSummary = Omit<DesyncScan, 'desyncs'> & {
  /** Desyncs found (legacy-id notes included). */
  readonly desyncCount: number;
};

/**
 * A scan read page by page, so that memory holds one page of desyncs, never all of them.
 * `scope`, `aliases` and `maxLevels` are known when it opens (`maxLevels` grows when an id the
 * bulk resolution missed is resolved during the scan); `summary()` is complete after `pages`.
 */
export interface DesyncScanStream {
  readonly scope: PlanScope;
  readonly aliases: ReadonlyMap<string, string>;
  readonly maxLevels: MaxLevelTable;
  /** The store's specialization rows, read when the scan opens (absent when the store cannot tell). */
  readonly specializationRows?: SpecializationRows;
  /**
   * Desyncs in key order (then kind order), a page per store page; a pair's desyncs are never
   * split across pages. Read it once. An `err` page ends the scan.
   */
  readonly pages: AsyncIterable<Result<readonly Desync[], StoreError>>;
  /** Pairs read, desyncs found and warnings so far (final once `pages` has ended). */
  summary(): DesyncScanSummary;
}

/**
 * Reads pairs from a store and diffs them: resolves every maximum level once (`resolveAll`),
 * asks the store for the differing pairs only when it can diff natively (else reads every pair),
 * and runs the core {@link diffPair} on each. Ids the bulk resolution missed are resolved one by
 * one as they appear. Collects every desync: use {@link openDesyncScan} when there may be many.
 *
 * ```ts
 * const scan = await scanDesyncs(store, { resolver });
 * const plan = scan.andThen((s) => createPlan(s, { policy: {} }));
 * ```
 */
export function scanDesyncs(store: SyncStore, options: ScanOptions): ResultAsync<DesyncScan, StoreError> {
  return openDesyncScan(store, options).andThen((stream) =>
    ResultAsync.fromSafePromise(collect(stream)).andThen((collected) => (collected.isErr() ? err(collected.error) : ok(collected.value))),
  );
}

async function collect(stream: DesyncScanStream): Promise<Result<DesyncScan, StoreError>> {
  const desyncs: Desync[] = [];
  for await (const page of stream.pages) {
    if (page.isErr()) return err(page.error);
    for (const desync of page.value) desyncs.push(desync);
  }
  const { desyncCount: _count, ...summary } = stream.summary();
  return ok({ ...summary, desyncs });
}

/**
 * The streaming form of {@link scanDesyncs}: resolves the maximum levels, then hands out the
 * desyncs page by page as the store streams its pairs. Memory is bounded by the page.
 *
 * ```ts
 * const scan = await openDesyncScan(store, { resolver });
 * if (scan.isOk()) for await (const page of scan.value.pages) console.log(page.map((d) => d.kind));
 * ```
 */
export function openDesyncScan(store: SyncStore, options: ScanOptions): ResultAsync<DesyncScanStream, StoreError> {
  const valid = parseWith(ScanOptionsSchema, options, 'scan options');
  if (valid.isErr()) return new ResultAsync(Promise.resolve(err(valid.error)));
  return ResultAsync.fromSafePromise(openScan(store, options, valid.value));
}

async function openScan(store: SyncStore, options: ScanOptions, parsed: z.output<typeof ScanOptionsSchema>): Promise<DesyncScanStream> {
  const { resolver } = options;
  const logger = safeLogger(options.logger);
  const progressed = safeListener(options.onProgress, 'scan onProgress', logger);
  const catalog = resolver.catalog;
  const specializationIds = parsed.specializationIds ? [...new Set(parsed.specializationIds.map((id) => catalog.canonicalId(id)))] : undefined;
  const scope: PlanScope = {
    ...(specializationIds ? { specializationIds } : {}),
    ...(options.userIds ? { userIds: options.userIds } : {}),
    ...(options.shard ? { shard: { index: options.shard.index, count: options.shard.count } } : {}),
  };

  const [table, rowsRead] = await Promise.all([resolver.resolveAll(specializationIds), readSpecializationRows(store)]);
  const rows = rowsRead.rows;
  const rowCheck = rows ? specializationRowCheck(rows) : undefined;
  // Pairs missing a record, by the stored id the record would be created under: refused ones
  // (no row) and all of them (for the warning when the rows could not be read).
  const refusedCreations = new Map<string, number>();
  let creations = 0;
  const resolutions = new Map<string, Resolution>(table.resolutions);
  const unresolved = new Map(table.unresolved);
  const maxLevels = new Map<string, number>();
  for (const [id, resolution] of resolutions) maxLevels.set(id, resolution.maxLevel);
  const liveTable: MaxLevelTable = { resolutions, unresolved, maxLevelOf: (id: string) => maxLevels.get(id) };

  // A store created with its catalog groups legacy ids itself; others get the resolver's aliases.
  const aliases = store.aliases ?? catalog.aliasMap;
  const query: PairQuery = {
    ...scope,
    ...(store.aliases === undefined ? { aliases } : {}),
    ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
    ...(parsed.after ? { after: { userId: parsed.after.userId, specializationId: catalog.canonicalId(parsed.after.specializationId) } } : {}),
  };
  const listLegacy = options.listLegacy === true;
  const native = options.nativeDiff !== false && store.scanDifferingPairs !== undefined;

  let pairsRead = 0;
  let desyncCount = 0;
  let finished = false;
  // Specialization ids with at least one desync: warnings name only the ids that matter.
  const seen = new Set<string>();
  let warnings: string[] = [];
  let legacyIds: readonly LegacyIdSummary[] = [];

  async function* pages(): AsyncGenerator<Result<readonly Desync[], StoreError>> {
    const source = native ? store.scanDifferingPairs!({ ...query, maxLevels, ...(listLegacy ? { listLegacy } : {}) }) : store.scanPairs(query);
    // Legacy-id use: counted by the store in one statement, or here from the pairs read.
    const summarize = store.summarizeLegacyIds !== undefined && aliases.size > 0;
    let counted: LegacyIdUsage[] = [];
    // Started before the pages are read: on a pool it runs on another connection, beside the diff.
    const usagePromise = summarize ? store.summarizeLegacyIds!(query) : undefined;
    const tried = new Set<string>(unresolved.keys());
    for await (const page of source) {
      if (page.isErr()) {
        yield err(page.error);
        return;
      }
      const desyncs: Desync[] = [];
      for (const pair of page.value) {
        const id = pair.specializationId;
        if (!maxLevels.has(id) && !tried.has(id)) {
          tried.add(id);
          const late = SPECIALIZATION_ID_PATTERN.test(id)
            ? await resolver.resolve(id)
            : // Stored ids are compared exactly: "lfa_coach" is not LFA_COACH, and guessing is not ours to do.
              err(
                validationError('specialization id', [
                  { field: 'specializationId', message: `stored id ${JSON.stringify(id)} is not a canonical specialization id (upper case letters, digits, _)` },
                ]),
              );
          if (late.isOk()) {
            resolutions.set(id, late.value);
            maxLevels.set(id, late.value.maxLevel);
          } else {
            unresolved.set(id, late.error);
          }
        }
        for (const desync of diffPair(pair, { maxLevelOf: (x) => maxLevels.get(x), listLegacy })) {
          desyncs.push(desync);
          seen.add(desync.specializationId);
          if (desync.kind === 'MissingLicense' || desync.kind === 'MissingProgress') {
            creations++;
            const refused = refusedCreation(desync, rowCheck);
            if (refused !== undefined) refusedCreations.set(refused, (refusedCreations.get(refused) ?? 0) + 1);
          }
        }
      }
      if (!summarize && aliases.size > 0) counted = mergeLegacyIdUse(counted, countLegacyIdUse(page.value, aliases));
      pairsRead += page.value.length;
      desyncCount += desyncs.length;
      progressed({ pairsRead, desyncs: desyncCount });
      yield ok(desyncs);
    }
    const late: string[] = [];
    if (usagePromise) {
      const usage = await usagePromise;
      if (usage.isErr()) {
        yield err(usage.error);
        return;
      }
      counted = [...usage.value];
    } else if (native && aliases.size > 0 && counted.length > 0) {
      late.push(`The store cannot count legacy-id use: the legacy-id counts cover only the ${pairsRead} pair(s) that differ`);
    }
    legacyIds = legacyIdSummary(counted, catalog);
    finished = true;
    warnings = [...late, ...scanWarnings(resolutions, unresolved, seen), ...rowWarnings(rows, rowsRead.error, refusedCreations, creations)];
    for (const warning of warnings) logger.warn({ store: store.name }, warning);
    logger.info({ store: store.name, pairsRead, desyncs: desyncCount, native }, 'levelsync scan finished');
  }

  return {
    scope,
    aliases,
    maxLevels: liveTable,
    ...(rows ? { specializationRows: rows } : {}),
    pages: pages(),
    summary: () => ({
      ...(rows ? { specializationRows: rows } : {}),
      pairsRead,
      desyncCount,
      maxLevels: liveTable,
      aliases,
      legacyIds,
      scope,
      warnings: finished ? warnings : scanWarnings(resolutions, unresolved, seen),
    }),
  };
}

/**
 * The store's specialization rows, or why they could not be read.
 *
 * Why the store and not the max-level resolution: a foreign key checks the id a record is
 * stored under (`PLAYER`, not `GANCUJU_PLAYER`), in the table the store writes beside, whereas a
 * resolution is per canonical id, tries aliases, and may come from repositories that are not that
 * table at all (a config service, or none: fallback constants only). So "the resolution came from
 * the fallback with no repository error" is not proof that a row is missing. Only a definite
 * answer from the store flags anything: when the store cannot say (no `specializationRows`, or
 * the read failed, e.g. the table is unreachable), nothing is flagged for it, the fallback
 * warnings stay as they are, and a warning says creations were not checked (the database then
 * refuses them at apply, where poison isolation names them).
 */
async function readSpecializationRows(store: SyncStore): Promise<{ readonly rows?: SpecializationRows; readonly error?: string }> {
  if (store.specializationRows === undefined) return {};
  try {
    const read = await store.specializationRows();
    return read.isOk() ? { rows: read.value } : { error: read.error.message };
  } catch (cause) {
    return { error: cause instanceof Error ? cause.message : String(cause) };
  }
}

/** The stored id a pair's missing record would be created under, when the store refuses it. */
function refusedCreation(desync: Desync, check: SpecializationRowCheck | undefined): string | undefined {
  if (check === undefined) return undefined;
  if (desync.kind === 'MissingLicense' && desync.progress && check.refuses('license', desync.progress.specializationId)) return desync.progress.specializationId;
  if (desync.kind === 'MissingProgress' && desync.license && check.refuses('progress', desync.license.specializationId)) return desync.license.specializationId;
  return undefined;
}

function rowWarnings(rows: SpecializationRows | undefined, error: string | undefined, refused: ReadonlyMap<string, number>, creations: number): string[] {
  const warnings: string[] = [];
  if (error !== undefined && creations > 0) {
    warnings.push(`Could not read the specializations table (${error}): records to create were not checked against it; the database refuses any under an id without a row at apply`);
  }
  for (const [id, pairs] of [...refused].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    warnings.push(
      `Specialization ${id} has no row in ${rows!.table}: ${pairs} pair(s) missing a record under it are flagged for review (SpecializationRowMissing), since creating the record would violate a foreign key; add the row, then plan again`,
    );
  }
  return warnings;
}

function scanWarnings(
  resolutions: ReadonlyMap<string, Resolution>,
  unresolved: MaxLevelTable['unresolved'],
  seen: ReadonlySet<string>,
): string[] {
  const warnings: string[] = [];
  for (const [id, resolution] of resolutions) {
    if (resolution.source === 'fallback' || resolution.source === 'stale-cache') {
      const why = resolution.errors.length > 0 ? `: ${resolution.errors.map((e) => e.message).join('; ')}` : '';
      const from = resolution.source === 'fallback' ? 'the fallback constants' : 'the last known good (stale) cached value';
      if (resolution.errors.length > 0 || seen.has(id)) {
        warnings.push(`Maximum level of ${id} (${resolution.maxLevel}) came from ${from}${why}`);
      }
    }
  }
  for (const [id, error] of unresolved) {
    if (seen.has(id)) warnings.push(`${error.message}: its pairs are flagged for review`);
  }
  return warnings;
}
