// The periodic sync on pg-boss, against the PostgreSQL server: 3 worker processes, 8 shards,
// 50 000 pairs with drift in the original system's tables — every GANCUJU_PLAYER and LFA_COACH
// row stored under the legacy ids PLAYER and COACH, as the original writes them, some licenses
// under the new ids — and one worker killed with SIGKILL in the middle of a shard.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMaxLevelResolver, isInformational, scanDesyncs } from 'levelsync';
import { ORIGINAL_SYSTEM_MAPPING, createPgMapping, createPgMaxLevelRepository, createPgSyncStore, toPgConnection } from 'levelsync/pg';
import { DEFAULT_CRON, SHARD_QUEUE, SWEEP_QUEUE, shardJobId, startSyncQueue, type SyncQueue } from '../../examples/periodic-sync/sync-queue.js';
import { removeTempDirs, tempDir } from '../cli/in-process.js';
import { createOriginalSchema } from '../support/original-schema.js';
import { describeWithServer, useTestDatabase } from '../support/postgres-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PAIRS = 50_000;
const SHARDS = 8;
const SCHEMA = 'original_system';

/**
 * The data set, pair by pair (user u, one pair each): its canonical id, the ids its rows are
 * stored under, the levels. Used to seed the tables and, independently of levelsync, to say
 * what a correct run leaves behind.
 */
function pairOf(u: number) {
  const canonical = (['LFA_COACH', 'GANCUJU_PLAYER', 'LFA_FOOTBALL_PLAYER'] as const)[u % 3]!;
  const legacy = canonical === 'LFA_COACH' ? 'COACH' : canonical === 'GANCUJU_PLAYER' ? 'PLAYER' : canonical;
  // Progress always under the legacy id; one license in seven under the new id (written after the rename).
  const progressId = legacy;
  const licenseId = u % 7 === 0 ? canonical : legacy;
  const progress = 1 + (u % 5);
  const license = u % 10 === 0 ? null : 1 + ((3 * u) % 5);
  return { canonical, progressId, licenseId, progress, license };
}

/** What higher-wins leaves: both sides at the higher level, ids as stored (a created license under the progress's id). */
function expectedAfterRun() {
  const progress = new Map<number, string>();
  const licenses = new Map<number, string>();
  const history = new Map<number, string>();
  for (let u = 1; u <= PAIRS; u++) {
    const p = pairOf(u);
    const level = Math.max(p.progress, p.license ?? 0);
    progress.set(u, `${p.progressId} ${level}`);
    licenses.set(u, `${p.license === null ? p.progressId : p.licenseId} ${level} max ${level}`);
    if (p.license === null) history.set(u, `0→${level}`);
    else if (p.license < level) history.set(u, `${p.license}→${level}`);
  }
  return { progress, licenses, history };
}

