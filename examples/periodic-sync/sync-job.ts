// The original system's 6-hour sync job, rebuilt on levelsync: one bulk run (or one shard of it)
// under the run lock (so two app instances never run it twice), a JSON job log per run, and the
// default policy (higher wins, never demote), so an admin-advanced license is never lowered back.
// `sync-queue.ts` runs it on a schedule, shard by shard, on a job engine (pg-boss).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyPlan,
  createMaxLevelResolver,
  createPlanStream,
  describeCause,
  openDesyncScan,
  type MaxLevelResolver,
  type Shard,
  type SyncEvent,
  type SyncPolicyInput,
  type SyncStore,
} from 'levelsync';
import { LEVELSYNC_MAPPING, createPgMaxLevelRepository, createPgSyncStore, type PgConnectionInput, type PgMapping } from 'levelsync/pg';

/** One run, as written to `<logDir>/YYYYMMDD_HHMMSS_sync.json`. */
export interface SyncJobLog {
  /**
   * `success`: every write applied (stale ones are left for the next run); `partial_failure`: a
   * batch failed and was rolled back; `skipped`: another instance holds the run lock (taken
   * before the scan: nothing scanned, nothing written); `error`: the run could not take the
   * lock, scan or plan (batches committed before a scan failed midway stay, and are counted).
   */
  readonly status: 'success' | 'partial_failure' | 'skipped' | 'error';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  /** Desyncs found, legacy-id notes excluded (0 when `skipped`: nothing was scanned). */
  readonly issuesFound: number;
  readonly applied: number;
  readonly stale: number;
  readonly failed: number;
  readonly flagged: number;
  readonly planFingerprint: string | null;
  readonly message: string;
  readonly warnings: readonly string[];
  /** The log file written. */
  readonly file: string;
}

export interface SyncJobOptions {
  /** A `pg.Pool` or a PGlite database; or give `store` and `resolver` directly. */
  readonly pool?: PgConnectionInput;
  readonly mapping?: PgMapping;
  readonly store?: SyncStore;
  readonly resolver?: MaxLevelResolver;
  /** Folder of the JSON job logs (created if missing). */
  readonly logDir: string;
  /** Default: higher wins, never demote, create missing records, flag levels above the maximum. */
  readonly policy?: SyncPolicyInput;
  /** Split the population between workers: each worker runs its own shard under its own lock. */
  readonly shard?: Shard;
  readonly batchSize?: number;
  readonly now?: () => Date;
  /** The apply events (progress, batches), e.g. for a job engine's progress report. */
  readonly onEvent?: (event: SyncEvent) => void;
}

/**
 * Runs the sync once: run lock, then scan → plan → apply streamed, then writes the job log. Never throws for an
 * expected failure: the log (also returned) says what happened.
 *
 * ```ts
 * const log = await runSyncJob({ pool, logDir: 'logs/sync_jobs' });
 * if (log.status !== 'success') alert(log.message);
 * ```
 */
export async function runSyncJob(options: SyncJobOptions): Promise<SyncJobLog> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const mapping = options.mapping ?? LEVELSYNC_MAPPING;
  const store = options.store ?? createPgSyncStore(requirePool(options), { mapping });
  const resolver = options.resolver ?? createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(requirePool(options), { mapping })] });
  const finish = (fields: Omit<SyncJobLog, 'startedAt' | 'finishedAt' | 'durationSeconds' | 'file'>): SyncJobLog => {
    const finished = now();
    const file = join(options.logDir, `${stamp(started)}_sync${options.shard ? `_shard${options.shard.index + 1}of${options.shard.count}` : ''}.json`);
    const log: SyncJobLog = {
      ...fields,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationSeconds: Math.round((finished.getTime() - started.getTime())) / 1000,
      file,
    };
    mkdirSync(options.logDir, { recursive: true });
    writeFileSync(`${file}.tmp`, `${JSON.stringify(log, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    return log;
  };
  const empty = { issuesFound: 0, applied: 0, stale: 0, failed: 0, flagged: 0, planFingerprint: null, warnings: [] };
  const scope = options.shard ? { shard: options.shard } : {};

  try {
    // Lock first: the run lock (of the shard, when there is one) before a single pair is read,
    // so that a second instance is skipped at once instead of after its scan, and nothing is
    // planned from data another run is still changing.
    const lock = await store.acquireRunLock(scope, { wait: false });
    if (lock.isErr()) {
      const skipped = lock.error._tag === 'RunInProgress';
      return finish({ ...empty, status: skipped ? 'skipped' : 'error', message: skipped ? `${lock.error.message} (nothing scanned)` : lock.error.message });
    }
    try {
      // Streamed: the scan feeds the plan and the plan feeds applyPlan batch by batch, so memory
      // holds a batch and a store page, never the whole drift. applyPlan uses the lock held
      // here (and stops before its next batch if the lock's session ends).
      const scan = await openDesyncScan(store, { resolver, ...scope });
      if (scan.isErr()) return finish({ ...empty, status: 'error', message: scan.error.message });
      const plan = createPlanStream(scan.value, { policy: options.policy ?? {}, now: () => started });
      if (plan.isErr()) return finish({ ...empty, status: 'error', message: plan.error.message });
      const applied = await applyPlan(plan.value, store, {
        runLock: lock.value,
        ...(options.batchSize ? { batchSize: options.batchSize } : {}),
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      });
      if (applied.isErr()) return finish({ ...empty, status: 'error', message: applied.error.message });
      const report = applied.value;
      const c = report.counts;
      const done = { applied: c.Applied, stale: c.Stale, failed: c.Failed, flagged: c.Flagged };
      // Known once the plan has been read to its end: the counts, warnings and fingerprint.
      const trailer = plan.value.trailer();
      if (report.error !== undefined || trailer === undefined) {
        // The scan failed midway: the batches before it stay committed, and are counted.
        const message = report.error?.message ?? 'the plan ended early';
        return finish({ ...empty, ...done, issuesFound: scan.value.summary().desyncCount, status: 'error', message: `${message} (${c.Applied} applied before it stopped)` });
      }
      // Legacy-id notes are no work (the scan lists none unless asked): never an issue.
      const issuesFound = trailer.summary.desyncs.total - trailer.summary.desyncs.LegacySpecializationId;
      if (issuesFound === 0) return finish({ ...empty, status: 'success', warnings: trailer.warnings, message: 'No desync issues' });
      const status = c.Failed > 0 || report.status !== 'Completed' ? 'partial_failure' : 'success';
      return finish({
        status,
        issuesFound,
        ...done,
        planFingerprint: trailer.fingerprint,
        warnings: trailer.warnings,
        message:
          `${c.Applied} applied, ${c.Stale} stale, ${c.Failed} failed, ${c.Flagged} flagged for review` +
          (report.status === 'LockLost' ? '; stopped: the run lock was lost (its database session ended)' : ''),
      });
    } finally {
      await lock.value.release().catch(() => undefined);
    }
  } catch (cause) {
    // A bug or a driver that threw: still leave a log line, never a secret.
    return finish({ ...empty, status: 'error', message: describeCause(cause) });
  }
}

function requirePool(options: SyncJobOptions): PgConnectionInput {
  if (!options.pool) throw new TypeError('runSyncJob: give `pool`, or both `store` and `resolver`');
  return options.pool;
}

/** 2026-11-25T21:05:09Z → 20261125_210509 (the original's log name). */
function stamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace(/-/g, '').replace('T', '_').replace(/:/g, '');
}
