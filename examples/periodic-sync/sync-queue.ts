// The periodic sync on a job engine (pg-boss), which is also levelsync's scale-out story.
//
// A cron schedule (every 6 hours by default) enqueues one *sweep*; the sweep enqueues `n` *shard*
// jobs (`shard k/n`); any number of worker processes, on one machine or many, claim them
// (`SELECT … FOR UPDATE SKIP LOCKED` inside pg-boss). A shard job that dies — its worker crashed,
// was killed, lost its connection — expires and is retried by the engine. A retry or a duplicate
// is harmless: the shard's run lock (a PostgreSQL advisory lock) keeps two runs of one shard
// apart, and compare-and-set makes a second pass over repaired pairs write nothing.
// Every shard run writes its JSON job log, as `runSyncJob` does.
import { createHash } from 'node:crypto';
import PgBoss from 'pg-boss';
import { createMaxLevelResolver, type SyncEvent, type SyncPolicyInput } from 'levelsync';
import {
  LEVELSYNC_MAPPING,
  ORIGINAL_SYSTEM_MAPPING,
  createLevelsyncMapping,
  createPgMapping,
  createPgMaxLevelRepository,
  createPgSyncStore,
  type PgConnectionInput,
  type PgMapping,
} from 'levelsync/pg';
import { runSyncJob, type SyncJobLog } from './sync-job.js';

export const SWEEP_QUEUE = 'levelsync-sweep';
export const SHARD_QUEUE = 'levelsync-shard';
/** Every 6 hours, on the hour (UTC), as the original job. */
export const DEFAULT_CRON = '0 */6 * * *';

/** What a shard job carries. */
export interface ShardJobData {
  /** The sweep that enqueued it (the sweep job's id). */
  readonly sweep: string;
  /** 0-based shard index and shard count: `shard index+1/count`. */
  readonly index: number;
  readonly count: number;
}

export interface SyncQueueOptions {
  /** The PostgreSQL server pg-boss keeps its jobs on (usually the application's database). */
  readonly connectionString: string;
  /** pg-boss's schema (default `pgboss`). */
  readonly bossSchema?: string;
  /** Where the levels are: a `pg.Pool` (or anything `levelsync/pg` accepts). */
  readonly pool: PgConnectionInput;
  /**
   * Where the levels are (default levelsync's own schema). `ORIGINAL_SYSTEM_MAPPING` for the
   * original system's tables: rows under the legacy ids PLAYER and COACH belong to the pairs of
   * GANCUJU_PLAYER and LFA_COACH (the resolver's catalog) and keep the id they are stored under.
   * {@link mappingFromEnv} reads it from `SYNC_MAPPING` / `SYNC_SCHEMA`.
   */
  readonly mapping?: PgMapping;
  readonly policy?: SyncPolicyInput;
  /** Folder of the JSON job logs, one per shard run. */
  readonly logDir: string;
  /** Cron syntax, UTC (default {@link DEFAULT_CRON}). `null`: no schedule from this process. */
  readonly cron?: string | null;
  /** Shards per sweep (default 8). */
  readonly shards?: number;
  /** Whether this process claims jobs (default true); false for a process that only schedules or enqueues. */
  readonly work?: boolean;
  /**
   * A shard job still running after this long is presumed dead and retried (default 15 min).
   * This and the retry settings belong to the queue: the first process that creates it sets them.
   */
  readonly shardExpireInSeconds?: number;
  /** Attempts after the first (default 5), `retryDelaySeconds` apart (default 30). */
  readonly retryLimit?: number;
  readonly retryDelaySeconds?: number;
  /** How often pg-boss looks for expired jobs (default 60 s). */
  readonly maintenanceIntervalSeconds?: number;
  /** How often an idle worker polls (default 2 s). */
  readonly pollingIntervalSeconds?: number;
  readonly batchSize?: number;
  /** Each shard run's log, once written. */
  readonly onShardRun?: (log: SyncJobLog, job: ShardJobData) => void;
  /** The apply events of each shard run (progress, batches). */
  readonly onEvent?: (event: SyncEvent, job: ShardJobData) => void;
}

