import { z } from 'zod';
import type { UserId } from '../domain/records.js';
import { UserIdSchema } from '../domain/records.js';
import { NowOptionSchema } from '../_internal/clock.js';
import type { Logger } from '../logger.js';
import type { ActionOutcome, ActionStatus, ApplyStatus, BatchReport, SyncEvent } from './events.js';
import type { PlanSourceError } from './plan-stream.js';
import type { RunLock } from './sync-store.js';

// The options of applyPlan, their schema, and its report.

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
   * stops with status `LockLost` before the next batch when the lock is lost. Whichever lock the
   * run holds (this one or its own) is checked before every batch: `RunLock.lost`, then
   * `RunLock.stillHeld()` where the store offers it (PostgreSQL pools: one round trip).
   */
  readonly runLock?: RunLock;
  /**
   * The fingerprint of the plan a reviewer approved: the plan is applied only if its content
   * (recomputed, not the `fingerprint` field it claims) has exactly this fingerprint. Needs a
   * plan whose fingerprint is known before applying (in memory, or read from a plan file).
   */
  readonly expectFingerprint?: string;
  /**
   * Longest wait for one row lock, per statement, in ms (`SET LOCAL lock_timeout` in the batch's
   * transaction), where the store owns the transaction (a PostgreSQL pool). Default
   * {@link DEFAULT_LOCK_TIMEOUT_MS} (5 s), so that a session stuck holding a row lock delays a run
   * by seconds instead of stalling it (and its run lock) forever. `0`: none of levelsync's own —
   * the session's `lock_timeout` applies (PostgreSQL's default: no limit). A batch that times out
   * is rolled back and retried like a deadlock (`transientRetries`), then reported failed.
   * The SET LOCAL puts each batch in a transaction of its own (BEGIN, set_config, COMMIT: three
   * round trips besides the batch's statement). To save them, set `lock_timeout` on the pool's
   * sessions instead (`new pg.Pool({ lock_timeout: 5_000 })`) and pass `0`, as the CLI does.
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

/**
 * The default `lockTimeoutMs` of `applyPlan` (and of the `levelsync` command's `--lock-timeout`):
 * the longest one statement waits for a row lock someone else holds. levelsync's statements and
 * an application's transactions hold row locks for well under a second, so 5 s is only reached
 * behind a stuck session (an idle transaction, a long manual edit): the batch is then rolled
 * back, retried, and reported failed, and the run goes on.
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;

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

/** What `applyPlan` checks of its options before anything else (a `ValidationError` naming the field). */
export const ApplyOptionsSchema = z.object({
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
