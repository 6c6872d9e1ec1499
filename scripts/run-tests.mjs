#!/usr/bin/env node
// Runs the vitest suite and ends with one plain line: `tests: N passed, N failed, N skipped`,
// read from vitest's JSON report. Exits non-zero when a test failed or when no test ran.
// Extra arguments are passed to vitest (`npm test -- test/domain`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'levelsync-vitest-'));
const report = join(dir, 'report.json');
const vitest = join('node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, NO_COLOR: '1' } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
let readable = false;
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests;
  failed = json.numFailedTests;
  skipped = json.numPendingTests + json.numTodoTests;
  // A file that fails to load has no failed test but a failed suite.
  if (json.numFailedTestSuites > 0 && failed === 0) failed = json.numFailedTestSuites;
  readable = true;
} catch {
  // No report: vitest itself failed before running anything.
}
rmSync(dir, { recursive: true, force: true });

if (!readable) failed = Math.max(failed, 1);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
const ok = readable && run.status === 0 && failed === 0 && passed > 0;
if (readable && passed === 0) console.error('No test passed: a suite that runs no test is a failure.');
process.exit(ok ? 0 : 1);