export interface SyncQueue {
  readonly boss: PgBoss;
  /** Enqueues a sweep now (what the schedule does); resolves to its job id. */
  sweepNow(): Promise<string>;
  /** Stops claiming jobs, waits for the running ones (up to `timeoutMs`), and closes pg-boss. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts pg-boss, creates the two queues, (re)installs the schedule, and — unless `work: false`
 * — claims sweep and shard jobs. Call it in every worker process; the schedule is stored once.
 *
 * ```ts
 * const queue = await startSyncQueue({ connectionString: process.env.DATABASE_URL!, pool, logDir: 'logs/sync_jobs' });
 * process.once('SIGTERM', () => void queue.stop());
 * ```
 */
export async function startSyncQueue(options: SyncQueueOptions): Promise<SyncQueue> {
  const shards = options.shards ?? 8;
  if (!Number.isInteger(shards) || shards < 1 || shards > 1024) throw new RangeError('shards must be an integer from 1 to 1024');
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: options.bossSchema ?? 'pgboss',
    maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 60,
    ...(options.cron === null ? { schedule: false } : {}),
  });
  // pg-boss reports connection trouble as events; without a listener Node would throw them.
  boss.on('error', (error: Error) => console.error(`[sync-queue] ${error.message}`));
  await boss.start();

  const retry = { retryLimit: options.retryLimit ?? 5, retryDelay: options.retryDelaySeconds ?? 30, retryBackoff: false };
  await boss.createQueue(SWEEP_QUEUE, { name: SWEEP_QUEUE, ...retry, expireInSeconds: 300 });
  await boss.createQueue(SHARD_QUEUE, { name: SHARD_QUEUE, ...retry, expireInSeconds: options.shardExpireInSeconds ?? 900 });
  if (options.cron !== null) await boss.schedule(SWEEP_QUEUE, options.cron ?? DEFAULT_CRON, {}, { tz: 'UTC' });

  if (options.work !== false) {
    const mapping = options.mapping ?? LEVELSYNC_MAPPING;
    const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(options.pool, { mapping })] });
    const store = createPgSyncStore(options.pool, { mapping, catalog: resolver.catalog });
    const polling = { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 };

    // The sweep: one job per shard, with ids derived from the sweep's, so that a retried sweep
    // enqueues nothing twice.
    await boss.work<Record<string, never>>(SWEEP_QUEUE, polling, async ([job]) => {
      if (!job) return;
      for (let index = 0; index < shards; index++) {
        const data: ShardJobData = { sweep: job.id, index, count: shards };
        await boss.send(SHARD_QUEUE, data, { id: shardJobId(job.id, index, shards) });
      }
      return { shards };
    });

    // A shard: scan → plan → apply under the shard's run lock, then its JSON log. Anything but a
    // success throws, so that the engine retries it: `skipped` (another worker holds this shard),
    // `partial_failure` (a batch was rolled back), `error` (the database could not be read).
    await boss.work<ShardJobData>(SHARD_QUEUE, polling, async ([job]) => {
      if (!job) return;
      const data = job.data;
      const log = await runSyncJob({
        store,
        resolver,
        logDir: options.logDir,
        shard: { index: data.index, count: data.count },
        ...(options.policy ? { policy: options.policy } : {}),
        ...(options.batchSize ? { batchSize: options.batchSize } : {}),
        ...(options.onEvent ? { onEvent: (event: SyncEvent) => options.onEvent!(event, data) } : {}),
      });
      options.onShardRun?.(log, data);
      if (log.status !== 'success') throw new Error(`shard ${data.index + 1}/${data.count}: ${log.status}: ${log.message}`);
      return { status: log.status, issuesFound: log.issuesFound, applied: log.applied, stale: log.stale, log: log.file };
    });
  }

  return {
    boss,
    async sweepNow() {
      const id = await boss.send(SWEEP_QUEUE, {});
      if (id === null) throw new Error('pg-boss refused the sweep job');
      return id;
    },
    async stop(timeoutMs = 30_000) {
      await boss.stop({ graceful: true, close: true, timeout: timeoutMs, wait: true });
    },
  };
}

/**
 * The tables a worker process syncs, from its environment: `SYNC_MAPPING=original` for the
 * original system's tables (`ORIGINAL_SYSTEM_MAPPING`: `specialization_progress`,
 * `user_licenses`, `license_progressions`, `specializations.max_levels`, integer user ids), unset
 * or `levelsync` for levelsync's own; `SYNC_SCHEMA` names their schema (default `public` for the
 * original's, `levelsync` for levelsync's).
 */
export function mappingFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): PgMapping {
  const kind = env['SYNC_MAPPING'] ?? 'levelsync';
  const schema = env['SYNC_SCHEMA'];
  const mapping =
    kind === 'original'
      ? createPgMapping({ schema: schema ?? 'public' }, ORIGINAL_SYSTEM_MAPPING)
      : kind === 'levelsync'
        ? schema === undefined
          ? null
          : createLevelsyncMapping({ schema })
        : undefined;
  if (mapping === undefined) throw new TypeError(`SYNC_MAPPING must be levelsync or original (got ${JSON.stringify(kind)})`);
  if (mapping === null) return LEVELSYNC_MAPPING;
  if (mapping.isErr()) throw new TypeError(`SYNC_SCHEMA: ${mapping.error.message}`);
  return mapping.value;
}

/** A UUID derived from (sweep, shard): the same shard of the same sweep is one job, however often it is sent. */
export function shardJobId(sweep: string, index: number, count: number): string {
  const hex = createHash('sha256').update(`${sweep}:${index}/${count}`).digest('hex');
  // RFC 4122 layout, version 5-style bits.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}
