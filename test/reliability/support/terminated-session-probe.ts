// A child process for the "terminated session" reproduction (faults.test.ts): it uses levelsync
// on a `pg.Pool` exactly as an application does — with the pool's own 'error' handler installed,
// as node-postgres asks — then has PostgreSQL terminate the session levelsync checked out, and
// prints `survived` if the process is still alive afterwards.
//
//   node --import tsx test/reliability/support/terminated-session-probe.ts <url> <schema> run-lock|batch
//
// Modes:
// - run-lock: a bulk run's advisory lock session, idle while the run works, is terminated (as
//   pg_terminate_backend, idle_session_timeout or a failover would).
// - batch: a multi-statement batch transaction is terminated while it waits on a row lock.
import pg from 'pg';
import { applyPlan, createMaxLevelResolver, createPlan, scanDesyncs } from '../../../src/index.js';
import { createLevelsyncMapping, createPgMaxLevelRepository, createPgSyncStore } from '../../../src/pg/index.js';

const [url, schema, mode] = process.argv.slice(2);
if (!url || !schema || (mode !== 'run-lock' && mode !== 'batch')) {
  console.error('usage: terminated-session-probe.ts <url> <schema> run-lock|batch');
  process.exit(2);
}
const APP = `probe-${process.pid}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const pool = new pg.Pool({ connectionString: url, application_name: APP, max: 3 });
pool.on('error', () => {}); // idle clients: the application's duty, done
const admin = new pg.Client({ connectionString: url });
await admin.connect();
const mapping = createLevelsyncMapping({ schema })._unsafeUnwrap();
const store = createPgSyncStore(pool, { mapping, chunkSize: 5 });

async function pidWhere(condition: string): Promise<number> {
  for (let i = 0; i < 400; i++) {
    const rows = (await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND ${condition}`, [APP])).rows;
    if (rows.length > 0) return Number(rows[0].pid);
    await sleep(10);
  }
  throw new Error(`no session of ${APP} where ${condition}`);
}

if (mode === 'run-lock') {
  const lock = (await store.acquireRunLock({}))._unsafeUnwrap();
  const pid = await pidWhere(`query ILIKE '%advisory%'`);
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  await sleep(500);
  await lock.release();
} else {
  const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(pool, { mapping })] });
  const plan = createPlan((await scanDesyncs(store, { resolver }))._unsafeUnwrap())._unsafeUnwrap();
  const late = plan.actions[plan.actions.length - 1]!;
  const blocker = new pg.Client({ connectionString: url });
  await blocker.connect();
  await blocker.query('BEGIN');
  await blocker.query(`SELECT 1 FROM "${schema}".progress WHERE user_id = $1 FOR UPDATE`, [late.userId]);
  const running = applyPlan(plan, store, { batchSize: 1_000 });
  const pid = await pidWhere(`wait_event_type = 'Lock'`);
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  await blocker.query('ROLLBACK');
  await blocker.end();
  const report = (await running)._unsafeUnwrap();
  console.log(`batch status: ${report.batches.map((b) => b.status).join(',')}`);
  await sleep(300);
}
await admin.end();
await pool.end();
console.log('survived');
