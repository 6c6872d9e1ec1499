import { randomUUID } from 'node:crypto';
import { err, ok, ResultAsync, type Result } from 'neverthrow';
import { describeCause, validationError, type StoreError, type ValidationError, type ValidationIssue } from '../errors.js';
import { systemNow } from '../_internal/clock.js';
import { emptyCounts } from '../_internal/counts.js';
import { parseWith } from '../_internal/zod.js';
import { safeListener, safeLogger } from '../logger.js';
import { isWriteAction, type SyncAction } from './action.js';
import { applyBatch, type BatchContext, type DrawnBatch } from './apply-batch.js';
import { ApplyOptionsSchema, DEFAULT_LOCK_TIMEOUT_MS, type ApplyOptions, type ApplyReport } from './apply-options.js';
import type { ActionOutcome, ActionStatus, ApplyStatus, BatchReport } from './events.js';
import type { ActionRefusal } from './isolate-refusals.js';
import { comparePairKeys } from './pair-key.js';
import { checkPlanAction, checkPlanConsistency } from './parse-plan.js';
import { planFingerprint, type PlanScope, type SyncPlan } from './plan.js';
import { streamPlan, type PlanSourceError, type PlanStream } from './plan-stream.js';
import { formatShard } from './shard.js';
import type { RunLock, SyncStore } from './sync-store.js';

export { DEFAULT_LOCK_TIMEOUT_MS } from './apply-options.js';
export type { ApplyOptions, ApplyReport } from './apply-options.js';

// applyPlan: options checked (apply-options), batches drawn from the plan and run here, each
// batch applied by apply-batch.

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
 * (a write above the recorded maximum, an action that does not match its expected state, a
 * user id of a type the store does not take — `SyncStore.checkUserId`…), a held run lock, or a lock that cannot be taken. A streamed plan that fails midway (its scan
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
): ResultAsync<ApplyReport, StoreError> {
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
  // Every user id as this store takes it, before any write (a plan from a service that spelled
  // ids as numbers for a text mapping, or "0030" for an integer one).
  if (store.checkUserId) {
    for (let i = 0; i < plan.actions.length && issues.length < 20; i++) {
      const issue = store.checkUserId(plan.actions[i]!.userId, `actions[${i}].userId`);
      if (issue) issues.push(issue);
    }
  }
  if (issues.length > 0) return new ResultAsync(Promise.resolve(err(validationError('plan', issues))));
  const batches = batchActions(plan.actions, options.batchSize ?? 1_000).length;
  return new ResultAsync(run(streamPlan(plan), batches, store, { outcomes: 'all', ...options }));
}
async function run(
  plan: PlanStream,
  expectedBatches: number | undefined,
  store: SyncStore,
  options: ApplyOptions,
): Promise<Result<ApplyReport, StoreError>> {
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
    now: options.now ?? systemNow,
    aliases: new Map(Object.entries(header.aliases)),
    transientRetries: options.transientRetries ?? 2,
    isolateRefusals: options.isolateRefusals !== false,
    lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
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

  const counts = emptyCounts(STATUSES);
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
    const runLock = held ?? lock;
    if (!stopped() && !dryRun && runLock && !(await runLockHeld(runLock))) {
      status = 'LockLost';
      logger.error({ runId, batch: batch.index }, `the run lock (${runLock.scope}) was lost: its database session ended; stopping before batch ${batch.index}`);
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
        const idIssue = store.checkUserId?.(action.userId, `actions[${index}].userId`);
        if (idIssue) issues.push(idIssue);
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
/**
 * Whether the run lock is still held, checked before every batch: `lost` when the store has
 * already seen the session end, else the store's own check (one round trip on the lock's
 * session); a lock that offers neither cannot be lost behind the process's back.
 */
async function runLockHeld(lock: RunLock): Promise<boolean> {
  if (lock.lost?.aborted) return false;
  if (!lock.stillHeld) return true;
  try {
    return await lock.stillHeld();
  } catch {
    return false;
  }
}
function isPlanStream(plan: SyncPlan | PlanStream): plan is PlanStream {
  return 'pages' in plan && 'header' in plan;
}
function describeScope(scope: PlanScope): string {
  const parts: string[] = [];
  if (scope.specializationIds) parts.push(scope.specializationIds.join(','));
  if (scope.userIds) parts.push(`${scope.userIds.length} users`);
  if (scope.shard) parts.push(`shard ${formatShard(scope.shard)}`);
  return parts.length > 0 ? parts.join(' ') : 'all';
}
