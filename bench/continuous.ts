// Continuous-mode benchmark (issue 14), runnable on its own or through `npm run bench -- --continuous`:
//
//   npm run build && tsx --tsconfig bench/tsconfig.json bench/continuous.ts [--datasets M,L] [--json]
//   options: --url <server url> (as bench/run.ts), --duration 60 (s of the latency run), --rate 200 (writer tx/s),
//            --users <n> (smoke tests: another user count for every data set), --seed 0.42,
//            --overhead-seconds 10 (each writer-throughput run)
//
// Keys, each measured side by side in this one run (see docs/continuous.md):
// - incremental_check_ms_M / _L: checkPending over k = 1 000 changed pairs (median of 7) in data set M and L;
// - reconcile_latency_p50_ms / p99_ms: writer commit → pair repaired and committed, at --rate writer
//   transactions/s for --duration s with 2 reconcilers, and the oldest pending change at the end;
// - writer_overhead_pct: throughput of 8 concurrent single-row writers and the time of one 50 000-row
//   UPDATE, with statement-level capture vs none (alternating runs, medians); row-level capture and
//   capture with NOTIFY are measured beside it for the record.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createMaxLevelResolver } from 'levelsync';
import { checkPending, createPgMaxLevelRepository, createReconciler, installCapture, ORIGINAL_SYSTEM_MAPPING, pendingLag, uninstallCapture } from 'levelsync/pg';
import { generateDataset } from './dataset.js';
import { DATASETS, DEFAULT_SERVER_URL, log, median, round, withDatabase, type DatasetName } from './support.js';

const { values: args } = parseArgs({
  options: {
    datasets: { type: 'string', default: 'M,L' },
    json: { type: 'boolean', default: false },
    url: { type: 'string', default: DEFAULT_SERVER_URL },
    duration: { type: 'string', default: '60' },
    rate: { type: 'string', default: '200' },
    users: { type: 'string' },
    seed: { type: 'string', default: '0.42' },
    'overhead-seconds': { type: 'string', default: '10' },
    continuous: { type: 'boolean', default: false }, // accepted when forwarded by bench/run.ts
  },
});
const datasets = args.datasets.split(',').map((d) => d.trim().toUpperCase()) as DatasetName[];
for (const d of datasets) if (!(d in DATASETS)) throw new Error(`--datasets: ${d} is not M or L`);
const durationS = Number(args.duration);
const rate = Number(args.rate);
const overheadS = Number(args['overhead-seconds']);
const K = 1_000;
const mapping = ORIGINAL_SYSTEM_MAPPING;

export interface ContinuousResults {
  readonly [key: string]: number | string | boolean | Record<string, unknown>;
}

const results: Record<string, number | string | boolean | Record<string, unknown>> = {};
const admin = new pg.Client({ connectionString: args.url });
await admin.connect();

async function withDataset<T>(name: DatasetName, work: (pool: pg.Pool, url: string) => Promise<T>): Promise<T> {
  const users = args.users ? Number(args.users) : DATASETS[name].users;
  const db = `levelsync_bench_cont_${name.toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE "${db}"`);
  const url = withDatabase(args.url, db);
  const client = new pg.Client({ connectionString: url });
  const pool = new pg.Pool({ connectionString: url, max: 12 });
  pool.on('error', () => {});
  try {
    await client.connect();
    log(`continuous ${name}: generating ${users.toLocaleString('en')} users × 5`);
    const facts = await generateDataset(client, users, Number(args.seed));
    log(`continuous ${name}: ${facts.progressRows} progress rows, ${facts.licenseRows} license rows in ${facts.generateSeconds.toFixed(1)} s`);
    results[`pairs_${name}`] = facts.pairs;
    return await work(pool, url);
  } finally {
    await client.end().catch(() => {});
    await pool.end().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  }
}

function resolverFor(pool: pg.Pool) {
  return createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(pool, { mapping })] });
}

