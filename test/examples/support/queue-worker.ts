// A worker process of the job-queue test: the example's `startSyncQueue`, claiming sweep and shard
// jobs. Reports on stdout, one line each: `ready`, `shard <k> <status>` per shard run. With
// `QUEUE_WORKER_FREEZE=1` it prints `frozen <k>` after the first batch of a shard has committed
// and then stops dead (its event loop blocked), for the test to kill it with SIGKILL mid-shard.
// The tables come from SYNC_MAPPING / SYNC_SCHEMA, as in examples/periodic-sync/main.ts.
import { writeSync } from 'node:fs';
import pg from 'pg';
import { mappingFromEnv, startSyncQueue } from '../../../examples/periodic-sync/sync-queue.js';

const say = (line: string) => writeSync(1, `${line}\n`);
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const freeze = process.env['QUEUE_WORKER_FREEZE'] === '1';

const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 4 });
const queue = await startSyncQueue({
  connectionString: env('DATABASE_URL'),
  pool,
  mapping: mappingFromEnv(),
  logDir: env('SYNC_LOG_DIR'),
  cron: process.env['SYNC_CRON'] ?? null,
  shards: Number(env('SYNC_SHARDS')),
  batchSize: 500,
  shardExpireInSeconds: 20,
  retryLimit: 20,
  retryDelaySeconds: 1,
  maintenanceIntervalSeconds: 1,
  pollingIntervalSeconds: 0.5,
  onShardRun: (log, job) => say(`shard ${job.index} ${log.status}`),
  onEvent: (event, job) => {
    if (freeze && event.type === 'batch-finished') {
      say(`frozen ${job.index}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
    }
  },
});
say('ready');
process.once('SIGTERM', () => {
  void queue
    .stop(10_000)
    .then(() => pool.end())
    .then(() => process.exit(0));
});
