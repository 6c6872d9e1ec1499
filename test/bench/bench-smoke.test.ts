import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWithServer, TEST_DATABASE_URL } from '../support/postgres-server.js';

// `npm run bench` must keep working: the whole benchmark on tiny data sets, on the sources (the
// CLI contender too: LEVELSYNC_BENCH_CLI=sources), against the test server. It checks what the run
// reports and that every contender did the same work — never a timing (those belong to the
// benchmark itself, see docs/benchmarks.md).

const root = fileURLToPath(new URL('../..', import.meta.url));

const REQUIRED = [
  'dataset', 'pairs', 'repairs', 'naive_rows_per_s', 'apply_rows_per_s', 'floor_apply_rows_per_s', 'apply_speedup_vs_naive',
  'apply_vs_floor', 'detect_s', 'floor_detect_s', 'detect_vs_floor', 'apply_statements', 'statement_bound', 'peak_rss_mib',
  'core_diff_scaling', 'cold_resolves_repository_calls',
  // Issue 10: the CLI as users run it, against the floor's detection + apply; memory per command.
  'sync_apply_total_s', 'floor_total_s', 'sync_vs_floor_total', 'peak_rss_mib_check', 'peak_rss_mib_plan', 'peak_rss_mib_sync', 'peak_rss_mib_apply',
  'check_json_bytes', 'plan_file_bytes', 'reapply_history_rows',
] as const;

type BenchResult = Record<string, unknown> & {
  details: { consistency: unknown; database?: string; cli: Record<string, unknown> };
  targets: { metric: string; pass: boolean }[];
};

function runBench(args: readonly string[]): { result: BenchResult; stderr: string } {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/run.ts', '--reps', '1', '--naive-sample', '100', '--json', '--url', TEST_DATABASE_URL!, ...args],
    { cwd: root, encoding: 'utf8', env: { ...process.env, TSX_TSCONFIG_PATH: `${root}tsconfig.json`, LEVELSYNC_BENCH_CLI: 'sources' }, timeout: 420_000 },
  );
  expect(run.status, run.stderr).toBe(0);
  const lines = run.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const result = JSON.parse(lines[0]!) as BenchResult;
  for (const key of REQUIRED) expect(result, key).toHaveProperty(key);
  for (const key of REQUIRED.slice(1)) expect(Number.isFinite(result[key]), key).toBe(true);
  expect(result.details.consistency, run.stderr.slice(-2_000)).toBe('ok');
  expect(result['apply_statements'] as number).toBeLessThanOrEqual(result['statement_bound'] as number);
  expect(result['cold_resolves_repository_calls']).toBe(1);
  expect(result.targets.map((t) => t.metric)).toContain('explain: no whole-table scan');
  // The CLI wrote every repair (sync --apply, then apply of the plan file), the re-apply nothing.
  expect(result.details.cli['sync_history_rows']).toEqual([result['repairs']]);
  expect(result.details.cli['apply_history_rows']).toBe(result['repairs']);
  expect(result['reapply_history_rows']).toBe(0);
  expect(result.details.cli['reapply_touched_rows']).toBe(false);
  return { result, stderr: run.stderr };
}

describeWithServer('npm run bench (smoke, tiny data sets)', () => {
  it('M at 2 000 users: one JSON object with every figure, the contenders agreeing on the work', () => {
    const { result, stderr } = runBench(['--users', '2000']);
    expect(result['dataset']).toBe('M');
    expect(result['pairs']).toBe(10_000);
    expect(result['repairs']).toBeGreaterThan(0);
    expect(stderr).toMatch(/dropped database levelsync_bench_m_/);
    console.log(`[bench smoke] M: ${String(result['repairs'])} repairs, ${String(result['apply_statements'])} apply statements (bound ${String(result['statement_bound'])}), consistency ok`);
  }, 430_000);

  it('legacy at 2 000 users: every row under PLAYER / COACH / INTERNSHIP, one legacy summary per stored id with the SQL counts', () => {
    const { result, stderr } = runBench(['--dataset', 'legacy', '--users', '2000']);
    expect(result['dataset']).toBe('legacy');
    expect(result['pairs']).toBe(6_000);
    const expected = result.details.cli['legacy_expected'] as { storedId: string; pairs: number }[];
    expect(expected.map((e) => e.storedId).sort()).toEqual(['COACH', 'PLAYER']);
    expect(expected.every((e) => e.pairs > 1_900)).toBe(true);
    expect(result.details.cli['legacy_summary_problems']).toEqual([]);
    const legacyTarget = result.targets.find((t) => t.metric.startsWith('legacy ids'));
    expect(legacyTarget?.pass).toBe(true);
    expect(stderr).toMatch(/dropped database levelsync_bench_legacy_/);
  }, 430_000);

  it('drift-1m at 1 000 users: two thirds drifting; plan --out, apply of the file and a re-apply that writes nothing', () => {
    const { result } = runBench(['--dataset', 'drift-1m', '--users', '1000']);
    expect(result['dataset']).toBe('drift-1m');
    expect(result['repairs'] as number).toBeGreaterThan(2_500);
    for (const metric of ['plan --out succeeds', 'apply <plan file> succeeds', 're-apply writes nothing']) {
      expect(result.targets.find((t) => t.metric === metric)?.pass, metric).toBe(true);
    }
  }, 430_000);
});
