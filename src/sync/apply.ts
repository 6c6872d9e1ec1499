import { randomUUID } from 'node:crypto';
import { err, ok, ResultAsync } from 'neverthrow';
import { z } from 'zod';
import type { UserId } from '../domain/records.js';
import { UserIdSchema } from '../domain/records.js';
import { describeCause, storeUnavailable, validationError, type StoreError, type ValidationError } from '../errors.js';
import { parseWith } from '../_internal/zod.js';
import { isWriteAction, type SyncAction, type WriteAction } from './action.js';
import type { ActionOutcome, ActionStatus, ApplyStatus, BatchReport, SyncEvent } from './events.js';
import { SILENT_LOGGER, type Logger } from './logger.js';
import { comparePairKeys } from './pair.js';
import { checkPlanConsistency } from './parse-plan.js';
import { checkPlanPolicy } from './plan-trust.js';
import { isolateRefusals, isRefusal, type ActionRefusal, type Isolation } from './isolate-refusals.js';
import { planFingerprint, type SyncPlan } from './plan.js';
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
  /** Clock for written timestamps (default `() => new Date()`). */
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
   * (recomputed, not the `fingerprint` field it claims) has exactly this fingerprint.
   */
  readonly expectFingerprint?: string;
  /**
   * Longest wait for one row lock, per statement, in ms (`SET LOCAL lock_timeout`), where the
   * store owns the transaction; 0 or undefined: the store's session default. A batch that times
   * out is rolled back and retried like a deadlock (`transientRetries`), then reported failed.
   */
  readonly lockTimeoutMs?: number;
  readonly logger?: Logger;
  readonly onEvent?: (event: SyncEvent) => void;
  /** Called after each batch with the write actions done so far. */
  readonly onProgress?: (progress: { readonly done: number; readonly total: number; readonly batch: number }) => void;
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
  /** One outcome per action of the plan, in plan order. */
  readonly outcomes: readonly ActionOutcome[];
}

