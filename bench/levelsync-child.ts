// Contender 1, levelsync, in its own process (its peak RSS is its own):
// scanDesyncs (end to end: statement, cursor, rows shipped and parsed, pairs assembled, diff)
// → createPlan → applyPlan with the defaults, on the original tables through
// ORIGINAL_SYSTEM_MAPPING, statements counted by a counting pool.
//
//   tsx bench/levelsync-child.ts --url <database url> [--detect-only] [--dump-actions file] [--batch-size n] [--chunk-size n]
//
// Prints one JSON object on stdout.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { applyPlan, createMaxLevelResolver, createPlan, isWriteAction, scanDesyncs } from 'levelsync';
import { createPgMaxLevelRepository, createPgSyncStore, ORIGINAL_SYSTEM_MAPPING } from 'levelsync/pg';
import { BENCH_POLICY, countingPool, peakRssMiB, secondsSince, spread } from './support.js';

export interface LevelsyncRun {
  readonly detectSeconds: number;
  readonly planSeconds: number;
  readonly applySeconds: number;
  readonly pairsRead: number;
  readonly desyncs: number;
  readonly actions: Record<string, number>;
  readonly writes: number;
  readonly applied: number;
  readonly stale: number;
  readonly failed: number;
  readonly batches: number;
  readonly batchSize: number;
  readonly chunkSize: number;
  readonly applyStatements: number;
  readonly applyStatementKinds: Record<string, number>;
  readonly scanStatements: number;
  readonly peakRssMiB: number;
  /** Peak RSS so far after each phase: where the peak happens. */
  readonly peakRssAfterMiB: { readonly scan: number; readonly plan: number; readonly apply: number };
  readonly heapUsedMiB: number;
}

/** What `--detect-only` prints: the scan alone. */
export interface LevelsyncDetection {
  readonly detectSeconds: number;
  readonly pairsRead: number;
  readonly desyncs: number;
  readonly scanStatements: number;
  readonly peakRssMiB: number;
}

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    'dump-actions': { type: 'string' },
    'batch-size': { type: 'string' },
    'chunk-size': { type: 'string' },
    'detect-only': { type: 'boolean' },
  },
});
if (!values.url) throw new Error('--url is required');
const batchSize = values['batch-size'] ? Number(values['batch-size']) : undefined;
const chunkSize = values['chunk-size'] ? Number(values['chunk-size']) : undefined;

const pool = new pg.Pool({ connectionString: values.url, max: 4 });
pool.on('error', () => {});
const counting = countingPool(pool);
try {
  // Open the pool's two sessions (queries, cursor) before the clock starts: the floor's
  // connection is open too. Catalog caches of the new sessions stay cold.
  const sessions = await Promise.all([pool.connect(), pool.connect()]);
  for (const session of sessions) session.release();
  const repository = createPgMaxLevelRepository(counting.connection, { mapping: ORIGINAL_SYSTEM_MAPPING });
  const resolver = createMaxLevelResolver({ repositories: [repository] });
  const store = createPgSyncStore(counting.connection, { mapping: ORIGINAL_SYSTEM_MAPPING, ...(chunkSize ? { chunkSize } : {}) });

  const detectStarted = process.hrtime.bigint();
  const scan = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
  const detectSeconds = secondsSince(detectStarted);
  const scanStatements = counting.statements.length;
  const rssAfterScan = peakRssMiB();
  if (values['detect-only']) {
    const detected: LevelsyncDetection = { detectSeconds, pairsRead: scan.pairsRead, desyncs: scan.desyncs.length, scanStatements, peakRssMiB: rssAfterScan };
    process.stdout.write(`${JSON.stringify(detected)}\n`);
  } else {
    const planStarted = process.hrtime.bigint();
    const plan = createPlan(scan, { policy: BENCH_POLICY })._unsafeUnwrap();
    const planSeconds = secondsSince(planStarted);
    const rssAfterPlan = peakRssMiB();

    if (values['dump-actions']) {
      writeFileSync(values['dump-actions'], JSON.stringify({ aliases: plan.aliases, actions: spread(plan.actions.filter(isWriteAction), 5_000) }));
    }

    counting.reset();
    const applyStarted = process.hrtime.bigint();
    const report = (await applyPlan(plan, store, batchSize ? { batchSize } : {}))._unsafeUnwrap();
    const applySeconds = secondsSince(applyStarted);
    const kinds: Record<string, number> = {};
    for (const s of counting.statements) {
      const word = /^\s*(\w+)/.exec(s.text)?.[1]?.toUpperCase() ?? '?';
      const kind = word === 'SELECT' && /pg_(try_)?advisory/.test(s.text) ? 'SELECT (run lock)' : word === 'WITH' ? 'WITH (apply statement)' : word;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }

    const result: LevelsyncRun = {
      detectSeconds,
      planSeconds,
      applySeconds,
      pairsRead: scan.pairsRead,
      desyncs: scan.desyncs.length,
      actions: { ...plan.summary.actions },
      writes: plan.actions.filter(isWriteAction).length,
      applied: report.counts.Applied,
      stale: report.counts.Stale,
      failed: report.counts.Failed,
      batches: report.batches.length,
      batchSize: batchSize ?? 1_000,
      chunkSize: chunkSize ?? 2_000,
      applyStatements: counting.statements.length,
      applyStatementKinds: kinds,
      scanStatements,
      peakRssMiB: peakRssMiB(),
      peakRssAfterMiB: { scan: rssAfterScan, plan: rssAfterPlan, apply: peakRssMiB() },
      heapUsedMiB: process.memoryUsage().heapUsed / 1048576,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
} finally {
  await pool.end();
}
