// EXPLAIN of every apply statement at the chunk sizes the bench uses, on the bench tables:
// levelsync's apply statement (one per batch: 1 000 actions with applyPlan's default batch
// size, up to the store's default chunk of 2 000) and the floor's UPDATE … FROM unnest at
// 5 000. A statement "falls back to scanning a whole table" when its plan has a Seq Scan of
// the progress or license table (what the planner flip above ~5 k keys does: hash the table).
// The compare-and-set floor (bench/floor.ts) is EXPLAINed at 5 000 too.
//
// Inside `npm run bench` it runs on the plan's own actions. Standalone, on a database kept with
// `npm run bench -- --keep`, it plans the repairs itself:
//
//   tsx bench/explain.ts --url postgres://postgres@127.0.0.1:5432/<kept database> [--analyze]
//                        [--sizes 1000,2000] [--floor-sizes 5000]
//
// `--analyze` adds EXPLAIN ANALYZE inside a transaction that is rolled back.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createMaxLevelResolver, createPlan, isWriteAction, scanDesyncs, type WriteAction } from 'levelsync';
import { createPgMaxLevelRepository, createPgSyncStore, ORIGINAL_SYSTEM_MAPPING } from 'levelsync/pg';
// The statement as the store sends it (internal module: the public API only runs it).
import { applyValues, buildApplyStatement } from '../src/pg/apply-statement.js';
import { mappingNames } from '../src/pg/mapping/names.js';
import { FLOOR_APPLY_SQL, FLOOR_CAS_APPLY_SQL, FLOOR_CHUNK, floorCasValues, floorValues, type Repair } from './floor.js';
import { BENCH_POLICY, spread } from './support.js';

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Actual Total Time'?: number;
  readonly Plans?: readonly PlanNode[];
}

/** What EXPLAIN said about one statement. */
export interface ExplainFinding {
  readonly statement: string;
  readonly keys: number;
  /** Node types on the progress and license tables, e.g. `Index Scan on user_licenses (uq…)`. */
  readonly tableNodes: readonly string[];
  /** Every node type of the plan, in plan order, de-duplicated. */
  readonly nodeTypes: readonly string[];
  /** True when no node scans a whole progress or license table. */
  readonly keyedOnly: boolean;
  /** With --analyze: execution time in ms (the writes rolled back). */
  readonly executionMs?: number;
}

const TABLES = new Set(['specialization_progress', 'user_licenses']);

function walk(node: PlanNode, out: PlanNode[] = []): PlanNode[] {
  out.push(node);
  for (const child of node.Plans ?? []) walk(child, out);
  return out;
}

