// Issue 10's lead on apply_vs_floor: what the progress-row lock of the apply statement costs.
// The apply statement locks every pair's progress row FOR UPDATE although a license repair never
// writes it; a row lock of any strength is written into the tuple header (xmax), so it dirties the
// page and is WAL-logged — with a full-page image when it is the page's first change since a
// checkpoint. This script applies the same plan with variants of the statement, one statement
// per 1 000 actions as `applyPlan` sends them (autocommit), from the same drifted state after a
// CHECKPOINT (as the bench does), and reports time and the statements' own WAL (EXPLAIN WAL).
//
//   npx tsx --tsconfig bench/tsconfig.json bench/lock-variants.ts [--users 200000] [--reps 3] [--dataset M] [--keep]
//
// Variants of the `pr` CTE (the progress rows of the chunk's pairs):
//   for-update      today: FOR UPDATE OF t on every progress row
//   for-share       FOR SHARE;  for-key-share: FOR KEY SHARE (weaker locks, same header write)
//   written-only    FOR UPDATE only on pairs whose progress row the chunk writes; the others read
//                   without a lock (the verdict then rests on the statement's snapshot for them)
//   floor / cas-floor   bench/floor.ts's statements on the same repairs, 5 000 per statement
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createMaxLevelResolver, createPlan, isWriteAction, scanDesyncs, type WriteAction } from 'levelsync';
import { createPgMaxLevelRepository, createPgSyncStore, ORIGINAL_SYSTEM_MAPPING } from 'levelsync/pg';
import { applyValues, buildApplyStatement } from '../src/pg/apply-statement.js';
import { mappingNames } from '../src/pg/mapping/names.js';
import { generateDataset, layoutOf, resetDrift } from './dataset.js';
import { FLOOR_APPLY_SQL, FLOOR_CAS_APPLY_SQL, FLOOR_CHUNK, floorCasValues, floorValues, readRepairs, type Repair } from './floor.js';
import { BENCH_POLICY, DATASETS, datasetNamed, DEFAULT_SERVER_URL, log, median, round, secondsSince, withDatabase } from './support.js';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: DEFAULT_SERVER_URL },
    dataset: { type: 'string', default: 'M' },
    users: { type: 'string' },
    reps: { type: 'string', default: '3' },
    chunk: { type: 'string', default: '1000' },
    keep: { type: 'boolean', default: false },
  },
});
const name = datasetNamed(args.dataset);
if (!name) throw new Error(`unknown data set ${args.dataset}`);
const dataset = DATASETS[name];
const users = args.users ? Number(args.users) : dataset.users;
const reps = Number(args.reps);
const chunk = Number(args.chunk);

const PR_LOCK = /(\), pr AS \(\n[\s\S]*?ORDER BY k\.uid, g\.sid\n  )FOR UPDATE OF t/;

/** The apply statement with another lock on the progress rows. */
function variant(sql: string, kind: string): string {
  if (!PR_LOCK.test(sql)) throw new Error('the apply statement has changed shape: update bench/lock-variants.ts');
  if (kind === 'for-update') return sql;
  if (kind === 'for-share') return sql.replace(PR_LOCK, '$1FOR SHARE OF t');
  if (kind === 'for-key-share') return sql.replace(PR_LOCK, '$1FOR KEY SHARE OF t');
  if (kind === 'written-only') {
    // k gains wp: does the chunk write this pair's progress row? pr locks those rows only;
    // pr_read reads the others without a lock; the verdict groups both.
    const m = PR_LOCK.exec(sql)!;
    const prLocked = m[0].replace('), pr AS (', '), pr_w AS (').replace('FROM k JOIN g', 'FROM k JOIN g').replace(/\n  ORDER BY/, '\n  WHERE k.wp\n  ORDER BY');
    const prRead = m[1]!.replace('), pr AS (', ', pr_r AS (').replace(/\n  ORDER BY k\.uid, g\.sid\n  $/, '\n  WHERE NOT k.wp\n');
    return sql
      .replace('SELECT DISTINCT uid, canon FROM x', `SELECT uid, canon, bool_or(kind IN ('SetProgressLevel', 'CreateProgress')) AS wp FROM x GROUP BY uid, canon`)
      .replace(PR_LOCK, `${prLocked}\n)${prRead}), pr AS (\n  SELECT * FROM pr_w UNION ALL SELECT * FROM pr_r`);
  }
  throw new Error(kind);
}

const VARIANTS = ['for-update', 'for-share', 'for-key-share', 'written-only', 'floor', 'cas-floor'] as const;
type Variant = (typeof VARIANTS)[number];

