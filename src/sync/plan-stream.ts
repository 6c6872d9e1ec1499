import { err, ok, type Result } from 'neverthrow';
import { readNow } from '../_internal/clock.js';
import { createLineHasher } from '../_internal/stable-json.js';
import { validationError, type PlanParseError, type StoreError, type ValidationError } from '../errors.js';
import type { SyncAction } from './action.js';
import type { Desync } from './desync.js';
import { formatPairKey } from './pair-key.js';
import { PairGrouper, PlanAccumulator } from './plan-builder.js';
import {
  PLAN_FORMAT_VERSION,
  fingerprintHeader,
  fingerprintTrailer,
  plannedMaxLevel,
  type CreatePlanOptions,
  type PlanScope,
  type PlanSummary,
  type PlannedMaxLevel,
  type SyncPlan,
} from './plan.js';
import { resolvePolicy, type SyncPolicy } from './policy.js';
import type { DesyncScanStream } from './scan.js';

/** What a streamed plan says before its first action (a plan file's header line). */
export interface PlanHeader {
  readonly formatVersion: typeof PLAN_FORMAT_VERSION;
  readonly createdAt: string;
  readonly policy: SyncPolicy;
  readonly scope: PlanScope;
  /** Legacy alias → canonical id of the catalog the diff used. */
  readonly aliases: Readonly<Record<string, string>>;
  /** The maxima known up front; a maximum first needed later arrives with its page. */
  readonly maxLevels: Readonly<Record<string, PlannedMaxLevel>>;
}

/** What a streamed plan knows once every action has gone by (a plan file's trailer line). */
export interface PlanTrailer {
  /** Every maximum the plan relied on (the header's and the late ones). */
  readonly maxLevels: Readonly<Record<string, PlannedMaxLevel>>;
  readonly summary: PlanSummary;
  readonly warnings: readonly string[];
  /** The same fingerprint `planFingerprint` gives the plan in memory. */
  readonly fingerprint: string;
}

/** A page of a streamed plan: actions in key order (a pair's actions may span pages). */
export interface PlanPage {
  /** Maxima first needed by this page's actions (not in the header); usually empty. */
  readonly maxLevels: Readonly<Record<string, PlannedMaxLevel>>;
  readonly actions: readonly SyncAction[];
}

/** Why a streamed plan could not be read to its end. */
export type PlanSourceError = StoreError | PlanParseError;

/**
 * A plan handed out page by page: from a scan as it runs ({@link createPlanStream}), from a
 * plan file being read (`readPlanLines`), or from a plan in memory ({@link streamPlan}).
 * Memory holds a page, never the whole plan. `applyPlan` and `encodePlanLines` take it.
 */
export interface PlanStream {
  readonly header: PlanHeader;
  /** Read it once. An `err` page ends the plan (a failed scan, a bad line). */
  readonly pages: AsyncIterable<Result<PlanPage, PlanSourceError>>;
  /**
   * The trailer: known from the start for a plan that was verified before it is streamed (a
   * plan file, a plan in memory); for a plan made as the scan runs, only once `pages` ended.
   */
  trailer(): PlanTrailer | undefined;
}

/** Options of {@link createPlanStream}: those of `createPlan`, minus what a scan carries. */
export type CreatePlanStreamOptions = Pick<CreatePlanOptions, 'policy' | 'now' | 'scope' | 'warnings'>;

/** The desyncs a streamed plan is made from: a {@link DesyncScanStream}, or bare pages. */
export type DesyncPageSource =
  | DesyncScanStream
  | { readonly pages: AsyncIterable<Result<readonly Desync[], StoreError>> | AsyncIterable<readonly Desync[]> };

/**
 * Turns pages of desyncs into pages of actions as they come: the streaming form of
 * `createPlan`, with the same actions, summary and warnings, and a fingerprint computed
 * incrementally. Desyncs must come in key order (as scans give them); one out of order ends the
 * plan with a `ValidationError`.
 *
 * ```ts
 * const report = await openDesyncScan(store, { resolver })
 *   .andThen((scan) => createPlanStream(scan, { policy: { direction: 'higher-wins' } }))
 *   .andThen((plan) => applyPlan(plan, store, { batchSize: 2_000 }));
 * if (report.isErr()) console.error(`${report.error._tag}: ${report.error.message}`);
 * ```
 */