async function explainOne(client: pg.Client, statement: string, sql: string, values: unknown[], keys: number, analyze: boolean): Promise<ExplainFinding> {
  let executionMs: number | undefined;
  let plan: PlanNode;
  if (analyze) {
    await client.query('BEGIN');
    try {
      const result = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, values);
      const top = (result.rows[0]['QUERY PLAN'] as { Plan: PlanNode; 'Execution Time': number }[])[0]!;
      plan = top.Plan;
      executionMs = top['Execution Time'];
    } finally {
      await client.query('ROLLBACK');
    }
  } else {
    const result = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`, values);
    plan = (result.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan;
  }
  const nodes = walk(plan);
  const onTables = nodes.filter((n) => n['Relation Name'] !== undefined && TABLES.has(n['Relation Name']));
  const tableNodes = [...new Set(onTables.map((n) => `${n['Node Type']} on ${n['Relation Name']}${n['Index Name'] ? ` (${n['Index Name']})` : ''}`))];
  return {
    statement,
    keys,
    tableNodes,
    nodeTypes: [...new Set(nodes.map((n) => n['Node Type']))],
    keyedOnly: !onTables.some((n) => n['Node Type'] === 'Seq Scan'),
    ...(executionMs !== undefined ? { executionMs } : {}),
  };
}

/** Repairs of the floor for the same pairs as the given SetLicenseLevel actions. */
function repairsOf(actions: readonly WriteAction[]): Repair[] {
  return actions.flatMap((a) =>
    a.kind === 'SetLicenseLevel' && a.expected.license
      ? [{ userId: Number(a.userId), specializationId: a.expected.license.specializationId, from: a.expected.license.level ?? 0, to: a.write.level, maxAchieved: a.expected.license.maxAchievedLevel ?? 0, reason: a.reason, evidence: a.evidence }]
      : [],
  );
}

/**
 * EXPLAINs levelsync's apply statement for `sizes` actions (taken from `actions`, which should
 * be spread over the key range) and the floor statement at 5 000 keys.
 */
export async function explainApplyStatements(
  client: pg.Client,
  actions: readonly WriteAction[],
  aliases: ReadonlyMap<string, string>,
  options: { readonly sizes?: readonly number[]; readonly floorSizes?: readonly number[]; readonly analyze?: boolean } = {},
): Promise<ExplainFinding[]> {
  const sql = buildApplyStatement(mappingNames(ORIGINAL_SYSTEM_MAPPING));
  const findings: ExplainFinding[] = [];
  for (const size of options.sizes ?? [1_000, 2_000]) {
    const chunk = spread(actions, size);
    const values = applyValues(chunk, { actor: null, now: new Date(), aliases }, mappingNames(ORIGINAL_SYSTEM_MAPPING));
    findings.push(await explainOne(client, 'levelsync apply statement', sql, values, chunk.length, options.analyze ?? false));
  }
  for (const floorSize of options.floorSizes ?? [FLOOR_CHUNK]) {
    const repairs = spread(repairsOf(actions), floorSize);
    findings.push(await explainOne(client, 'floor UPDATE … FROM unnest', FLOOR_APPLY_SQL, floorValues(repairs, new Date()), repairs.length, options.analyze ?? false));
    findings.push(await explainOne(client, 'compare-and-set floor', FLOOR_CAS_APPLY_SQL, floorCasValues(repairs, new Date()), repairs.length, options.analyze ?? false));
  }
  return findings;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { url: { type: 'string' }, analyze: { type: 'boolean' }, sizes: { type: 'string' }, 'floor-sizes': { type: 'string' } } });
  if (!values.url) throw new Error('--url is required (a database kept by `npm run bench -- --keep`)');
  const pool = new pg.Pool({ connectionString: values.url, max: 2 });
  const client = new pg.Client({ connectionString: values.url });
  await client.connect();
  try {
    const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(pool, { mapping: ORIGINAL_SYSTEM_MAPPING })] });
    const store = createPgSyncStore(pool, { mapping: ORIGINAL_SYSTEM_MAPPING });
    const scan = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
    const plan = createPlan(scan, { policy: BENCH_POLICY })._unsafeUnwrap();
    const sizes = values.sizes ? values.sizes.split(',').map(Number) : [1_000, 2_000];
    const floorSizes = values['floor-sizes'] ? values['floor-sizes'].split(',').map(Number) : [FLOOR_CHUNK];
    const writes = spread(plan.actions.filter(isWriteAction), Math.max(...sizes, ...floorSizes));
    const findings = await explainApplyStatements(client, writes, new Map(Object.entries(plan.aliases)), { sizes, floorSizes, analyze: values.analyze ?? false });
    for (const f of findings) {
      console.log(`${f.statement} @ ${f.keys} keys: ${f.keyedOnly ? 'keyed (no Seq Scan of progress/licenses)' : 'SCANS A WHOLE TABLE'}`);
      console.log(`  on tables: ${f.tableNodes.join(', ')}`);
      console.log(`  nodes: ${f.nodeTypes.join(', ')}${f.executionMs !== undefined ? ` — ${f.executionMs.toFixed(1)} ms` : ''}`);
    }
  } finally {
    await client.end();
    await pool.end();
  }
}
