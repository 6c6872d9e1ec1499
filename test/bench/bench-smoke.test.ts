import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWithServer, TEST_DATABASE_URL } from '../support/postgres-server.js';

// `npm run bench` must keep working: the whole benchmark on a tiny data set (2 000 users), on
// the sources, against the test server. It checks what the run reports and that every contender
// did the same work — never a timing (those belong to the benchmark itself, see docs/benchmarks.md).

const root = fileURLToPath(new URL('../..', import.meta.url));

const REQUIRED = [
  'dataset', 'pairs', 'repairs', 'naive_rows_per_s', 'apply_rows_per_s', 'floor_apply_rows_per_s', 'apply_speedup_vs_naive',
  'apply_vs_floor', 'detect_s', 'floor_detect_s', 'detect_vs_floor', 'apply_statements', 'statement_bound', 'peak_rss_mib',
  'core_diff_scaling', 'cold_resolves_repository_calls',
] as const;

describeWithServer('npm run bench (smoke, 2 000 users)', () => {
  it('prints one JSON object with every figure, the contenders agreeing on the work', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--users', '2000', '--reps', '1', '--naive-sample', '100', '--json', '--url', TEST_DATABASE_URL!],
      { cwd: root, encoding: 'utf8', env: { ...process.env, TSX_TSCONFIG_PATH: `${root}tsconfig.json` }, timeout: 170_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as Record<string, unknown> & { details: { consistency: unknown; database?: string }; targets: { metric: string }[] };
    for (const key of REQUIRED) expect(result, key).toHaveProperty(key);
    for (const key of REQUIRED.slice(1)) expect(Number.isFinite(result[key]), key).toBe(true);
    expect(result['dataset']).toBe('M');
    expect(result['pairs']).toBe(10_000);
    expect(result['repairs']).toBeGreaterThan(0);
    expect(result.details.consistency).toBe('ok');
    expect(result['apply_statements'] as number).toBeLessThanOrEqual(result['statement_bound'] as number);
    expect(result['cold_resolves_repository_calls']).toBe(1);
    expect(result.targets.map((t) => t.metric)).toContain('explain: no whole-table scan');
    expect(run.stderr).toMatch(/dropped database levelsync_bench_m_/);
    console.log(`[bench smoke] ${String(result['repairs'])} repairs, ${String(result['apply_statements'])} apply statements (bound ${String(result['statement_bound'])}), consistency ok`);
  }, 180_000);
});