/** k in-sync pairs with a progress level below the maximum, spread over the table. */
async function inSyncPairs(pool: pg.Pool, k: number): Promise<{ u: number; spec: string }[]> {
  const rows = await pool.query(
    `SELECT p.student_id AS u, p.specialization_id AS spec FROM specialization_progress p
     JOIN user_licenses l ON l.user_id = p.student_id AND l.specialization_type = p.specialization_id
     JOIN specializations s ON s.id = p.specialization_id
     WHERE p.current_level = l.current_level AND p.current_level < s.max_levels - 1 AND l.max_achieved_level = l.current_level
     ORDER BY hashint4(p.student_id # 1234567), p.specialization_id
     LIMIT $1`,
    [k],
  );
  if (rows.rows.length < k) throw new Error(`only ${rows.rows.length} in-sync pairs found for ${k}`);
  return rows.rows as { u: number; spec: string }[];
}

async function incrementalCheck(name: DatasetName, pool: pg.Pool): Promise<void> {
  (await installCapture(pool, { mapping }))._unsafeUnwrap();
  const pairs = await inSyncPairs(pool, K);
  await pool.query(
    `UPDATE specialization_progress p SET current_level = p.current_level + 1 FROM unnest($1::int4[], $2::text[]) AS k(u, spec) WHERE p.student_id = k.u AND p.specialization_id = k.spec`,
    [pairs.map((p) => p.u), pairs.map((p) => p.spec)],
  );
  await pool.query('VACUUM ANALYZE levelsync_changes');
  const resolver = resolverFor(pool);
  const times: number[] = [];
  let desyncs = 0;
  for (let i = 0; i < 8; i++) {
    const started = process.hrtime.bigint();
    const check = (await checkPending(pool, { mapping, resolver }))._unsafeUnwrap();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (i > 0) times.push(ms); // the first warms the resolver's cache and the plan
    desyncs = check.desyncs.filter((d) => d.kind === 'LevelMismatch').length;
    if (check.pendingKeys !== K) throw new Error(`expected ${K} pending keys, got ${check.pendingKeys}`);
  }
  if (desyncs !== K) throw new Error(`expected ${K} level mismatches among the pending pairs, got ${desyncs}`);
  results[`incremental_check_ms_${name}`] = round(median(times), 1);
  log(`continuous ${name}: incremental check over ${K} changed pairs: median ${median(times).toFixed(1)} ms (${times.map((t) => t.toFixed(1)).join(', ')})`);
  await pool.query('DELETE FROM levelsync_changes');
}