const databaseName = `levelsync_locks_${randomBytes(4).toString('hex')}`;
const databaseUrl = withDatabase(args.url, databaseName);
const admin = new pg.Client({ connectionString: args.url });
await admin.connect();
await admin.query(`CREATE DATABASE "${databaseName}"`);
const client = new pg.Client({ connectionString: databaseUrl });
const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
try {
  await client.connect();
  const facts = await generateDataset(client, users, 0.42, { layout: layoutOf(dataset.layout), drift: dataset.drift });
  log(`generated ${name} at ${users} users: ${facts.levelMismatch} level mismatches`);
  const store = createPgSyncStore(pool, { mapping: ORIGINAL_SYSTEM_MAPPING });
  const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(pool, { mapping: ORIGINAL_SYSTEM_MAPPING })] });
  const scan = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
  const plan = createPlan(scan, { policy: BENCH_POLICY })._unsafeUnwrap();
  const writes = plan.actions.filter(isWriteAction) as WriteAction[];
  const repairs: Repair[] = await readRepairs(client);
  const aliases = new Map(Object.entries(plan.aliases));
  const base = buildApplyStatement(mappingNames(ORIGINAL_SYSTEM_MAPPING));
  log(`${writes.length} write actions, ${repairs.length} floor repairs; chunks of ${chunk}`);
  // Check the variants are well-formed before timing anything.
  for (const v of ['for-share', 'for-key-share', 'written-only']) variant(base, v);

  interface Run { seconds: number; cpuSeconds: number | null; applied: number; walRecords: number; walFpi: number; walBytes: number }
  // The server process's own CPU time (user + system, /proc/<pid>/stat, Linux and a local server
  // only): on a machine shared with other work, wall time is noisy, CPU time much less so.
  const backendPid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  const backendCpu = (): number | null => {
    try {
      const fields = readFileSync(`/proc/${backendPid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return null;
    }
  };
  const runs = new Map<Variant, Run[]>(VARIANTS.map((v) => [v, []]));

  const statementsOf = (v: Variant): { sql: string; values: unknown[]; size: number }[] => {
    const out: { sql: string; values: unknown[]; size: number }[] = [];
    if (v === 'floor' || v === 'cas-floor') {
      for (let i = 0; i < repairs.length; i += FLOOR_CHUNK) {
        const part = repairs.slice(i, i + FLOOR_CHUNK);
        out.push(v === 'floor' ? { sql: FLOOR_APPLY_SQL, values: floorValues(part, new Date()), size: part.length } : { sql: FLOOR_CAS_APPLY_SQL, values: floorCasValues(part, new Date()), size: part.length });
      }
      return out;
    }
    const sql = variant(base, v);
    for (let i = 0; i < writes.length; i += chunk) {
      const part = writes.slice(i, i + chunk);
      out.push({ sql, values: applyValues(part, { actor: null, now: new Date(), aliases }, mappingNames(ORIGINAL_SYSTEM_MAPPING)), size: part.length });
    }
    return out;
  };

  const explainWal = async (sql: string, values: unknown[]) => {
    const r = await client.query(`EXPLAIN (ANALYZE, WAL, TIMING OFF, SUMMARY OFF, FORMAT JSON) ${sql}`, values);
    const top = (r.rows[0]['QUERY PLAN'] as { Plan: Record<string, number> }[])[0]!.Plan;
    return { records: top['WAL Records'] ?? 0, fpi: top['WAL FPI'] ?? 0, bytes: top['WAL Bytes'] ?? 0, rows: top['Actual Rows'] ?? 0 };
  };

  for (let rep = 0; rep < reps; rep++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + rep) % VARIANTS.length]!);
    for (const v of order) {
      // Time: plain statements (autocommit, each atomic on its own).
      await resetDrift(client);
      const statements = statementsOf(v);
      const cpuBefore = backendCpu();
      const started = process.hrtime.bigint();
      let applied = 0;
      for (const s of statements) applied += (await client.query(s.sql, s.values)).rowCount ?? 0;
      const seconds = secondsSince(started);
      const cpuAfter = backendCpu();
      const cpuSeconds = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
      // WAL: the same statements under EXPLAIN (ANALYZE, WAL) from the same state.
      await resetDrift(client);
      let walRecords = 0;
      let walFpi = 0;
      let walBytes = 0;
      for (const s of statementsOf(v)) {
        const w = await explainWal(s.sql, s.values);
        walRecords += w.records;
        walFpi += w.fpi;
        walBytes += w.bytes;
      }
      runs.get(v)!.push({ seconds, cpuSeconds, applied, walRecords, walFpi, walBytes });
      log(`${v}: ${seconds.toFixed(3)} s (server CPU ${cpuSeconds?.toFixed(2) ?? '?'} s), ${applied} rows returned, WAL ${walRecords} records, ${walFpi} FPI, ${(walBytes / 1048576).toFixed(1)} MiB`);
    }
  }
  const summary = VARIANTS.map((v) => {
    const list = runs.get(v)!;
    const seconds = median(list.map((r) => r.seconds));
    const cpu = list.every((r) => r.cpuSeconds !== null) ? median(list.map((r) => r.cpuSeconds!)) : null;
    return {
      variant: v,
      median_s: round(seconds, 3),
      median_server_cpu_s: cpu === null ? null : round(cpu, 2),
      server_cpu_s: list.map((r) => (r.cpuSeconds === null ? null : round(r.cpuSeconds, 2))),
      rows_per_s: Math.round(repairs.length / seconds),
      s: list.map((r) => round(r.seconds, 3)),
      wal_records: list[0]!.walRecords,
      wal_fpi: list[0]!.walFpi,
      wal_mib: round(list[0]!.walBytes / 1048576, 1),
    };
  });
  const floor = summary.find((s) => s.variant === 'floor')!;
  const variants = summary.map((s) => ({
    ...s,
    vs_floor: round(floor.median_s / s.median_s, 3),
    cpu_vs_floor: s.median_server_cpu_s && floor.median_server_cpu_s ? round(floor.median_server_cpu_s / s.median_server_cpu_s, 3) : null,
  }));
  process.stdout.write(`${JSON.stringify({ dataset: name, users, repairs: repairs.length, chunk, reps, variants }, null, 1)}\n`);
} finally {
  await client.end().catch(() => undefined);
  await pool.end().catch(() => undefined);
  if (args.keep) log(`kept ${databaseUrl}`);
  else await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
  await admin.end();
}
