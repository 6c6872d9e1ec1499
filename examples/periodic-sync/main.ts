// Runs the periodic sync: `npx tsx examples/periodic-sync/main.ts` from the repository root.
// SYNC_EVERY_HOURS (default 6), SYNC_LOG_DIR (default logs/sync_jobs); runs once at start here
// so that you see a log right away (the original waited one period).
import { openExampleDatabase } from '../shared/example-database.js';
import { startSyncScheduler } from './sync-job.js';

const db = await openExampleDatabase();
const scheduler = startSyncScheduler({
  pool: db.connection,
  logDir: process.env.SYNC_LOG_DIR ?? 'logs/sync_jobs',
  everyHours: Number(process.env.SYNC_EVERY_HOURS ?? 6),
  runOnStart: true,
  onRun: (log) => console.log(`[sync] ${log.status}: ${log.message} (${log.issuesFound} issues, log ${log.file})`),
});
console.log(`periodic sync on ${db.description}: every ${process.env.SYNC_EVERY_HOURS ?? 6} h; Ctrl-C to stop`);

// The scheduler's timer is unref'd; this keeps the process alive until a signal.
const keepAlive = setInterval(() => {}, 1 << 30);
const shutdown = async () => {
  clearInterval(keepAlive);
  await scheduler.stop(); // waits for a run in progress
  await db.close();
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