async function latency(pool: pg.Pool, url: string): Promise<void> {
  const warmup = Math.round(3 * rate); // 3 s of writes first, not recorded: reconcilers warm (catalog, plans, cache)
  const total = Math.round(durationS * rate) + warmup;
  const pairs = await inSyncPairs(pool, total);
  await pool.query('DELETE FROM levelsync_changes');
  const pools = [0, 1].map(() => {
    const p = new pg.Pool({ connectionString: url, max: 2 });
    p.on('error', () => {});
    return p;
  });
  const written = new Map<string, number>();
  const latencies: number[] = [];
  let unmatched = 0;
  let measuring = false;
  const reconcilers = pools.map((p) =>
    createReconciler(p, {
      mapping,
      resolver: resolverFor(p),
      policy: { direction: 'higher-wins' },
      resyncIntervalMs: 0,
      lagIntervalMs: 0,
      onEvent: (e) => {
        if (e.type !== 'batch') return;
        const now = performance.now();
        for (const key of e.repaired) {
          const id = `${String(key.userId)}|${key.specializationId}`;
          const t0 = written.get(id);
          if (t0 === undefined) {
            if (measuring) unmatched++;
          }
          else {
            latencies.push(now - t0);
            written.delete(id);
          }
        }
      },
    }),
  );
  reconcilers.forEach((r) => r.start());
  const writerPool = new pg.Pool({ connectionString: url, max: 8 });
  writerPool.on('error', () => {});
  const interval = 1000 / rate;
  const start = performance.now();
  let measureStart = start;
  const inflight = new Set<Promise<unknown>>();
  let late = 0;
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else if (wait < -50 && i >= warmup) late++;
    if (i === warmup) {
      measuring = true;
      measureStart = performance.now();
    }
    const pair = pairs[i]!;
    const id = `${pair.u}|${pair.spec}`;
    // t0: when the writer's (autocommit) transaction is sent; the commit is part of the latency.
    if (i >= warmup) written.set(id, performance.now());
    const p = writerPool
      .query(`UPDATE specialization_progress SET current_level = current_level + 1 WHERE student_id = $1 AND specialization_id = $2`, [pair.u, pair.spec])
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
  const achieved = (total - warmup) / ((performance.now() - measureStart) / 1000);
  const lagAtEnd = (await pendingLag(pool, { mapping }))._unsafeUnwrap();
  // Let the reconcilers finish what is left, to count every write.
  const deadline = Date.now() + 30_000;
  while (written.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await Promise.all(reconcilers.map((r) => r.stop()));
  await writerPool.end();
  await Promise.all(pools.map((p) => p.end()));
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  results['reconcile_latency_p50_ms'] = round(pct(0.5), 1);
  results['reconcile_latency_p99_ms'] = round(pct(0.99), 1);
  results['reconcile_latency_max_ms'] = round(sorted.at(-1)!, 1);
  results['reconcile_writer_tx_per_s'] = round(achieved, 1);
  results['reconcile_pending_oldest_ms_at_end'] = lagAtEnd.oldestMs;
  results['reconcile_pending_at_end'] = lagAtEnd.pending;
  results['reconcile_unrepaired'] = written.size;
  results['reconcile_writes_sent_late'] = late;
  log(
    `latency: ${latencies.length} repairs of ${total - warmup} measured writes at ${achieved.toFixed(1)} tx/s (${late} sent > 50 ms late): p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; ` +
      `at the end ${lagAtEnd.pending} pending, oldest ${lagAtEnd.oldestMs} ms; ${written.size} never repaired, ${unmatched} repairs of other pairs`,
  );
}

type Capture = 'none' | 'statement' | 'statement-filtered' | 'row' | 'statement+notify' | 'statement-unlogged';

async function setCapture(pool: pg.Pool, capture: Capture): Promise<void> {
  (await uninstallCapture(pool, { mapping }))._unsafeUnwrap();
  if (capture !== 'none') {
    (await installCapture(pool, { mapping, level: capture === 'row' ? 'row' : 'statement', notify: capture === 'statement+notify', durable: capture !== 'statement-unlogged', filterUpdates: capture === 'statement-filtered' }))._unsafeUnwrap();
  }
  await pool.query('CHECKPOINT');
}

/** 8 concurrent writers, single-row autocommit transactions changing a level, for `seconds`. */
async function writerThroughput(url: string, seconds: number, users: number): Promise<number> {
  const writerPool = new pg.Pool({ connectionString: url, max: 8 });
  writerPool.on('error', () => {});
  let count = 0;
  const until = performance.now() + seconds * 1000;
  let seed = 12345;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() < until) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const user = 1 + (seed % users);
        await writerPool.query(
          `UPDATE specialization_progress SET current_level = CASE WHEN current_level > 1 THEN current_level - 1 ELSE current_level + 1 END WHERE student_id = $1 AND specialization_id = 'LFA_COACH'`,
          [user],
        );
        count++;
      }
    }),
  );
  await writerPool.end();
  return count / seconds;
}

