#!/usr/bin/env node
// Checks that the built core (ESM and CJS) loads where only its own dependencies are installed:
// no pg, no PGlite. Copies dist/ into a temporary package whose node_modules holds zod and
// neverthrow only, then imports and requires it.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'levelsync-core-'));
try {
  const pkg = join(dir, 'node_modules', 'levelsync');
  mkdirSync(pkg, { recursive: true });
  cpSync('dist', join(pkg, 'dist'), { recursive: true });
  cpSync('package.json', join(pkg, 'package.json'));
  for (const dep of ['zod', 'neverthrow']) cpSync(join('node_modules', dep), join(dir, 'node_modules', dep), { recursive: true });
  writeFileSync(
    join(dir, 'check.mjs'),
    `import * as core from 'levelsync';
import { createRequire } from 'node:module';
const cjs = createRequire(import.meta.url)('levelsync');
if (typeof core.createPlan !== 'function' || typeof cjs.createPlan !== 'function') throw new Error('core exports missing');
let pgMissing = false;
try { await import('pg'); } catch { pgMissing = true; }
if (!pgMissing) throw new Error('pg should not be installed in this check');
console.log('core loads without pg (ESM and CJS): ' + Object.keys(core).length + ' exports');
`,
  );
  execFileSync(process.execPath, ['check.mjs'], { cwd: dir, stdio: 'inherit' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
