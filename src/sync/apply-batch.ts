import { err, type Result } from 'neverthrow';
import type { UserId } from '../domain/records.js';
import { storeUnavailable, type StoreError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { WriteAction } from './action.js';
import type { ActionStatus, BatchReport, SyncEvent } from './events.js';
import { isolateRefusals, isRefusal, refusalOf, type ActionRefusal } from './isolate-refusals.js';
import type { SyncStore, WriteOutcome } from './sync-store.js';

// One batch of applyPlan: one transaction, its transient retries and its refusal isolation.

/** One batch drawn from the plan: write actions of whole pairs, with their plan indexes. */
export interface DrawnBatch {
  readonly index: number;
  readonly actions: WriteAction[];
  readonly indexes: number[];
}

/** What one batch came to: an outcome per action (in batch order) and the batch's report. */
export interface BatchResult {
  readonly outcomes: readonly ActionStatus[];
  readonly report: BatchReport;
  readonly error?: StoreError;
  /** Refused actions isolated from the batch, by position in the batch. */
  readonly refusals?: ReadonlyMap<number, ActionRefusal>;
}

/** What {@link applyBatch} needs from the run. */
export interface BatchContext {
  readonly store: SyncStore;
  readonly dryRun: boolean;
  readonly actor: UserId | null;
  readonly now: () => Date;
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
export async function applyBatch(batch: DrawnBatch, ctx: BatchContext): Promise<BatchResult> {
  const { actions, indexes, index: b } = batch;
  const batchStarted = Date.now();
  if (ctx.dryRun) {
    return {
      outcomes: actions.map(() => 'Planned' as const),
      report: { index: b, size: actions.length, status: 'Planned', applied: 0, stale: 0, durationMs: Date.now() - batchStarted, attempts: 0 },
    };
  }
  const context = { actor: ctx.actor, now: ctx.now(), aliases: ctx.aliases, ...(ctx.lockTimeoutMs ? { lockTimeoutMs: ctx.lockTimeoutMs } : {}) };
  let attempts = 1;
  let result = await safeApply(ctx.store, actions, context);
  while (result.isErr() && isTransient(result.error) && attempts <= ctx.transientRetries) {
    ctx.emit({ type: 'batch-retried', runId: ctx.runId, index: b, attempt: attempts, error: result.error });
    ctx.logger.warn({ runId: ctx.runId, batch: b, attempt: attempts }, `batch ${b} rolled back for a transient reason, retrying: ${result.error.message}`);
    attempts++;
    result = await safeApply(ctx.store, actions, { ...context, now: ctx.now() });
  }
  if (result.isErr() && ctx.isolateRefusals && isRefusal(result.error) && actions.length > 1) {
    // Poison isolation: bisect until the refusing actions are alone, apply the others.
    const first = result.error;
    ctx.logger.warn({ runId: ctx.runId, batch: b, size: actions.length }, `batch ${b} refused by the database, isolating the refusing actions: ${first.message}`);
    const positions = actions.map((_, k) => k);
    const isolation = await isolateRefusals(positions, (k) => actions[k]!, (part) => safeApply(ctx.store, part, { ...context, now: ctx.now() }), first);
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

function isTransient(error: StoreError): boolean {
  return error._tag === 'StoreUnavailable' && error.transient;
}

/** Calls the store, turning a thrown exception (a store bug) into a failed batch. */
async function safeApply(
  store: SyncStore,
  actions: readonly WriteAction[],
  context: Parameters<SyncStore['applyBatch']>[1],
): Promise<Result<readonly WriteOutcome[], StoreError>> {
  try {
    return await store.applyBatch(actions, context);
  } catch (cause) {
    return err(storeUnavailable(store.name, cause, 'threw while applying a batch'));
  }
}
