import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SECRET, runLevelsync } from './cli-process.js';
import { removeTempDirs, tempDir } from './in-process.js';

afterAll(removeTempDirs);

// Bad input, as a process: every case is one line on stderr, exit 2, an empty stdout (or one JSON
// document with --json), and nothing written: no plan file, no embedded database. None of them
// needs a database, so they run everywhere.

describe('levelsync bad input (as a process)', () => {
  it.each([
    [['frobnicate'], /^levelsync: unknown command "frobnicate": expected one of check, plan, apply, sync, health, max-level, migrate, cleanup-duplicates, demo/],
    [['check', '--frobnicate'], /^levelsync: unknown option --frobnicate for `levelsync check` \(see levelsync check --help\)/],
    [['plan', '--shard', '0/4'], /^levelsync: --shard "0\/4": expected k\/n with 1 ≤ k ≤ n/],
    [['sync', '--apply', '--shard', '3'], /^levelsync: --shard "3": expected k\/n/],
    [['plan', '--specialization', 'lfa coach'], /^levelsync: --specialization "lfa coach": must start with a letter/],
    [['apply', 'garbage.json'], /^levelsync: plan file garbage.json was refused: Invalid plan: \(root\): is not valid JSON/],
    [['apply', 'old.json'], /^levelsync: plan file old.json was refused: Unsupported plan format version 99/],
    [['check', '--database-url', `postgres://app:${SECRET}@db:notaport/school`], /^levelsync: --database-url is not a valid URL: expected a URL like postgres:\/\/user@host:5432\/database \(a password, if any, as user:password@host\)$/m],
    [['health'], /^levelsync: DATABASE_URL has a malformed database name/, { DATABASE_URL: `postgres://app:${SECRET}@db:5432/x y/z` }],
  ] as [string[], RegExp, Record<string, string>?][])('%j', async (args, message, env) => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'garbage.json'), '{"formatVersion": 1, "actions": [');
    writeFileSync(join(cwd, 'old.json'), JSON.stringify({ formatVersion: 99 }));
    const r = await runLevelsync(args, { cwd, ...(env ? { env } : {}) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain(SECRET);
    expect(readdirSync(cwd).sort()).toEqual(['garbage.json', 'old.json']); // no plan, no .levelsync
  });

  it('with --json, a usage error is also one JSON document on stdout', async () => {
    const cwd = tempDir();
    const r = await runLevelsync(['plan', '--json', '--direction', 'downwards'], { cwd });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      command: 'plan',
      error: { kind: 'usage', message: '--direction "downwards": must be one of higher-wins, progress-to-license, license-to-progress' },
      exitCode: 2,
    });
    expect(existsSync(join(cwd, 'levelsync-plan.jsonl'))).toBe(false);
  });

  it('demo never deletes a folder it did not make, such as your embedded database', async () => {
    const cwd = tempDir();
    const mine = join(cwd, '.levelsync', 'data');
    mkdirSync(mine, { recursive: true });
    writeFileSync(join(mine, 'PG_VERSION'), '18\n');
    const r = await runLevelsync(['demo', '--data-dir', '.levelsync/data'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('.levelsync/data exists and was not made by `levelsync demo`: choose another --data-dir');
    expect(readdirSync(mine)).toEqual(['PG_VERSION']);
  });

  it('--help works on the command and on a subcommand, exit 0', async () => {
    const cwd = tempDir();
    const [top, sub] = await Promise.all([runLevelsync(['--help'], { cwd }), runLevelsync(['sync', '--help'], { cwd })]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Exit codes:\n {2}0 {4}in sync \/ done[^\n]*\n(.*\n)* {2}1 {4}work remains: desyncs found/);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('Without --apply this is a DRY RUN');
  });
});