const ApplyOptionsSchema = z.object({
  batchSize: z.number().int().min(1).max(100_000).optional(),
  onBatchFailure: z.enum(['continue', 'stop']).optional(),
  transientRetries: z.number().int().min(0).max(10).optional(),
  isolateRefusals: z.boolean().optional(),
  dryRun: z.boolean().optional(),
  actor: UserIdSchema.nullable().optional(),
  lock: z.enum(['try', 'wait', 'none']).optional(),
  expectFingerprint: z.string().optional(),
  lockTimeoutMs: z.number().int().min(0).max(3_600_000).optional(),
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
 * Fails as a whole, before writing anything, for invalid options, an inconsistent plan (a write
 * above the recorded maximum, an action that does not match its expected state…), a held run
 * lock, or a lock that cannot be taken.
 *
 * ```ts
 * const report = await applyPlan(plan, store, { batchSize: 2_000, onProgress: console.log });
 * ```
 */
export function applyPlan(
  plan: SyncPlan,
  store: SyncStore,
  options: ApplyOptions = {},
): ResultAsync<ApplyReport, StoreError | ValidationError> {
  const valid = parseWith(ApplyOptionsSchema, options, 'apply options');
  if (valid.isErr()) return new ResultAsync(Promise.resolve(err(valid.error)));
  // A plan built or edited in code gets the same checks as a parsed plan file, before any write.
  const consistency = checkPlanConsistency(plan);
  const issues = consistency.length > 0 ? consistency : checkPlanPolicy(plan);
  if (issues.length > 0) return new ResultAsync(Promise.resolve(err(validationError('plan', issues))));
  if (options.expectFingerprint !== undefined) {
    const actual = planFingerprint(plan);
    if (actual !== options.expectFingerprint || plan.fingerprint !== actual) {
      return new ResultAsync(
        Promise.resolve(
          err(
            validationError('plan', [
              { field: 'fingerprint', message: `is ${actual}, not the approved ${options.expectFingerprint}: this is not the plan that was approved` },
            ]),
          ),
        ),
      );
    }
  }
  return new ResultAsync(run(plan, store, options));
}

async function run(
  plan: SyncPlan,
  store: SyncStore,
  options: ApplyOptions,
): Promise<import('neverthrow').Result<ApplyReport, StoreError | ValidationError>> {
  const logger = options.logger ?? SILENT_LOGGER;
  const emit = options.onEvent ?? (() => {});
  const dryRun = options.dryRun ?? false;
  const clock = options.now ?? (() => new Date());
  const runId = randomUUID();
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const aliases = new Map(Object.entries(plan.aliases));
  const context = (now: Date) => ({
    actor: options.actor ?? null,
    now,
    aliases,
    ...(options.lockTimeoutMs ? { lockTimeoutMs: options.lockTimeoutMs } : {}),
  });

  const statuses: ActionStatus[] = plan.actions.map((a) => (isWriteAction(a) ? 'Skipped' : 'Flagged'));
  const batchOf: (number | null)[] = plan.actions.map(() => null);
  const batches = batchActions(plan.actions, options.batchSize ?? 1_000);
  batches.forEach((indexes, b) => indexes.forEach((i) => (batchOf[i] = b)));
  const writes = batches.reduce((n, b) => n + b.length, 0);

  let lock: RunLock | null = null;
  const lockMode = options.runLock ? 'none' : (options.lock ?? 'try');
  if (!dryRun && lockMode !== 'none' && writes > 0) {
    const scope = plan.scope.shard ? { shard: plan.scope.shard } : {};
    const acquired = await store.acquireRunLock(scope, { wait: lockMode === 'wait' });
    if (acquired.isErr()) {
      logger.warn({ runId, error: acquired.error._tag }, acquired.error.message);
      return err(acquired.error);
    }
    lock = acquired.value;
  }

  const reports: BatchReport[] = [];
  const refusals = new Map<number, ActionRefusal>();
  let status: ApplyStatus = 'Completed';
  let done = 0;
  try {
    emit({ type: 'run-started', runId, dryRun, actions: plan.actions.length, writes, batches: batches.length });
    logger.info(
      { runId, dryRun, actions: plan.actions.length, writes, batches: batches.length, scope: describeScope(plan) },
      'levelsync apply started',
    );
    for (let b = 0; b < batches.length; b++) {
      const indexes = batches[b]!;
      if (options.signal?.aborted) {
        status = 'Aborted';
        break;
      }
      if (status === 'Stopped') break;
      const held = options.runLock ?? lock;
      if (!dryRun && held?.lost?.aborted) {
        status = 'LockLost';
        logger.error({ runId, batch: b }, `the run lock (${held.scope}) was lost: its database session ended; stopping before batch ${b}`);
        break;
      }
      const batchStarted = Date.now();
      const actions = indexes.map((i) => plan.actions[i] as WriteAction);
      let report: BatchReport;
      if (dryRun) {
        indexes.forEach((i) => (statuses[i] = 'Planned'));
        report = { index: b, size: indexes.length, status: 'Planned', applied: 0, stale: 0, durationMs: Date.now() - batchStarted, attempts: 0 };
      } else {
        let attempts = 1;
        let result = await safeApply(store, actions, context(clock()));
        while (result.isErr() && isTransient(result.error) && attempts <= (options.transientRetries ?? 2)) {
          emit({ type: 'batch-retried', runId, index: b, attempt: attempts, error: result.error });
          logger.warn({ runId, batch: b, attempt: attempts }, `batch ${b} rolled back for a transient reason, retrying: ${result.error.message}`);
          attempts++;
          result = await safeApply(store, actions, context(clock()));
        }
        let isolation: Isolation | null = null;
        if (result.isErr() && isRefusal(result.error) && options.isolateRefusals !== false) {
          // Poison isolation: bisect until the refusing actions are alone, apply the others.
          const first = result.error;
          logger.warn({ runId, batch: b, size: indexes.length }, `batch ${b} refused by the database, isolating the refusing actions: ${first.message}`);
          isolation = await isolateRefusals(indexes, (i) => plan.actions[i] as WriteAction, (part) => safeApply(store, part, context(clock())), first);
          attempts += isolation.calls;
        }
        const outcomesOf = isolation
          ? indexes.map((i) => isolation!.outcomes.get(i))
          : result.isOk() && result.value.length === actions.length
            ? result.value
            : null;
        if (outcomesOf !== null) {
          let applied = 0;
          let stale = 0;
          let already = 0;
          outcomesOf.forEach((outcome, k) => {
            const index = indexes[k]!;
            if (outcome === undefined) {
              const refusal = isolation!.refused.get(index)!;
              statuses[index] = 'Failed';
              refusals.set(index, refusal);
              emit({ type: 'action-failed', runId, index, action: plan.actions[index]!, error: storeUnavailable(store.name, Object.assign(new Error(refusal.message), { code: refusal.sqlState, constraint: refusal.constraint }), 'refused an action') });
              logger.error({ runId, index, kind: actions[k]!.kind, userId: actions[k]!.userId, specializationId: actions[k]!.specializationId, sqlState: refusal.sqlState, constraint: refusal.constraint }, `action refused: ${refusal.message}`);
              return;
            }
            statuses[index] = outcome;
            if (outcome === 'Applied') applied++;
            else if (outcome === 'AlreadyApplied') already++;
            else {
              stale++;
              emit({ type: 'action-stale', runId, index, action: plan.actions[index]! });
              logger.debug({ runId, index, kind: actions[k]!.kind, userId: actions[k]!.userId, specializationId: actions[k]!.specializationId }, 'stale action skipped');
            }
          });
          const refused = isolation ? isolation.refused.size : 0;
          report = {
            index: b,
            size: indexes.length,
            status: 'Applied',
            applied,
            stale,
            ...(already > 0 ? { alreadyApplied: already } : {}),
            ...(refused > 0 ? { refused } : {}),
            durationMs: Date.now() - batchStarted,
            attempts,
            ...(refused > 0 && result.isErr() ? { error: result.error } : {}),
          };
          if (refused > 0) status = options.onBatchFailure === 'stop' ? 'Stopped' : 'CompletedWithFailures';
        } else {
          const error: StoreError = result.isErr()
            ? result.error
            : storeUnavailable(store.name, new Error(`returned ${result.value.length} outcomes for ${actions.length} actions`));
          indexes.forEach((i) => (statuses[i] = 'Failed'));
          report = { index: b, size: indexes.length, status: 'Failed', applied: 0, stale: 0, durationMs: Date.now() - batchStarted, attempts, error };
          emit({ type: 'batch-failed', runId, batch: report, error });
          indexes.forEach((i) => emit({ type: 'action-failed', runId, index: i, action: plan.actions[i]!, error }));
          logger.error({ runId, batch: b, size: indexes.length, error: error._tag }, `batch ${b} rolled back: ${error.message}`);
          status = options.onBatchFailure === 'stop' ? 'Stopped' : 'CompletedWithFailures';
        }
      }
      reports.push(report);
      done += indexes.length;
      emit({ type: 'batch-finished', runId, batch: report, done, total: writes });
      options.onProgress?.({ done, total: writes, batch: b });
    }
  } finally {
    if (lock) await lock.release().catch((cause) => logger.warn({ runId }, `could not release the run lock: ${describeCause(cause)}`));
  }

  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ActionStatus, number>;
  for (const s of statuses) counts[s]++;
  const outcomes: ActionOutcome[] = plan.actions.map((action, index) => {
    const refusal = refusals.get(index);
    return { index, kind: action.kind, status: statuses[index]!, batch: batchOf[index]!, ...(refusal ? { refusal } : {}) };
  });
  const finished = Date.now();
  const report: ApplyReport = {
    runId,
    dryRun,
    status,
    planFingerprint: plan.fingerprint,
    startedAt,
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    counts: { ...counts, total: plan.actions.length },
    batches: reports,
    outcomes,
  };
  emit({ type: 'run-finished', runId, status, counts, durationMs: report.durationMs });
  logger.info({ runId, status, ...counts, durationMs: report.durationMs }, 'levelsync apply finished');
  return ok(report);
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

function describeScope(plan: SyncPlan): string {
  const parts: string[] = [];
  if (plan.scope.specializationIds) parts.push(plan.scope.specializationIds.join(','));
  if (plan.scope.userIds) parts.push(`${plan.scope.userIds.length} users`);
  if (plan.scope.shard) parts.push(`shard ${formatShard(plan.scope.shard)}`);
  return parts.length > 0 ? parts.join(' ') : 'all';
}
