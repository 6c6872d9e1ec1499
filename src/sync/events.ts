import type { StoreError } from '../errors.js';
import type { ActionKind, SyncAction } from './action.js';
import type { ActionRefusal } from './isolate-refusals.js';

/** What happened to one action of a plan. */
export type ActionStatus =
  /** Written. */
  | 'Applied'
  /** Not written: the records were no longer in the expected state. */
  | 'Stale'
  /** Not written: the records already hold what the plan writes (a re-applied plan). */
  | 'AlreadyApplied'
  /** Not written: its batch failed and was rolled back. */
  | 'Failed'
  /** Not written: a `FlagForReview` action, for a person to decide. */
  | 'Flagged'
  /** Dry run: would have been sent to the store. */
  | 'Planned'
  /** Not attempted: the run was aborted or stopped before its batch. */
  | 'Skipped';

/** The outcome of one action. */
export interface ActionOutcome {
  /** Position of the action in `plan.actions`. */
  readonly index: number;
  readonly kind: ActionKind;
  readonly status: ActionStatus;
  /** Batch number (0-based), or null for flagged actions (and actions of a batch never sent). */
  readonly batch: number | null;
  /** Why the database refused it (a `Failed` action isolated from its batch): SQLSTATE, constraint. */
  readonly refusal?: ActionRefusal;
  /** The action itself, in reports that keep only the notable outcomes of a streamed plan. */
  readonly action?: SyncAction;
}

/** The outcome of one batch (one transaction). */
export interface BatchReport {
  readonly index: number;
  /** Write actions in the batch. */
  readonly size: number;
  readonly status: 'Applied' | 'Failed' | 'Planned' | 'Skipped';
  readonly applied: number;
  readonly stale: number;
  /** Actions whose records already held what they write (a re-applied plan). */
  readonly alreadyApplied?: number;
  /** Actions the database refused, isolated by splitting the batch (the others were applied). */
  readonly refused?: number;
  readonly durationMs: number;
  /** Store calls made for this batch: 1, or more when a transient failure (deadlock) was retried or refusals were isolated. */
  readonly attempts: number;
  /** Why the batch failed (it was rolled back whole). */
  readonly error?: StoreError;
}

/** Progress and outcome events of a run, for dashboards and logs. */
export type SyncEvent =
  /** `actions`, `writes` and `batches` are null when a streamed plan's size is not known up front. */
  | {
      readonly type: 'run-started';
      readonly runId: string;
      readonly dryRun: boolean;
      readonly actions: number | null;
      readonly writes: number | null;
      readonly batches: number | null;
    }
  | { readonly type: 'batch-finished'; readonly runId: string; readonly batch: BatchReport; readonly done: number; readonly total: number | null }
  | { readonly type: 'batch-failed'; readonly runId: string; readonly batch: BatchReport; readonly error: StoreError }
  | { readonly type: 'batch-retried'; readonly runId: string; readonly index: number; readonly attempt: number; readonly error: StoreError }
  | { readonly type: 'action-stale'; readonly runId: string; readonly index: number; readonly action: SyncAction }
  | { readonly type: 'action-failed'; readonly runId: string; readonly index: number; readonly action: SyncAction; readonly error: StoreError }
  | {
      readonly type: 'run-finished';
      readonly runId: string;
      readonly status: ApplyStatus;
      readonly counts: Readonly<Record<ActionStatus, number>>;
      readonly durationMs: number;
    };

/** How a run ended. */
export type ApplyStatus =
  /** Every batch went through (some actions may be stale or flagged). */
  | 'Completed'
  /** At least one batch failed and was rolled back; the others went through. */
  | 'CompletedWithFailures'
  /** A batch failed and `onBatchFailure: 'stop'` stopped the run, or a streamed plan failed midway (see the report's `error`). */
  | 'Stopped'
  /** The `AbortSignal` fired; the run stopped between batches. */
  | 'Aborted'
  /** The run lock was lost (its session ended): the run stopped before the next batch. */
  | 'LockLost';
