// The public shapes of a reconciler: its events, options and handle. The loop that produces them is
// in reconciler.ts.
import type { ResultAsync } from 'neverthrow';
import type { UserId } from '../../domain/records.js';
import type { StoreError, StoreUnavailable } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { MaxLevelResolver } from '../../max-level/resolution.js';
import type { PairKey } from '../../sync/pair-key.js';
import type { SyncPolicyInput } from '../../sync/policy.js';
import type { PgMapping } from '../pg-mapping.js';
import type { ChangeLag } from './pending-check.js';

/**
 * What a reconciler reports through `onEvent` (and, summarised, through the logger).
 *
 * ```ts
 * createReconciler(pool, { resolver, onEvent: (e) => e.type === 'batch' && metrics.observe(e.durationMs) });
 * ```
 */
export type ReconcilerEvent =
  | { readonly type: 'started' }
  /** Keys were claimed; their repairs are being planned and written (same transaction). */
  | { readonly type: 'claimed'; readonly changes: number }
  | {
      readonly type: 'batch';
      /** Change rows claimed and removed with the batch's writes (one commit). */
      readonly changes: number;
      /** Distinct pairs read. */
      readonly pairs: number;
      readonly applied: number;
      /** Applied license creations and level changes: each wrote exactly one history row. */
      readonly licenseChanges: number;
      /** Writes refused by compare-and-set (the pair changed meanwhile): their keys were queued again. */
      readonly stale: number;
      /**
       * Pairs left for a later batch because another transaction held a lock on one of their rows
       * (an application's write in progress, or another reconciler): their keys were queued again
       * with their original change time. The reconciler never waits on such a lock.
       */
      readonly deferred: number;
      /** Pairs with a desync left for a person (`FlagForReview`). */
      readonly flagged: number;
      /** The pairs whose writes were committed by this batch. */
      readonly repaired: readonly PairKey[];
      /** Age of the oldest change of the batch when the batch committed. */
      readonly oldestChangeMs: number;
      readonly durationMs: number;
    }
  | { readonly type: 'error'; readonly error: StoreError; readonly retryInMs: number }
  | { readonly type: 'recovered'; readonly afterMs: number }
  | { readonly type: 'resync-started' }
  | { readonly type: 'resync-finished'; readonly desyncs: number; readonly applied: number; readonly durationMs: number }
  | { readonly type: 'resync-skipped'; readonly reason: string }
  | { readonly type: 'lag'; readonly lag: ChangeLag }
  | { readonly type: 'stopped' };

/**
 * Options of {@link createReconciler}.
 *
 * ```ts
 * createReconciler(pool, { mapping: ORIGINAL_SYSTEM_MAPPING, resolver, policy: { direction: 'progress-to-license' }, batchSize: 200 });
 * ```
 */
export interface ReconcilerOptions {
  readonly resolver: MaxLevelResolver;
  /** Where the data and the change table live (default {@link LEVELSYNC_MAPPING}). */
  readonly mapping?: PgMapping;
  /** Default `higher-wins`. */
  readonly policy?: SyncPolicyInput;
  /** Change rows claimed per transaction (default 500). */
  readonly batchSize?: number;
  /** Poll interval right after work (default 20 ms); doubles while idle up to `maxPollMs`. */
  readonly minPollMs?: number;
  /** Longest poll interval when idle (default 250 ms): the worst added latency of a first change. */
  readonly maxPollMs?: number;
  /** Full resync interval, under the run lock (default 6 h; 0 turns it off). The first one runs after one interval. */
  readonly resyncIntervalMs?: number;
  /** How often a `lag` event is emitted (default 10 s; 0 turns it off). */
  readonly lagIntervalMs?: number;
  /**
   * The longest a batch waits for a lock it cannot skip (default 500 ms), e.g. a unique key an
   * application's open transaction is inserting. Rows of the claimed pairs are never waited for
   * (busy pairs are deferred); this bounds the rest, and makes the reconciler, not the
   * application, the one that gives up if a wait would otherwise end in a deadlock (PostgreSQL's
   * `deadlock_timeout` defaults to 1 s). The batch then fails, its keys stay queued, it is retried.
   */
  readonly lockTimeoutMs?: number;
  /** Recorded as `advancedBy` on progression rows (default null). */
  readonly actor?: UserId | null;
  readonly now?: () => Date;
  readonly logger?: Logger;
  readonly onEvent?: (event: ReconcilerEvent) => void;
}

/** What one {@link Reconciler.processBatch} call did (0 changes: nothing was pending). */
export type BatchOutcome = Extract<ReconcilerEvent, { type: 'batch' }>;

/**
 * A running (or startable) reconciler.
 *
 * ```ts
 * const reconciler = createReconciler(pool, { resolver });
 * reconciler.start();
 * process.once('SIGTERM', () => void reconciler.stop());
 * ```
 */
export interface Reconciler {
  /** Starts the loop (idempotent). Resolves `stopped` when it ends. */
  start(): void;
  /** Stops after the batch in flight commits; resolves when the loop has ended. */
  stop(): Promise<void>;
  /** Resolves when the loop ends (after `stop()` or an abort signal). */
  readonly stopped: Promise<void>;
  /** Claims and processes one batch now (what the loop does); for tests and manual draining. */
  processBatch(): ResultAsync<BatchOutcome, StoreError>;
  /** Claims and processes batches until none is pending. */
  drain(): ResultAsync<{ readonly batches: number; readonly changes: number; readonly applied: number; readonly licenseChanges: number }, StoreError>;
  /** One full resync: scan, plan and apply under the run lock. */
  resync(): ResultAsync<{ readonly desyncs: number; readonly applied: number }, StoreError>;
  /** Pending changes and the age of the oldest. */
  lag(): ResultAsync<ChangeLag, StoreUnavailable>;
}