export function createPlanStream(source: DesyncPageSource, options: CreatePlanStreamOptions = {}): Result<PlanStream, ValidationError> {
  const policyResult = resolvePolicy(options.policy ?? {});
  if (policyResult.isErr()) return err(policyResult.error);
  const policy = policyResult.value;
  const createdAt = readNow(options.now, 'plan options');
  if (createdAt.isErr()) return err(createdAt.error);
  const scan = isScanStream(source) ? source : undefined;
  const known: Record<string, PlannedMaxLevel> = {};
  if (scan) {
    for (const [id, resolution] of [...scan.maxLevels.resolutions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      known[id] = plannedMaxLevel(resolution);
    }
  }
  const header: PlanHeader = {
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: createdAt.value.toISOString(),
    policy,
    scope: options.scope ?? scan?.scope ?? {},
    aliases: Object.fromEntries([...(scan?.aliases ?? new Map<string, string>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    maxLevels: { ...known },
  };
  const hasher = createLineHasher();
  hasher.line(fingerprintHeader(header));
  let trailer: PlanTrailer | undefined;

  async function* pages(): AsyncGenerator<Result<PlanPage, PlanSourceError>> {
    const accumulator = new PlanAccumulator(policy, scan?.specializationRows);
    const grouper = new PairGrouper();
    const plan = (groups: readonly Desync[][]): PlanPage => {
      const late: Record<string, PlannedMaxLevel> = {};
      const actions: SyncAction[] = [];
      for (const group of groups) {
        for (const desync of group) {
          const id = desync.specializationId;
          if (desync.maxLevel !== null && known[id] === undefined) {
            const resolution = scan?.maxLevels.resolutions.get(id);
            known[id] = late[id] = resolution ? plannedMaxLevel(resolution) : { maxLevel: desync.maxLevel };
          }
        }
        for (const action of accumulator.pair(group)) {
          hasher.line(action);
          actions.push(action);
        }
      }
      return { maxLevels: late, actions };
    };
    for await (const item of source.pages) {
      const page = Array.isArray(item) ? (item as readonly Desync[]) : (item as Result<readonly Desync[], StoreError>);
      let desyncs: readonly Desync[];
      if (Array.isArray(page)) desyncs = page;
      else {
        const result = page as Result<readonly Desync[], StoreError>;
        if (result.isErr()) {
          yield err(result.error);
          return;
        }
        desyncs = result.value;
      }
      const { groups, outOfOrder } = grouper.push(desyncs);
      if (groups.length > 0) yield ok(plan(groups));
      if (outOfOrder) {
        yield err(validationError('desyncs', [{ field: formatPairKey(outOfOrder), message: 'is out of key order (user id, then specialization id): a streamed plan needs ordered desyncs' }]));
        return;
      }
    }
    const last = grouper.end();
    if (last) yield ok(plan([last]));
    const warnings = [...(scan?.summary().warnings ?? []), ...(options.warnings ?? []), ...accumulator.warnings(scan?.summary().legacyIds)];
    const maxLevels = sortedRecord(known);
    const summary = accumulator.summary();
    hasher.line(fingerprintTrailer({ maxLevels, summary, warnings }));
    trailer = { maxLevels, summary, warnings, fingerprint: hasher.digest() };
  }

  return ok({ header, pages: pages(), trailer: () => trailer });
}

/**
 * A plan in memory as a {@link PlanStream} (pages of `pageSize` actions, the trailer known up
 * front): what `applyPlan` and `encodePlanLines` do with a `SyncPlan`.
 */
export function streamPlan(plan: SyncPlan, pageSize = 1_000): PlanStream {
  const header: PlanHeader = {
    formatVersion: plan.formatVersion,
    createdAt: plan.createdAt,
    policy: plan.policy,
    scope: plan.scope,
    aliases: plan.aliases,
    maxLevels: plan.maxLevels,
  };
  const trailer: PlanTrailer = { maxLevels: plan.maxLevels, summary: plan.summary, warnings: plan.warnings, fingerprint: plan.fingerprint };
  async function* pages(): AsyncGenerator<Result<PlanPage, PlanSourceError>> {
    for (let start = 0; start < plan.actions.length; start += pageSize) {
      yield ok({ maxLevels: {}, actions: plan.actions.slice(start, start + pageSize) });
    }
  }
  return { header, pages: pages(), trailer: () => trailer };
}

/**
 * Reads a whole {@link PlanStream} into a `SyncPlan` (memory grows with the plan: for small
 * plans, tests and tools).
 */
export async function collectPlan(stream: PlanStream): Promise<Result<SyncPlan, PlanSourceError>> {
  const actions: SyncAction[] = [];
  for await (const page of stream.pages) {
    if (page.isErr()) return err(page.error);
    for (const action of page.value.actions) actions.push(action);
  }
  const trailer = stream.trailer();
  if (trailer === undefined) return err(validationError('plan', [{ field: 'trailer', message: 'is missing: the plan ended before its trailer' }]));
  const { header } = stream;
  return ok(assemblePlan(header, trailer, actions));
}

function isScanStream(source: DesyncPageSource): source is DesyncScanStream {
  return 'summary' in source && typeof (source as DesyncScanStream).summary === 'function' && 'maxLevels' in source;
}

function sortedRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A plan in memory from a stream's (or a plan file's) header, trailer and actions. */
export function assemblePlan(header: PlanHeader, trailer: PlanTrailer, actions: readonly SyncAction[]): SyncPlan {
  return {
    formatVersion: header.formatVersion,
    createdAt: header.createdAt,
    policy: header.policy,
    scope: header.scope,
    maxLevels: trailer.maxLevels,
    aliases: header.aliases,
    fingerprint: trailer.fingerprint,
    summary: trailer.summary,
    warnings: trailer.warnings,
    actions,
  };
}
