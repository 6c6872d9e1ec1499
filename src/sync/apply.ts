import { randomUUID } from 'node:crypto';
import { err, ok, ResultAsync } from 'neverthrow';
import { z } from 'zod';
import type { UserId } from '../domain/records.js';
import { UserIdSchema } from '../domain/records.js';
import { describeCause, storeUnavailable, validationError, type StoreError, type ValidationError, type ValidationIssue } from '../errors.js';
import { NowOptionSchema, systemNow } from '../_internal/clock.js';
import { parseWith } from '../_internal/zod.js';
import { isWriteAction, type SyncAction, type WriteAction } from './action.js';
import type { ActionOutcome, ActionStatus, ApplyStatus, BatchReport, SyncEvent } from './events.js';
import { safeListener, safeLogger, type Logger } from '../logger.js';
import { comparePairKeys } from './pair.js';
import { checkPlanAction, checkPlanConsistency } from './parse-plan.js';
import { isolateRefusals, isRefusal, refusalOf, type ActionRefusal } from './isolate-refusals.js';
import { planFingerprint, type PlanScope, type SyncPlan } from './plan.js';
import { streamPlan, type PlanSourceError, type PlanStream } from './plan-stream.js';
import { formatShard } from './shard.js';
import type { RunLock, SyncStore, WriteOutcome } from './sync-store.js';

/** Options of {@link applyPlan}. */
export interface ApplyOptions {
  /** Write actions per batch; each batch is one transaction (default 1 000). A pair's actions are never split. */
  readonly batchSize?: number;
  /**
   * A batch the database refuses because of what some actions write (a foreign key, a check
   * constraint: SQLSTATE class 22 or 23) is split in halves until the refusing actions are
   * alone; they are reported `Failed` with their SQLSTATE and constraint (`outcome.refusal`),
   * the others applied (default true). False: the whole batch fails, as before.
   */
  readonly isolateRefusals?: boolean;
  /** After a failed (rolled back) batch: go on with the next one (default) or stop. */
  readonly onBatchFailure?: 'continue' | 'stop';
  /**
   * How many times a batch the database rolled back for a transient reason (a deadlock with
   * concurrent writers, a serialization failure) is sent again before it counts as failed
   * (default 2). Safe: the batch was rolled back whole and every action is compare-and-set.
   */
  readonly transientRetries?: number;
  /** Stops the run between batches. */
  readonly signal?: AbortSignal;
  /** Go through every step except the writes; every write action is reported `Planned`. */
  readonly dryRun?: boolean;
  /** Recorded as `advancedBy` on progression rows (default null: automatic). */
  readonly actor?: UserId | null;
  /** The wall clock written timestamps are read from, once per batch (default `() => new Date()`). */
  readonly now?: () => Date;
  /** Run lock: fail fast with `RunInProgress` (`try`, default), `wait` for it, or `none`. */
  readonly lock?: 'try' | 'wait' | 'none';
  /**
   * A run lock the caller already holds (taken before scanning, so that nothing is planned
   * under another run): `applyPlan` takes no lock of its own, never releases this one, and
   * stops with status `LockLost` before the next batch when the store reports it lost.
   */
  readonly runLock?: RunLock;
  /**
   * The fingerprint of the plan a reviewer approved: the plan is applied only if its content
   * (recomputed, not the `fingerprint` field it claims) has exactly this fingerprint. Needs a
   * plan whose fingerprint is known before applying (in memory, or read from a plan file).
   */
  readonly expectFingerprint?: string;
  /**
   * Longest wait for one row lock, per statement, in ms (`SET LOCAL lock_timeout`), where the
   * store owns the transaction; 0 or undefined: the store's session default. A batch that times
   * out is rolled back and retried like a deadlock (`transientRetries`), then reported failed.
   */
  readonly lockTimeoutMs?: number;
  /** Where the run logs (silent by default). A logger that throws is ignored: it never stops a run. */
  readonly logger?: Logger;
  /**
   * The run's events, in order (`run-started`, `batch-finished` with `done`/`total`, `batch-failed`,
   * `batch-retried`, `action-stale`, `action-failed`, `run-finished`). A listener that throws (or
   * returns a promise that rejects) does not reject the run: the exception is swallowed and
   * reported at warn through `logger`, and the run goes on.
   */
  readonly onEvent?: (event: SyncEvent) => void;
  /**
   * Called after each batch with the write actions done so far; `total` is null for a streamed
   * plan whose size is not known up front (one made as the scan runs). Guarded like `onEvent`.
   * @deprecated Use `onEvent`: its `batch-finished` event carries the same `done` and `total`
   * (and the batch as `batch.index`).
   */
  readonly onProgress?: (progress: { readonly done: number; readonly total: number | null; readonly batch: number }) => void;
  /**
   * Which outcomes the report keeps: `all` (one per action, in plan order: the default for a plan
   * in memory) or `notable` (Stale, Failed, Skipped and Flagged ones, each with its action, at
   * most `outcomeLimit`: the default for a streamed plan, so memory stays bounded by the batch).
   */
  readonly outcomes?: 'all' | 'notable';
  /** At most this many notable outcomes are kept (default 1 000); the others are only counted. */
  readonly outcomeLimit?: number;
}

