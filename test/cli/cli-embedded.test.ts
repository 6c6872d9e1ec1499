import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePlan } from 'levelsync';
import { runLevelsync } from './cli-process.js';
import { removeTempDirs, tempDir } from './in-process.js';

afterAll(removeTempDirs);

// The embedded database (PGlite) needs no server, so these run everywhere. Each process pays
// PGlite's start (5–20 s the first time, about 1 s to reopen a folder), so they are few.

describe('levelsync on the embedded database', () => {
  const cwd = tempDir();

  it('a data command without a database says how to make one (exit 2) and creates nothing', async () => {
    const r = await runLevelsync(['check'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no embedded database in \.levelsync\/data: run `levelsync migrate` to create one, `levelsync demo` to try levelsync/);
    expect(existsSync(join(cwd, '.levelsync'))).toBe(false);
  });

  it('demo creates its own database, repairs it, and prints a summary with what to try next', async () => {
    const r = await runLevelsync(['demo'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Creating an embedded PostgreSQL \(PGlite\) in \.levelsync\/demo; the first start takes 5–20 s…\n {2}ready in/);
    for (const step of ['Step 1/4  check', 'Step 2/4  plan', 'Step 3/4  apply', 'Step 4/4  check again', 'Summary', 'What to try next']) {
      expect(r.stdout).toContain(step);
    }
    for (const kind of ['LevelMismatch', 'MissingLicense', 'MissingProgress', 'DuplicateRecord', 'AboveMaxLevel', 'InvalidLevel', 'UnknownSpecialization']) {
      expect(r.stdout).toContain(kind);
    }
    expect(r.stdout).toMatch(/Protected {2}\d+ licenses advanced by staff, which a progress→license job would have lowered/);
    expect(r.stdout).toMatch(/applied \d+ · stale 0 · failed 0 · flagged for review \d+/);
    expect(r.stdout).toMatch(/Health: healthy, 99\.\d\d % of pairs consistent/);
    expect(r.stdout).toContain('levelsync check --data-dir .levelsync/demo --mapping original');
    const plan = parsePlan(readFileSync(join(cwd, '.levelsync', 'demo-plan.json'), 'utf8'));
    expect(plan.isOk()).toBe(true);
  }, 180_000);

  it('check on the demo database lists only what was left for review (exit 1)', async () => {
    const r = await runLevelsync(['check', '--data-dir', '.levelsync/demo', '--mapping', 'original', '--json'], { cwd });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.counts).toMatchObject({ MissingLicense: 0, MissingProgress: 0, MaxAchievedBelowLevel: 0, DuplicateRecord: 3, AboveMaxLevel: 4, UnknownSpecialization: 2, InvalidLevel: 2 });
    expect(doc.pairsNeedingWork).toBe(11);
    expect(r.stderr).toMatch(/Opening the embedded database in \.levelsync\/demo \(PGlite\)/);
  }, 120_000);
});
