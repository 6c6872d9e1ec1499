// Where `detect_s` goes on data set `legacy` (issue 10): the detection floor, levelsync's diff
// statement and its legacy-id summary statement (which the scan runs beside the diff, on another
// connection), each timed alone and counted server-side, in alternating order, with
// EXPLAIN (ANALYZE, BUFFERS) of the two levelsync statements on stderr.
//
//   npx tsx --tsconfig bench/tsconfig.json bench/legacy-detect-split.ts [--users 200000] [--reps 3] [--jit off]
//
// `--jit off` runs every statement with JIT off, as the scan runs its diff and summary.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pgClient, ORIGINAL_SYSTEM_MAPPING } from 'levelsync/pg';
import { mappingNames } from '../src/pg/mapping/names.js';
import { buildDifferingPairsQuery, buildLegacyIdQuery } from '../src/pg/scan-query.js';
import { introspectTables } from '../src/pg/table-introspection.js';
import { generateDataset, LEGACY_ALIASES, layoutOf } from './dataset.js';
import { floorDetectSql } from './floor.js';
import { DATASETS, DEFAULT_SERVER_URL, log, median, round, secondsSince, withDatabase } from './support.js';

const { values: args } = parseArgs({ options: { url: { type: 'string', default: DEFAULT_SERVER_URL }, users: { type: 'string' }, reps: { type: 'string', default: '3' }, jit: { type: 'string', default: 'on' } } });
const users = args.users ? Number(args.users) : DATASETS.legacy.users;
const databaseName = `levelsync_split_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: args.url });
await admin.connect();
await admin.query(`CREATE DATABASE "${databaseName}"`);
const client = new pg.Client({ connectionString: withDatabase(args.url, databaseName) });
try {
  await client.connect();
  if (args.jit === 'off') await client.query('SET jit = off');
  await generateDataset(client, users, 0.42, { layout: layoutOf('legacy'), drift: DATASETS.legacy.drift });
  const facts = await introspectTables(pgClient(client).run, mappingNames(ORIGINAL_SYSTEM_MAPPING));
  const filter = { aliases: LEGACY_ALIASES };
  const maxLevels = new Map([['GANCUJU_PLAYER', 8], ['LFA_COACH', 8], ['INTERNSHIP', 3], ['LFA_FOOTBALL_PLAYER', 8]]);
  const diff = buildDifferingPairsQuery(mappingNames(ORIGINAL_SYSTEM_MAPPING), facts, filter, maxLevels);
  const summary = buildLegacyIdQuery(mappingNames(ORIGINAL_SYSTEM_MAPPING), facts, filter);
  const statements = {
    floor: { text: floorDetectSql(LEGACY_ALIASES), values: [] as readonly unknown[] },
    diff: { text: `SELECT count(*) AS n FROM (${diff.text}) z`, values: diff.values },
    // The summary returns one row per legacy id: run as it is (a count(*) around it would let the
    // planner drop its aggregates, count(DISTINCT) included).
    summary: { text: summary.text, values: summary.values },
  };
  for (const [name, s] of Object.entries(statements)) {
    if (name === 'floor') continue;
    const plan = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${s.text}`, [...s.values]);
    log(`EXPLAIN ANALYZE ${name}:\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}`);
  }
  const times: Record<string, number[]> = { floor: [], diff: [], summary: [] };
  const names = Object.keys(statements) as (keyof typeof statements)[];
  for (let rep = 0; rep < Number(args.reps); rep++) {
    for (const name of names.map((_, i) => names[(i + rep) % names.length]!)) {
      const started = process.hrtime.bigint();
      const r = await client.query(statements[name].text, [...statements[name].values]);
      times[name]!.push(secondsSince(started));
      log(`${name}: ${secondsSince(started).toFixed(3)} s (${name === 'summary' ? r.rows.length : String(r.rows[0].n)} rows)`);
    }
  }
  const out = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, { median_s: round(median(v), 3), s: v.map((x) => round(x, 3)) }]));
  process.stdout.write(`${JSON.stringify({ users, ...out })}\n`);
} finally {
  await client.end().catch(() => undefined);
  await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
  await admin.end();
}