/** What {@link applyPlan} did. */
export interface ApplyReport {
  readonly runId: string;
  readonly dryRun: boolean;
  readonly status: ApplyStatus;
  readonly planFingerprint: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /** Actions by status, and their total. */
  readonly counts: Readonly<Record<ActionStatus, number>> & { readonly total: number };
  readonly batches: readonly BatchReport[];
  /**
   * One outcome per action of the plan, in plan order (`outcomes: 'all'`), or the notable ones
   * (`outcomes: 'notable'`, with their actions, at most `outcomeLimit`, in plan order).
   */
  readonly outcomes: readonly ActionOutcome[];
  /** Notable outcomes counted but not kept (beyond `outcomeLimit`); 0 with `outcomes: 'all'`. */
  readonly outcomesOmitted: number;
  /**
   * Why the run stopped before the end of a streamed plan (status `Stopped`): the scan behind
   * it failed, a line of a plan file changed after it was verified, or an action failed the
   * plan's own checks. Batches before it stay committed.
   */
  readonly error?: PlanSourceError;
}

const ApplyOptionsSchema = z.object({
  batchSize: z.number().int().min(1).max(100_000).optional(),
  onBatchFailure: z.enum(['continue', 'stop']).optional(),
  transientRetries: z.number().int().min(0).max(10).optional(),
  dryRun: z.boolean().optional(),
  actor: UserIdSchema.nullable().optional(),
  lock: z.enum(['try', 'wait', 'none']).optional(),
  outcomes: z.enum(['all', 'notable']).optional(),
  outcomeLimit: z.number().int().min(0).optional(),
  isolateRefusals: z.boolean().optional(),
  expectFingerprint: z.string().optional(),
  lockTimeoutMs: z.number().int().min(0).max(3_600_000).optional(),
  now: NowOptionSchema.optional(),
});

const STATUSES: readonly ActionStatus[] = ['Applied', 'AlreadyApplied', 'Stale', 'Failed', 'Flagged', 'Planned', 'Skipped'];

/**
 * Groups write actions (by index) into batches of about `size`, never splitting one pair's
 * actions (they share one compare-and-set state).
 */