/** One UPDATE of 50 000 rows changing their level (alternately up and down), in ms. */
async function bulkUpdate(pool: pg.Pool, up: boolean): Promise<number> {
  const started = process.hrtime.bigint();
  await pool.query(
    `UPDATE specialization_progress SET current_level = current_level ${up ? '+' : '-'} 1 WHERE id IN (SELECT id FROM bench_bulk_ids)`,
  );
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function writerOverhead(pool: pg.Pool, url: string, users: number): Promise<void> {
  await pool.query(`CREATE TABLE bench_bulk_ids AS SELECT id FROM specialization_progress WHERE current_level BETWEEN 2 AND 6 AND specialization_id <> 'INTERNSHIP' ORDER BY id LIMIT 50000`);
  const tps: Record<Capture, number[]> = { none: [], statement: [], 'statement-filtered': [], row: [], 'statement+notify': [], 'statement-unlogged': [] };
  const bulk: Record<Capture, number[]> = { none: [], statement: [], 'statement-filtered': [], row: [], 'statement+notify': [], 'statement-unlogged': [] };
  const order: Capture[] = ['none', 'statement', 'statement-filtered', 'row', 'statement-unlogged', 'statement+notify', 'none', 'statement', 'statement-filtered', 'row', 'statement-unlogged', 'none', 'statement'];
  let up = true;
  for (const capture of order) {
    await setCapture(pool, capture);
    tps[capture].push(await writerThroughput(url, overheadS, users));
    for (let i = 0; i < 2; i++) {
      bulk[capture].push(await bulkUpdate(pool, up));
      up = !up;
    }
    if (capture !== 'none') await pool.query('DELETE FROM levelsync_changes');
    await pool.query('VACUUM specialization_progress');
    log(`overhead: ${capture}: ${tps[capture].at(-1)!.toFixed(0)} tx/s; 50 000-row UPDATE ${bulk[capture].slice(-2).map((b) => b.toFixed(0)).join(' / ')} ms`);
  }
  await setCapture(pool, 'none');
  const m = (c: Capture) => median(tps[c]);
  const b = (c: Capture) => median(bulk[c]);
  const single = (c: Capture) => round((1 - m(c) / m('none')) * 100, 1);
  const bulkPct = (c: Capture) => round((b(c) / b('none') - 1) * 100, 1);
  results['writer_tps_none'] = round(m('none'), 0);
  results['writer_tps_capture'] = round(m('statement'), 0);
  results['writer_overhead_pct_single'] = single('statement');
  results['writer_overhead_pct_bulk'] = bulkPct('statement');
  results['writer_overhead_pct'] = Math.max(single('statement'), bulkPct('statement'));
  results['bulk_update_ms_none'] = round(b('none'), 0);
  results['bulk_update_ms_capture'] = round(b('statement'), 0);
  results['writer_overhead_pct_single_filtered'] = single('statement-filtered');
  results['writer_overhead_pct_bulk_filtered'] = bulkPct('statement-filtered');
  results['writer_overhead_pct_single_row_trigger'] = single('row');
  results['writer_overhead_pct_bulk_row_trigger'] = bulkPct('row');
  results['writer_overhead_pct_single_unlogged'] = single('statement-unlogged');
  results['writer_overhead_pct_bulk_unlogged'] = bulkPct('statement-unlogged');
  results['writer_overhead_pct_single_notify'] = single('statement+notify');
  results['writer_overhead_pct_bulk_notify'] = bulkPct('statement+notify');
  results['writer_overhead_runs'] = { tps, bulk } as unknown as Record<string, unknown>;
}

const started = process.hrtime.bigint();
for (const name of datasets) {
  await withDataset(name, async (pool, url) => {
    await incrementalCheck(name, pool);
    if (name === datasets[0]) {
      await latency(pool, url);
      await writerOverhead(pool, url, args.users ? Number(args.users) : DATASETS[name].users);
    }
  });
}
await admin.end();
if (results['incremental_check_ms_M'] !== undefined && results['incremental_check_ms_L'] !== undefined) {
  results['incremental_check_L_vs_M'] = round(Number(results['incremental_check_ms_L']) / Number(results['incremental_check_ms_M']), 2);
}
results['continuous_seconds'] = round(Number(process.hrtime.bigint() - started) / 1e9, 1);
if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else for (const [key, value] of Object.entries(results)) if (typeof value !== 'object') process.stdout.write(`${key.padEnd(44)} ${String(value)}\n`);
