// The periodic sync on pg-boss, against the PostgreSQL server: 3 worker processes, 8 shards,
// 50 000 pairs with drift, one worker killed with SIGKILL in the middle of a shard.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_CATALOG, createMaxLevelResolver, isInformational, scanDesyncs } from 'levelsync';
import { LEVELSYNC_MAPPING, createPgMaxLevelRepository, createPgSyncStore, migrate, upsertSpecializations } from 'levelsync/pg';
import { DEFAULT_CRON, SHARD_QUEUE, SWEEP_QUEUE, shardJobId, startSyncQueue, type SyncQueue } from '../../examples/periodic-sync/sync-queue.js';
import { removeTempDirs, tempDir } from '../cli/in-process.js';
import { describeWithServer, useTestDatabase } from '../support/postgres-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PAIRS = 50_000;
const SHARDS = 8;

/** A worker process, with the lines it printed. */
interface Worker {
  readonly child: ChildProcess;
  readonly lines: string[];
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

function startWorker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', join('test', 'examples', 'support', 'queue-worker.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      const m = w.pattern.exec(line);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => lines.push(`stderr: ${chunk.toString().trim()}`));
  return {
    child,
    lines,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const seen = lines.map((l) => pattern.exec(l)).find((m) => m !== null);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ pattern, resolve: (m) => (clearTimeout(timer), resolve(m)) });
        child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before ${pattern}; output:\n${lines.join('\n')}`)));
      }),
  };
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

describeWithServer('examples/periodic-sync on pg-boss: sweep → 8 shard jobs → 3 worker processes', () => {
  const database = useTestDatabase('sync_queue');
  const workers: Worker[] = [];
  let queue: SyncQueue | undefined;
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => exited(w.child)));
    await queue?.stop(5_000);
    removeTempDirs();
  }, 60_000);

  beforeAll(async () => {
    const db = database();
    (await migrate(db.pool))._unsafeUnwrap();
    const rows = DEFAULT_CATALOG.specializations.map((s) => ({ id: s.id, name: s.name, maxLevel: s.maxLevel }));
    (await upsertSpecializations(db.pool, rows, { mapping: LEVELSYNC_MAPPING }))._unsafeUnwrap();
    // 50 000 pairs: progress 1–5; a license one user in ten lacks, the others at (3u mod 5) + 1:
    // raised where the progress is ahead (a history row each), progress raised where the license is.
    await db.pool.query(`
      INSERT INTO levelsync.progress (user_id, specialization_id, level)
        SELECT u, (ARRAY['LFA_COACH','GANCUJU_PLAYER','LFA_FOOTBALL_PLAYER'])[u % 3 + 1], 1 + u % 5 FROM generate_series(1, ${PAIRS}) u;
      INSERT INTO levelsync.licenses (user_id, specialization_id, level, max_achieved_level)
        SELECT u, (ARRAY['LFA_COACH','GANCUJU_PLAYER','LFA_FOOTBALL_PLAYER'])[u % 3 + 1], 1 + (3 * u) % 5, 1 + (3 * u) % 5
        FROM generate_series(1, ${PAIRS}) u WHERE u % 10 <> 0;
      CREATE TABLE public.initial_licenses AS SELECT user_id, specialization_id, level FROM levelsync.licenses;`);
  }, 180_000);

  it('completes every shard once, converges, one history row per license change, despite a worker killed mid-shard', async () => {
    const db = database();
    const logDir = join(tempDir(), 'sync_jobs');
    const env = { DATABASE_URL: db.url, SYNC_LOG_DIR: logDir, SYNC_SHARDS: String(SHARDS) };
    // This process schedules (the default cron) and enqueues; it claims no job.
    // The queues' settings are the worker's (the first process to create a queue sets them).
    queue = await startSyncQueue({ connectionString: db.url, pool: db.pool, logDir, shards: SHARDS, work: false, shardExpireInSeconds: 20, retryLimit: 20, retryDelaySeconds: 1 });
    expect(await queue.boss.getSchedules()).toEqual([expect.objectContaining({ name: SWEEP_QUEUE, cron: DEFAULT_CRON })]);

    const victim = startWorker({ ...env, QUEUE_WORKER_FREEZE: '1' });
    workers.push(victim);
    await victim.waitFor(/^ready$/, 120_000);
    const sweep = await queue.sweepNow();
    for (let i = 0; i < 2; i++) workers.push(startWorker(env));

    // The victim commits one batch of a shard, then is killed without a chance to clean up.
    const frozen = Number((await victim.waitFor(/^frozen (\d+)$/, 180_000))[1]);
    victim.child.kill('SIGKILL');
    await exited(victim.child);

    // Every shard job completes; the victim's expires and is retried by the engine.
    const shardJobs = async () =>
      (await db.pool.query<{ id: string; i: number; state: string; retries: number }>(
        `SELECT id, (data->>'index')::int AS i, state, retry_count AS retries FROM pgboss.job WHERE name = $1 ORDER BY 2`,
        [SHARD_QUEUE],
      )).rows;
    const deadline = Date.now() + 240_000;
    while (!((await shardJobs()).filter((j) => j.state === 'completed').length === SHARDS) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    const jobs = await shardJobs();
    expect(jobs.map((j) => [j.i, j.state]), workers.flatMap((w) => w.lines).join('\n')).toEqual([...Array(SHARDS).keys()].map((i) => [i, 'completed']));
    expect(jobs.map((j) => j.id)).toEqual([...Array(SHARDS).keys()].map((i) => shardJobId(sweep, i, SHARDS)));
    expect(jobs.find((j) => j.i === frozen)!.retries).toBeGreaterThanOrEqual(1);

    // The result is the one a run without the kill has: nothing left to do …
    const store = createPgSyncStore(db.pool);
    const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(db.pool)] });
    const after = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
    expect(after.desyncs.filter((d) => !isInformational(d))).toEqual([]);
    // … and exactly one history row per license created or raised.
    let changes = 0;
    for (let u = 1; u <= PAIRS; u++) if (u % 10 === 0 || 1 + (u % 5) > 1 + ((3 * u) % 5)) changes++;
    const history = await db.pool.query<{ rows: number; licenses: number }>(`SELECT count(*)::int AS rows, count(DISTINCT license_id)::int AS licenses FROM levelsync.license_progressions`);
    expect(history.rows[0]).toEqual({ rows: changes, licenses: changes });
    const changed = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM levelsync.licenses l LEFT JOIN public.initial_licenses i USING (user_id, specialization_id) WHERE i.level IS DISTINCT FROM l.level`,
    );
    expect(changed.rows[0]!.n).toBe(changes);

    // A JSON job log per shard run: a success for every shard (the killed attempt wrote none).
    const logs = readdirSync(logDir).map((f) => JSON.parse(readFileSync(join(logDir, f), 'utf8')) as { status: string; file: string });
    for (let k = 1; k <= SHARDS; k++) expect(logs.some((l) => l.status === 'success' && l.file.endsWith(`_shard${k}of${SHARDS}.json`)), `shard ${k}`).toBe(true);

    // The surviving workers stop cleanly on SIGTERM.
    for (const w of workers.slice(1)) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => exited(w.child)));
    expect(workers.slice(1).map((w) => w.child.exitCode)).toEqual([0, 0]);
  }, 600_000);
});