export function batchActions(actions: readonly SyncAction[], size: number): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let previous: SyncAction | undefined;
  actions.forEach((action, index) => {
    if (!isWriteAction(action)) return;
    const samePair = previous !== undefined && comparePairKeys(previous, action) === 0;
    if (current.length >= size && !samePair) {
      batches.push(current);
      current = [];
    }
    current.push(index);
    previous = action;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Applies a plan to a store: write actions in batches, each batch one transaction, each action
 * compare-and-set against the state it expects. An action whose records moved on is `Stale` and
 * skipped, never overwritten; re-applying an applied plan therefore writes nothing. A failed
 * batch is rolled back whole and reported; the run goes on (or stops, per `onBatchFailure`).
 * Takes the store's run lock unless `lock: 'none'`. `dryRun` walks the same path without writes.
 *
 * The plan is a `SyncPlan` in memory or a {@link PlanStream} (made as a scan runs, or read from
 * a plan file): batches are drawn as pages come, so memory is bounded by the batch and the page.
 * Every action is checked against the plan's own maxima and policy before its batch is sent.
 *
 * Fails as a whole, before writing anything, for invalid options, an inconsistent plan in memory
 * (a write above the recorded maximum, an action that does not match its expected state…), a
 * held run lock, or a lock that cannot be taken. A streamed plan that fails midway (its scan
 * failed, an action fails the checks) stops the run: status `Stopped`, the reason in `error`.
 *
 * A throwing `logger` or `onEvent` never rejects the returned promise (see `onEvent`).
 *
 * ```ts
 * const report = await applyPlan(plan, store, {
 *   batchSize: 2_000,
 *   onEvent: (event) => event.type === 'batch-finished' && console.log(`${event.done}/${event.total ?? '?'}`),
 * });
 * if (report.isErr()) console.error(report.error.message);
 * else console.log(report.value.status, report.value.counts);
 * ```
 */
export function applyPlan(
  plan: SyncPlan | PlanStream,
  store: SyncStore,
  options: ApplyOptions = {},
): ResultAsync<ApplyReport, StoreError | ValidationError> {
  const valid = parseWith(ApplyOptionsSchema, options, 'apply options');
  if (valid.isErr()) return new ResultAsync(Promise.resolve(err(valid.error)));
  if (options.expectFingerprint !== undefined) {
    // The approved plan only: its content must have exactly that fingerprint.
    const actual = isPlanStream(plan) ? plan.trailer()?.fingerprint : planFingerprint(plan);
    const claimed = isPlanStream(plan) ? actual : plan.fingerprint;
    if (actual === undefined || actual !== options.expectFingerprint || claimed !== actual) {
      const message =
        actual === undefined
          ? 'is not known before applying (a plan streamed from a scan): expectFingerprint needs a plan in memory or read from a plan file'
          : `is ${actual}, not the approved ${options.expectFingerprint}: this is not the plan that was approved`;
      return new ResultAsync(Promise.resolve(err(validationError('plan', [{ field: 'fingerprint', message }]))));
    }
  }
  if (isPlanStream(plan)) return new ResultAsync(run(plan, undefined, store, { outcomes: 'notable', ...options }));
  // A plan built or edited in code gets the same checks as a parsed plan file, before any write.
  const issues = checkPlanConsistency(plan);
  if (issues.length > 0) return new ResultAsync(Promise.resolve(err(validationError('plan', issues))));
  const batches = batchActions(plan.actions, options.batchSize ?? 1_000).length;
  return new ResultAsync(run(streamPlan(plan), batches, store, { outcomes: 'all', ...options }));
}

/** One batch drawn from the plan: write actions of whole pairs, with their plan indexes. */
interface DrawnBatch {
  readonly index: number;
  readonly actions: WriteAction[];
  readonly indexes: number[];
}

/** What one batch came to: an outcome per action (in batch order) and the batch's report. */
interface BatchResult {
  readonly outcomes: readonly ActionStatus[];
  readonly report: BatchReport;
  readonly error?: StoreError;
  /** Refused actions isolated from the batch, by position in the batch. */
  readonly refusals?: ReadonlyMap<number, ActionRefusal>;
}

async function run(
  plan: PlanStream,
  expectedBatches: number | undefined,
  store: SyncStore,
  options: ApplyOptions,
): Promise<import('neverthrow').Result<ApplyReport, StoreError | ValidationError>> {
  const logger = safeLogger(options.logger);
  const emit = safeListener(options.onEvent, 'applyPlan onEvent', logger);
  const progressed = safeListener(options.onProgress, 'applyPlan onProgress', logger);
  const dryRun = options.dryRun ?? false;
  const runId = randomUUID();
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const { header } = plan;
  const known = plan.trailer();
  const knownTotal = known?.summary.actions.total;
  const knownWrites = known === undefined ? undefined : known.summary.actions.total - known.summary.actions.FlagForReview;
  const batchSize = options.batchSize ?? 1_000;
  const keepAll = options.outcomes === 'all';
  const outcomeLimit = options.outcomeLimit ?? 1_000;
  const context = { maxLevels: { ...header.maxLevels }, aliases: header.aliases, policy: header.policy };
  const apply: BatchContext = {
    store,
    dryRun,
    actor: options.actor ?? null,
    clock: options.now ?? systemNow,
    aliases: new Map(Object.entries(header.aliases)),
    transientRetries: options.transientRetries ?? 2,
    isolateRefusals: options.isolateRefusals !== false,
    ...(options.lockTimeoutMs ? { lockTimeoutMs: options.lockTimeoutMs } : {}),
    runId,
    emit,
    logger,
  };

  let lock: RunLock | null = null;
  const lockMode = options.runLock ? 'none' : (options.lock ?? 'try');
  if (!dryRun && lockMode !== 'none' && knownWrites !== 0) {
    const scope = header.scope.shard ? { shard: header.scope.shard } : {};
    const acquired = await store.acquireRunLock(scope, { wait: lockMode === 'wait' });
    if (acquired.isErr()) {
      logger.warn({ runId, error: acquired.error._tag }, acquired.error.message);
      return err(acquired.error);
    }
    lock = acquired.value;
  }

  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ActionStatus, number>;
  const outcomes: ActionOutcome[] = [];
  let omitted = 0;
  const record = (index: number, action: SyncAction, status: ActionStatus, batch: number | null, refusal?: ActionRefusal) => {
    counts[status]++;
    const why = refusal ? { refusal } : {};
    if (keepAll) outcomes[index] = { index, kind: action.kind, status, batch, ...why };
    else if (status !== 'Applied' && status !== 'Planned' && status !== 'AlreadyApplied') {
      if (outcomes.length < outcomeLimit) outcomes.push({ index, kind: action.kind, status, batch, action, ...why });
      else omitted++;
    }
  };

  const reports: BatchReport[] = [];
  let status: ApplyStatus = 'Completed';
  let sourceError: PlanSourceError | undefined;
  let done = 0;
  let seen = 0;
  let seenWrites = 0;
  let pending: DrawnBatch = { index: 0, actions: [], indexes: [] };
  const stopped = () => status === 'Stopped' || status === 'Aborted' || status === 'LockLost';
  const held = options.runLock ?? null;

  /** Sends the pending batch (or marks it Skipped when the run has stopped). */
  const flush = async () => {
    const batch = pending;
    pending = { index: batch.index + 1, actions: [], indexes: [] };
    if (batch.actions.length === 0) return;
    if (!stopped() && options.signal?.aborted) status = 'Aborted';
    if (!stopped() && !dryRun && (held ?? lock)?.lost?.aborted) {
      status = 'LockLost';
      logger.error({ runId, batch: batch.index }, `the run lock (${(held ?? lock)!.scope}) was lost: its database session ended; stopping before batch ${batch.index}`);
    }
    if (stopped()) {
      batch.actions.forEach((action, k) => record(batch.indexes[k]!, action, 'Skipped', batch.index));
      return;
    }
    const result = await applyBatch(batch, apply);
    result.outcomes.forEach((outcome, k) => record(batch.indexes[k]!, batch.actions[k]!, outcome, batch.index, result.refusals?.get(k)));
    if (result.error) status = options.onBatchFailure === 'stop' ? 'Stopped' : 'CompletedWithFailures';
    reports.push(result.report);
    done += batch.actions.length;
    emit({ type: 'batch-finished', runId, batch: result.report, done, total: knownWrites ?? null });
    progressed({ done, total: knownWrites ?? null, batch: batch.index });
  };

  try {
    emit({ type: 'run-started', runId, dryRun, actions: knownTotal ?? null, writes: knownWrites ?? null, batches: expectedBatches ?? null });
    logger.info(
      { runId, dryRun, actions: knownTotal ?? null, writes: knownWrites ?? null, batches: expectedBatches ?? null, scope: describeScope(header.scope) },
      'levelsync apply started',
    );
    let previous: SyncAction | undefined;
    draw: for await (const page of plan.pages) {
      if (page.isErr()) {
        sourceError = page.error;
        break;
      }
      Object.assign(context.maxLevels, page.value.maxLevels);
      for (const action of page.value.actions) {
        const index = seen++;
        const issues: ValidationIssue[] = [];
        checkPlanAction(action, context, `actions[${index}].`, issues);
        if (issues.length > 0) {
          sourceError = validationError('plan', issues);
          seen--;
          break draw;
        }
        if (!isWriteAction(action)) {
          record(index, action, 'Flagged', null);
          continue;
        }
        seenWrites++;
        const samePair = previous !== undefined && comparePairKeys(previous, action) === 0;
        if (pending.actions.length >= batchSize && !samePair) await flush();
        pending.actions.push(action);
        pending.indexes.push(index);
        previous = action;
        // A stopped run reads on only when every outcome must be reported (a plan in memory).
        if (stopped() && !keepAll) break draw;
      }
    }
    if (sourceError !== undefined) {
      // Nothing of the batch being drawn is written: it may hold a pair only partly read.
      pending.actions.forEach((action, k) => record(pending.indexes[k]!, action, 'Skipped', null));
      pending = { index: pending.index, actions: [], indexes: [] };
      // A source that ended because the signal fired (a scan stopped between pages) is an abort.
      status = options.signal?.aborted ? 'Aborted' : 'Stopped';
      logger.error({ runId, error: sourceError._tag }, `levelsync apply stopped: ${sourceError.message}`);
    } else {
      await flush();
    }
  } finally {
    if (lock) await lock.release().catch((cause) => logger.warn({ runId }, `could not release the run lock: ${describeCause(cause)}`));
  }

  // Actions a stopped run never read: counted from the plan's summary when it is known.
  if (known !== undefined && seen < known.summary.actions.total) {
    const flags = known.summary.actions.FlagForReview - counts.Flagged;
    const unseenWrites = (knownWrites ?? 0) - seenWrites;
    counts.Skipped += Math.max(unseenWrites, 0);
    counts.Flagged += Math.max(flags, 0);
  }
  const total = known?.summary.actions.total ?? seen;
  const finished = Date.now();
  const report: ApplyReport = {
    runId,
    dryRun,
    status,
    planFingerprint: plan.trailer()?.fingerprint ?? '',
    startedAt,
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    counts: { ...counts, total },
    batches: reports,
    outcomes: keepAll ? outcomes : outcomes.sort((a, b) => a.index - b.index),
    outcomesOmitted: omitted,
    ...(sourceError !== undefined ? { error: sourceError } : {}),
  };
  emit({ type: 'run-finished', runId, status, counts, durationMs: report.durationMs });
  logger.info({ runId, status, ...counts, durationMs: report.durationMs }, 'levelsync apply finished');
  return ok(report);
}

/** What {@link applyBatch} needs from the run. */
interface BatchContext {
  readonly store: SyncStore;
  readonly dryRun: boolean;
  readonly actor: UserId | null;
  readonly clock: () => Date;
  readonly aliases: ReadonlyMap<string, string>;
  readonly transientRetries: number;
  readonly isolateRefusals: boolean;
  readonly lockTimeoutMs?: number;
  readonly runId: string;
  readonly emit: (event: SyncEvent) => void;
  readonly logger: Logger;
}

/**
 * Applies one batch (one transaction) and says what became of each action: the store's
 * compare-and-set outcomes, `Planned` in a dry run, or `Failed` for every action of a batch the
 * store rolled back (after retrying transient failures). Emits the batch's events.
 */
async function applyBatch(batch: DrawnBatch, ctx: BatchContext): Promise<BatchResult> {
  const { actions, indexes, index: b } = batch;
  const batchStarted = Date.now();
  if (ctx.dryRun) {
    return {
      outcomes: actions.map(() => 'Planned' as const),
      report: { index: b, size: actions.length, status: 'Planned', applied: 0, stale: 0, durationMs: Date.now() - batchStarted, attempts: 0 },
    };
  }
  const context = { actor: ctx.actor, now: ctx.clock(), aliases: ctx.aliases, ...(ctx.lockTimeoutMs ? { lockTimeoutMs: ctx.lockTimeoutMs } : {}) };
  let attempts = 1;
  let result = await safeApply(ctx.store, actions, context);
  while (result.isErr() && isTransient(result.error) && attempts <= ctx.transientRetries) {
    ctx.emit({ type: 'batch-retried', runId: ctx.runId, index: b, attempt: attempts, error: result.error });
    ctx.logger.warn({ runId: ctx.runId, batch: b, attempt: attempts }, `batch ${b} rolled back for a transient reason, retrying: ${result.error.message}`);
    attempts++;
    result = await safeApply(ctx.store, actions, { ...context, now: ctx.clock() });
  }
  if (result.isErr() && ctx.isolateRefusals && isRefusal(result.error) && actions.length > 1) {
    // Poison isolation: bisect until the refusing actions are alone, apply the others.
    const first = result.error;
    ctx.logger.warn({ runId: ctx.runId, batch: b, size: actions.length }, `batch ${b} refused by the database, isolating the refusing actions: ${first.message}`);
    const positions = actions.map((_, k) => k);
    const isolation = await isolateRefusals(positions, (k) => actions[k]!, (part) => safeApply(ctx.store, part, { ...context, now: ctx.clock() }), first);
    const outcomes: ActionStatus[] = [];
    let applied = 0;
    let stale = 0;
    let already = 0;
    positions.forEach((k) => {
      const outcome = isolation.outcomes.get(k);
      if (outcome === undefined) {
        const refusal = isolation.refused.get(k)!;
        outcomes.push('Failed');
        const error = storeUnavailable(ctx.store.name, Object.assign(new Error(refusal.message), { code: refusal.sqlState, constraint: refusal.constraint }), 'refused an action');
        ctx.emit({ type: 'action-failed', runId: ctx.runId, index: indexes[k]!, action: actions[k]!, error });
        ctx.logger.error(
          { runId: ctx.runId, index: indexes[k], kind: actions[k]!.kind, userId: actions[k]!.userId, specializationId: actions[k]!.specializationId, sqlState: refusal.sqlState, constraint: refusal.constraint },
          `action refused: ${refusal.message}`,
        );
        return;
      }
      outcomes.push(outcome);
      if (outcome === 'Applied') applied++;
      else if (outcome === 'AlreadyApplied') already++;
      else {
        stale++;
        ctx.emit({ type: 'action-stale', runId: ctx.runId, index: indexes[k]!, action: actions[k]! });
      }
    });
    const refused = isolation.refused.size;
    return {
      outcomes,
      refusals: isolation.refused,
      report: {
        index: b,
        size: actions.length,
        status: 'Applied',
        applied,
        stale,
        ...(already > 0 ? { alreadyApplied: already } : {}),
        ...(refused > 0 ? { refused, error: first } : {}),
        durationMs: Date.now() - batchStarted,
        attempts: attempts + isolation.calls,
      },
      ...(refused > 0 ? { error: first } : {}),
    };
  }
  if (result.isOk() && result.value.length === actions.length) {
    let applied = 0;
    let stale = 0;
    let already = 0;
    result.value.forEach((outcome, k) => {
      if (outcome === 'Applied') applied++;
      else if (outcome === 'AlreadyApplied') already++;
      else {
        stale++;
        ctx.emit({ type: 'action-stale', runId: ctx.runId, index: indexes[k]!, action: actions[k]! });
        ctx.logger.debug({ runId: ctx.runId, index: indexes[k], kind: actions[k]!.kind, userId: actions[k]!.userId, specializationId: actions[k]!.specializationId }, 'stale action skipped');
      }
    });
    return {
      outcomes: result.value,
      report: { index: b, size: actions.length, status: 'Applied', applied, stale, ...(already > 0 ? { alreadyApplied: already } : {}), durationMs: Date.now() - batchStarted, attempts },
    };
  }
  const error: StoreError = result.isErr()
    ? result.error
    : storeUnavailable(ctx.store.name, new Error(`returned ${result.value.length} outcomes for ${actions.length} actions`));
  const report: BatchReport = { index: b, size: actions.length, status: 'Failed', applied: 0, stale: 0, durationMs: Date.now() - batchStarted, attempts, error };
  ctx.emit({ type: 'batch-failed', runId: ctx.runId, batch: report, error });
  indexes.forEach((i, k) => ctx.emit({ type: 'action-failed', runId: ctx.runId, index: i, action: actions[k]!, error }));
  ctx.logger.error({ runId: ctx.runId, batch: b, size: actions.length, error: error._tag }, `batch ${b} rolled back: ${error.message}`);
  const single = actions.length === 1 && isRefusal(error) ? new Map([[0, refusalOf(error)]]) : undefined;
  return { outcomes: actions.map(() => 'Failed' as const), report, error, ...(single ? { refusals: single } : {}) };
}

function isPlanStream(plan: SyncPlan | PlanStream): plan is PlanStream {
  return 'pages' in plan && 'header' in plan;
}

function isTransient(error: StoreError): boolean {
  return error._tag === 'StoreUnavailable' && error.transient;
}

/** Calls the store, turning a thrown exception (a store bug) into a failed batch. */
async function safeApply(
  store: SyncStore,
  actions: readonly WriteAction[],
  context: Parameters<SyncStore['applyBatch']>[1],
): Promise<import('neverthrow').Result<readonly WriteOutcome[], StoreError>> {
  try {
    return await store.applyBatch(actions, context);
  } catch (cause) {
    return err(storeUnavailable(store.name, cause, 'threw while applying a batch'));
  }
}

function describeScope(scope: PlanScope): string {
  const parts: string[] = [];
  if (scope.specializationIds) parts.push(scope.specializationIds.join(','));
  if (scope.userIds) parts.push(`${scope.userIds.length} users`);
  if (scope.shard) parts.push(`shard ${formatShard(scope.shard)}`);
  return parts.length > 0 ? parts.join(' ') : 'all';
}