/** Differences between what the tables hold and what was expected (at most 10, with the count). */
function differences(actual: Map<number, string>, expected: Map<number, string>): string[] {
  const out: string[] = [];
  let n = 0;
  for (const u of new Set([...actual.keys(), ...expected.keys()])) {
    if (actual.get(u) !== expected.get(u)) if (n++ < 10) out.push(`user ${u}: ${actual.get(u) ?? 'none'} (expected ${expected.get(u) ?? 'none'})`);
  }
  if (n > 10) out.push(`… ${n} in all`);
  return out;
}

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
    await createOriginalSchema(toPgConnection(db.pool).run, { schema: SCHEMA });
    await db.pool.query(`INSERT INTO ${SCHEMA}.users (id, name) SELECT u, 'user ' || u FROM generate_series(1, ${PAIRS}) u`);
    await db.pool.query(`INSERT INTO ${SCHEMA}.specializations (id, name, max_levels) VALUES
      ('GANCUJU_PLAYER', 'GanCuju Player', 8), ('LFA_COACH', 'LFA Coach', 8), ('LFA_FOOTBALL_PLAYER', 'LFA Football Player', 8),
      ('INTERNSHIP', 'Internship', 3), ('PLAYER', 'Player', 8), ('COACH', 'Coach', 8)`);
    // 50 000 pairs: progress 1–5; a license one user in ten lacks, the others at (3u mod 5) + 1:
    // raised where the progress is ahead (a history row each), progress raised where the license is.
    const pairs = Array.from({ length: PAIRS }, (_, i) => ({ u: i + 1, ...pairOf(i + 1) }));
    await db.pool.query(
      `INSERT INTO ${SCHEMA}.specialization_progress (student_id, specialization_id, current_level) SELECT * FROM unnest($1::int4[], $2::text[], $3::int4[])`,
      [pairs.map((p) => p.u), pairs.map((p) => p.progressId), pairs.map((p) => p.progress)],
    );
    const licensed = pairs.filter((p) => p.license !== null);
    await db.pool.query(
      `INSERT INTO ${SCHEMA}.user_licenses (user_id, specialization_type, current_level, max_achieved_level, started_at)
       SELECT u, s, l, l, now() FROM unnest($1::int4[], $2::text[], $3::int4[]) AS x(u, s, l)`,
      [licensed.map((p) => p.u), licensed.map((p) => p.licenseId), licensed.map((p) => p.license)],
    );
    const legacy = await db.pool.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM ${SCHEMA}.specialization_progress WHERE specialization_id IN ('PLAYER', 'COACH'))
            + (SELECT count(*) FROM ${SCHEMA}.user_licenses WHERE specialization_type IN ('PLAYER', 'COACH')) AS n`,
    );
    // Two thirds of the pairs are GANCUJU_PLAYER or LFA_COACH: their progress rows, and six licenses in seven, under PLAYER/COACH.
    expect(Number(legacy.rows[0]!.n)).toBeGreaterThan(PAIRS);
  }, 180_000);

  it('completes every shard once, converges, one history row per license change, despite a worker killed mid-shard', async () => {
    const db = database();
    const logDir = join(tempDir(), 'sync_jobs');
    const env = { DATABASE_URL: db.url, SYNC_LOG_DIR: logDir, SYNC_SHARDS: String(SHARDS), SYNC_MAPPING: 'original', SYNC_SCHEMA: SCHEMA };
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
    const mapping = createPgMapping({ schema: SCHEMA }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
    const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(db.pool, { mapping })] });
    const store = createPgSyncStore(db.pool, { mapping, catalog: resolver.catalog });
    const after = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
    expect(after.desyncs.filter((d) => !isInformational(d))).toEqual([]);
    // … every row as computed from the data set alone: both sides at the higher level, each row
    // still under the id it was stored under (a created license under its progress's id) …
    const expected = expectedAfterRun();
    const progress = await db.pool.query<{ u: number; s: string; l: number }>(`SELECT student_id AS u, specialization_id AS s, current_level AS l FROM ${SCHEMA}.specialization_progress`);
    expect(progress.rows).toHaveLength(PAIRS);
    expect(differences(new Map(progress.rows.map((r) => [r.u, `${r.s} ${r.l}`])), expected.progress)).toEqual([]);
    const licenses = await db.pool.query<{ u: number; s: string; l: number; m: number }>(
      `SELECT user_id AS u, specialization_type AS s, current_level AS l, max_achieved_level AS m FROM ${SCHEMA}.user_licenses`,
    );
    expect(licenses.rows).toHaveLength(PAIRS);
    expect(differences(new Map(licenses.rows.map((r) => [r.u, `${r.s} ${r.l} max ${r.m}`])), expected.licenses)).toEqual([]);
    // … and exactly one history row per license created (from 0) or raised, with its levels.
    const history = await db.pool.query<{ u: number; change: string; rows: number }>(
      `SELECT l.user_id AS u, min(h.from_level) || '→' || min(h.to_level) AS change, count(*)::int AS rows
       FROM ${SCHEMA}.license_progressions h JOIN ${SCHEMA}.user_licenses l ON l.id = h.user_license_id GROUP BY l.user_id`,
    );
    expect(history.rows.filter((r) => r.rows !== 1)).toEqual([]);
    expect(differences(new Map(history.rows.map((r) => [r.u, r.change])), expected.history)).toEqual([]);
    let changes = 0;
    for (let u = 1; u <= PAIRS; u++) if (u % 10 === 0 || 1 + (u % 5) > 1 + ((3 * u) % 5)) changes++;
    expect(history.rows).toHaveLength(changes);

    // A JSON job log per shard run: a success for every shard (the killed attempt wrote none).
    const logs = readdirSync(logDir).map((f) => JSON.parse(readFileSync(join(logDir, f), 'utf8')) as { status: string; file: string });
    for (let k = 1; k <= SHARDS; k++) expect(logs.some((l) => l.status === 'success' && l.file.endsWith(`_shard${k}of${SHARDS}.json`)), `shard ${k}`).toBe(true);

    // The surviving workers stop cleanly on SIGTERM.
    for (const w of workers.slice(1)) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => exited(w.child)));
    expect(workers.slice(1).map((w) => w.child.exitCode)).toEqual([0, 0]);
  }, 600_000);
});
