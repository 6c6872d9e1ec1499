// Runs a sync worker on pg-boss: `DATABASE_URL=postgres://… npx tsx examples/periodic-sync/main.ts`
// from the repository root. Start as many as you like, on one machine or many: the schedule
// (SYNC_CRON, default every 6 hours) enqueues one sweep, the sweep SYNC_SHARDS shard jobs (default
// 8), and every worker claims them. SYNC_SWEEP_NOW=1 enqueues a sweep at start, so that you see
// the logs (SYNC_LOG_DIR, default logs/sync_jobs) right away. SYNC_MAPPING=original syncs the
// original system's tables (in schema SYNC_SCHEMA, default public), rows under PLAYER/COACH included.
// Without DATABASE_URL there is no server for pg-boss: it runs the job once on in-memory PGlite.
import pg from 'pg';
import { openExampleDatabase } from '../shared/example-database.js';
import { runSyncJob } from './sync-job.js';
import { DEFAULT_CRON, mappingFromEnv, startSyncQueue } from './sync-queue.js';

const logDir = process.env.SYNC_LOG_DIR ?? 'logs/sync_jobs';
const url = process.env.DATABASE_URL;

if (!url) {
  const db = await openExampleDatabase();
  const log = await runSyncJob({ pool: db.connection, logDir });
  console.log(`[sync] ${log.status}: ${log.message} (${log.issuesFound} issues, log ${log.file})`);
  console.log('pg-boss needs a PostgreSQL server: set DATABASE_URL to run the scheduled, sharded worker.');
  await db.close();
} else {
  const mapping = mappingFromEnv();
  // levelsync's own tables are created if missing; the original system's must exist.
  const db =
    process.env.SYNC_MAPPING === 'original'
      ? (() => {
          const pool = new pg.Pool({ connectionString: url });
          return { description: `the original system's tables (schema ${mapping.schema})`, connection: pool, close: () => pool.end() };
        })()
      : await openExampleDatabase();
  const pool = db.connection as pg.Pool;
  const queue = await startSyncQueue({
    connectionString: url,
    pool,
    mapping,
    logDir,
    cron: process.env.SYNC_CRON ?? DEFAULT_CRON,
    shards: Number(process.env.SYNC_SHARDS ?? 8),
    onShardRun: (log, job) => console.log(`[sync] shard ${job.index + 1}/${job.count} ${log.status}: ${log.message} (log ${log.file})`),
  });
  if (process.env.SYNC_SWEEP_NOW === '1') console.log(`[sync] sweep ${await queue.sweepNow()} enqueued`);
  console.log(`sync worker on ${db.description}: schedule ${process.env.SYNC_CRON ?? DEFAULT_CRON} (UTC); Ctrl-C to stop`);
  const shutdown = async () => {
    await queue.stop(); // stops claiming, waits for a shard in progress
    await db.close();
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}
