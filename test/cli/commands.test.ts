import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePlan } from 'levelsync';
import { createInMemorySyncStore } from 'levelsync/testing';
import { SPECIALIZATIONS, memoryBackend, removeTempDirs, run, sampleStore, tempDir } from './in-process.js';

afterAll(removeTempDirs);

// The command logic, in-process over the in-memory store: fast, no database. The same commands
// run as processes against PostgreSQL and PGlite in cli-process.test.ts.

function inSyncStore() {
  return createInMemorySyncStore({
    specializations: SPECIALIZATIONS,
    progress: [{ userId: 1, specializationId: 'LFA_COACH', level: 3 }],
    licenses: [{ userId: 1, specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 }],
  });
}

describe('check', () => {
  it('lists every desync that needs work and exits 1', async () => {
    const { open, stats } = memoryBackend(sampleStore());
    const r = await run(['check'], { openBackend: open });
    expect(r.code).toBe(1);
    for (const kind of ['LevelMismatch', 'MissingLicense', 'MissingProgress', 'AboveMaxLevel']) expect(r.stdout).toContain(kind);
    expect(r.stdout).toMatch(/in 5 of 7 pairs need a repair or a review/);
    // Legacy ids: one summary line per stored id with pairs and rows counted apart, no per-record rows.
    expect(r.stdout).toContain('PLAYER → GANCUJU_PLAYER: 1 pair(s) with 1 progress row(s) and 1 license row(s) stored under PLAYER (deprecated after 2026-05-18)');
    expect(r.stdout).not.toContain('LegacySpecializationId');
    expect(stats).toEqual({ opened: 1, closed: 1 });
  });

  it('--list-legacy lists one LegacySpecializationId per record stored under a legacy id', async () => {
    const r = await run(['check', '--json', '--list-legacy'], { openBackend: memoryBackend(sampleStore()).open });
    const doc = JSON.parse(r.stdout);
    expect(doc.counts.LegacySpecializationId).toBe(2);
    expect(doc.desyncs.filter((d: { kind: string }) => d.kind === 'LegacySpecializationId').map((d: { side: string }) => d.side)).toEqual(['progress', 'license']);
    expect(doc).toMatchObject({ inSync: false, pairsNeedingWork: 5, totalPairs: 7 });
  });

  it('exits 0 on a store in sync', async () => {
    const r = await run(['check'], { openBackend: memoryBackend(inSyncStore()).open });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('In sync: no desyncs in 1 pair.');
  });

  it('prints exactly one JSON document with --json, desyncs included', async () => {
    const r = await run(['check', '--json'], { openBackend: memoryBackend(sampleStore()).open });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ command: 'check', inSync: false, pairsNeedingWork: 5, totalPairs: 7, exitCode: 1 });
    expect(doc.counts).toMatchObject({ LevelMismatch: 3, MissingLicense: 1, MissingProgress: 1, AboveMaxLevel: 1, LegacySpecializationId: 0 });
    expect(doc.legacyIds).toEqual([{ storedId: 'PLAYER', canonicalId: 'GANCUJU_PLAYER', progressRows: 1, licenseRows: 1, pairs: 1, deprecatedAfter: '2026-05-18' }]);
    expect(doc.desyncs).toHaveLength(doc.counts.total);
    expect(doc.maxLevels.INTERNSHIP).toEqual({ maxLevel: 3, source: 'repository', repository: 'db' });
  });

  it('filters by specialization (legacy ids name their canonical id), user and shard', async () => {
    const { open } = memoryBackend(sampleStore());
    const bySpec = JSON.parse((await run(['check', '--json', '--specialization', 'lfa_coach'], { openBackend: open })).stdout);
    expect(bySpec.desyncs.map((d: { userId: number }) => d.userId)).toEqual([2, 3]);
    const legacy = JSON.parse((await run(['check', '--json', '--specialization', 'PLAYER'], { openBackend: open })).stdout);
    expect(legacy.scope.specializationIds).toEqual(['GANCUJU_PLAYER']);
    expect(legacy.counts.MissingProgress).toBe(1);
    const byUser = JSON.parse((await run(['check', '--json', '--user', '4,6'], { openBackend: open })).stdout);
    expect([...new Set(byUser.desyncs.map((d: { userId: number }) => d.userId))]).toEqual([4, 6]);
    const shards = await Promise.all(['1/2', '2/2'].map(async (s) => JSON.parse((await run(['check', '--json', '--shard', s], { openBackend: open })).stdout)));
    expect(shards[0].totalPairs + shards[1].totalPairs).toBe(7);
    expect(shards[0].scope.shard).toEqual({ index: 0, count: 2 });
  });

  it('refuses an unknown specialization with exit 2, naming the known ids', async () => {
    const { open, stats } = memoryBackend(sampleStore());
    const r = await run(['check', '--specialization', 'MYSTERY'], { openBackend: open });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown specialization MYSTERY in --specialization: known ids are .*LFA_COACH/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(stats.closed).toBe(1);
  });
});

describe('plan and apply', () => {
  it('writes a plan file that parsePlan accepts and prints the review table', async () => {
    const cwd = tempDir();
    const r = await run(['plan', '--out', 'p.json'], { openBackend: memoryBackend(sampleStore()).open, cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('levelsync plan sha256:');
    expect(r.stdout).toContain('Review it, then apply it: levelsync apply p.json');
    const plan = parsePlan(readFileSync(join(cwd, 'p.json'), 'utf8'))._unsafeUnwrap();
    expect(plan.summary.actions).toMatchObject({ SetLicenseLevel: 1, SetProgressLevel: 1, CreateLicense: 1, CreateProgress: 1, FlagForReview: 1 });
  });

  it('writes nothing and opens nothing when --out points into a missing folder', async () => {
    const cwd = tempDir();
    const { open, stats } = memoryBackend(sampleStore());
    const r = await run(['plan', '--out', 'nope/p.json'], { openBackend: open, cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the folder nope does not exist');
    expect(stats.opened).toBe(0);
  });

  it('--user takes ids beyond 2^53: planned into the file, applied, ids unchanged, never rounded', async () => {
    const cwd = tempDir();
    const big = '9223372036854775807';
    const beyond = '9007199254740993';
    const store = createInMemorySyncStore(
      {
        specializations: SPECIALIZATIONS,
        progress: [
          { userId: 1, specializationId: 'LFA_COACH', level: 3 },
          { userId: beyond, specializationId: 'LFA_COACH', level: 4 },
          { userId: '9007199254740992', specializationId: 'LFA_COACH', level: 5 },
          { userId: big, specializationId: 'LFA_COACH', level: 6 },
        ],
        licenses: [
          { userId: 1, specializationId: 'LFA_COACH', level: 1, maxAchievedLevel: 1 },
          { userId: beyond, specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 },
          { userId: '9007199254740992', specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 },
          { userId: big, specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 },
        ],
      },
      { userIds: 'integer' },
    );
    const { open } = memoryBackend(store);
    const planned = await run(['plan', '--user', `${big},${beyond}`, '--out', 'big.json', '--json'], { openBackend: open, cwd });
    expect(planned.code).toBe(0);
    const file = readFileSync(join(cwd, 'big.json'), 'utf8');
    const plan = parsePlan(file)._unsafeUnwrap();
    expect(plan.scope.userIds).toEqual([big, beyond]);
    expect(plan.actions.map((a) => [a.userId, a.kind])).toEqual([
      [beyond, 'SetLicenseLevel'],
      [big, 'SetLicenseLevel'],
    ]);
    const applied = await run(['apply', 'big.json'], { openBackend: open, cwd });
    expect(applied.code).toBe(0);
    const levels = Object.fromEntries(store.snapshot().licenses.map((l) => [String(l.userId), l.level]));
    expect(levels).toEqual({ '1': 1, [beyond]: 4, '9007199254740992': 2, [big]: 6 });
    const bad = await run(['check', '--user', '9223372036854775808'], { openBackend: open, cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/userIds\[0\].*64-bit/);
  });

  it('applies a plan (exit 0, flagged actions left), then re-applying it is all already applied (exit 0, nothing written)', async () => {
    const cwd = tempDir();
    const store = sampleStore();
    const { open } = memoryBackend(store);
    await run(['plan'], { openBackend: open, cwd });
    const first = await run(['apply', 'levelsync-plan.jsonl'], { openBackend: open, cwd });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/applied 4 · stale 0 · failed 0 · flagged for review 1/);
    expect(first.stdout).toContain('license level 5 is above the maximum 3');
    expect(store.snapshot().licenses.find((l) => l.userId === 2)?.level).toBe(4);
    expect(store.snapshot().progress.find((p) => p.userId === 3)?.level).toBe(3);
    const again = await run(['apply', 'levelsync-plan.jsonl', '--json'], { openBackend: open, cwd });
    expect(again.code).toBe(0);
    const doc = JSON.parse(again.stdout);
    expect(doc.report.counts).toMatchObject({ Applied: 0, AlreadyApplied: 4, Stale: 0, Flagged: 1 });
    const human = await run(['apply', 'levelsync-plan.jsonl'], { openBackend: open, cwd });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('This plan was already applied: nothing to write.');
    expect(store.snapshot().progressions).toHaveLength(2); // one per license level change, never twice
  });

  it('refuses an edited plan with exit 2 and applies nothing', async () => {
    const cwd = tempDir();
    const store = sampleStore();
    const { open, stats } = memoryBackend(store);
    await run(['plan'], { openBackend: open, cwd });
    const file = join(cwd, 'levelsync-plan.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"level":4', '"level":5'));
    const before = store.snapshot();
    const r = await run(['apply', 'levelsync-plan.jsonl'], { openBackend: open, cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('was refused: The plan does not match its fingerprint');
    expect(store.snapshot()).toEqual(before);
    expect(stats.opened).toBe(1); // only the plan run
  });

  it('refuses a malformed or missing plan file with exit 2', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'bad.json'), '{"formatVersion": 1, "actions": [}');
    const { open } = memoryBackend(sampleStore());
    const malformed = await run(['apply', 'bad.json'], { openBackend: open, cwd });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/plan file bad.json was refused: Invalid plan: \(root\): is not valid JSON/);
    writeFileSync(join(cwd, 'shape.json'), JSON.stringify({ formatVersion: 1, actions: 'nope' }));
    const shape = await run(['apply', 'shape.json', '--json'], { openBackend: open, cwd });
    expect(shape.code).toBe(2);
    expect(JSON.parse(shape.stdout).error.kind).toBe('usage');
    const missing = await run(['apply', 'none.json'], { openBackend: open, cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('plan file none.json does not exist');
  });

  it('reports another run holding the lock as exit 1', async () => {
    const cwd = tempDir();
    const store = sampleStore();
    const { open } = memoryBackend(store);
    await run(['plan'], { openBackend: open, cwd });
    const lock = (await store.acquireRunLock({}))._unsafeUnwrap();
    const r = await run(['apply', 'levelsync-plan.jsonl'], { openBackend: open, cwd });
    await lock.release();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Another levelsync run holds the lock for all.*--wait-for-lock/);
  });
});

describe('sync', () => {
  it('is a dry run without --apply: exit 1, nothing written', async () => {
    const store = sampleStore();
    const before = store.snapshot();
    const r = await run(['sync'], { openBackend: memoryBackend(store).open });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('DRY RUN: nothing was written. 4 write action(s) would run in 1 batch(es); 1 flagged for review.');
    expect(store.snapshot()).toEqual(before);
  });

  it('writes with --apply and the chosen policy', async () => {
    const store = sampleStore();
    const r = await run(['sync', '--apply', '--direction', 'progress-to-license', '--allow-demotion', '--above-max', 'clamp', '--json'], { openBackend: memoryBackend(store).open });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ command: 'sync', dryRun: false, exitCode: 0 });
    expect(doc.plan.policy).toMatchObject({ direction: 'progress-to-license', allowDemotion: true, aboveMax: 'clamp' });
    expect(store.snapshot().licenses.find((l) => l.userId === 3)?.level).toBe(2); // demoted, as asked
    expect(store.snapshot().licenses.find((l) => l.userId === 6)?.level).toBe(3); // clamped
  });

  it('exits 0 when there is nothing to do', async () => {
    expect((await run(['sync'], { openBackend: memoryBackend(inSyncStore()).open })).code).toBe(0);
  });
});

describe('health', () => {
  it('exits 1 unless healthy, counting orphans on both sides', async () => {
    const r = await run(['health', '--json'], { openBackend: memoryBackend(sampleStore()).open });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ status: 'critical', totalPairs: 7, inconsistentPairs: 5, orphans: { progressOnly: 1, licenseOnly: 1 } });
    const human = await run(['health'], { openBackend: memoryBackend(sampleStore()).open });
    expect(human.stdout).toMatch(/Health: critical: 28\.57 % of 7 pairs consistent/);
    expect((await run(['health'], { openBackend: memoryBackend(inSyncStore()).open })).code).toBe(0);
  });
});

describe('max-level', () => {
  it('gives the value, its source and the alias used', async () => {
    const { open } = memoryBackend(sampleStore());
    const r = await run(['max-level', 'player'], { openBackend: open });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('GANCUJU_PLAYER: maximum level 8');
    expect(r.stdout).toContain('source: repository, from the database (repository "db")');
    expect(r.stdout).toMatch(/asked as PLAYER: a legacy alias of GANCUJU_PLAYER, deprecated (after|since) 2026-05-18/);
    const doc = JSON.parse((await run(['max-level', 'INTERNSHIP', '--json'], { openBackend: open })).stdout);
    expect(doc).toMatchObject({ specializationId: 'INTERNSHIP', maxLevel: 3, source: 'repository', alias: null, errors: [] });
  });

  it('falls back to the constants when the database does not know the id, and says so', async () => {
    const { open } = memoryBackend(sampleStore(), { LFA_COACH: 8 });
    const doc = JSON.parse((await run(['max-level', 'INTERNSHIP', '--json'], { openBackend: open })).stdout);
    expect(doc).toMatchObject({ maxLevel: 3, source: 'fallback' });
  });

  it('refuses an unknown or invalid id with exit 2', async () => {
    const { open } = memoryBackend(sampleStore());
    const unknown = await run(['max-level', 'MYSTERY'], { openBackend: open });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown specialization 'MYSTERY'");
    const invalid = await run(['max-level', '1abc'], { openBackend: open });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('"1abc" is not a specialization id');
  });
});

describe('migrate', () => {
  it("refuses to touch the original system's tables", async () => {
    const { open, stats } = memoryBackend(sampleStore());
    const r = await run(['migrate', '--mapping', 'original'], { openBackend: open });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("are yours and are never changed");
    expect(stats.opened).toBe(0);
  });

  it('reports the migrations applied', async () => {
    const r = await run(['migrate', '--json'], { openBackend: memoryBackend(sampleStore()).open });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ command: 'migrate', applied: ['0001_initial'] });
  });
});

describe('usage', () => {
  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['chek'], /did you mean check\?/],
    [[], /missing command/],
    [['check', '--bogus'], /unknown option --bogus for `levelsync check`/],
    [['check', '--shard', '5/4'], /--shard "5\/4": expected k\/n/],
    [['check', '--shard', 'two'], /--shard "two"/],
    [['plan', '--direction', 'sideways'], /--direction "sideways": must be one of higher-wins/],
    [['plan', '--missing', 'ignore'], /--missing "ignore": must be create or flag/],
    [['sync', '--batch-size', '0'], /--batch-size "0": must be at least 1/],
    [['check', '--mapping', 'other'], /--mapping "other": must be levelsync or original/],
    [['check', '--schema', 'x;drop'], /--schema "x;drop": must be a PostgreSQL identifier/],
    [['check', '--specialization', 'no spaces'], /--specialization "no spaces"/],
    [['check', '--user', ''], /--user is empty/],
    [['apply'], /needs <plan-file>/],
    [['max-level', 'A', 'B'], /unexpected argument "B"/],
    [['check', '--json=yes'], /--json is a switch/],
    [['check', '--database-url', 'x', '--data-dir', 'y'], /exclude each other/],
  ])('%j is a one-line usage error with exit 2', async (argv, message) => {
    const cwd = tempDir();
    const { open, stats } = memoryBackend(sampleStore());
    const r = await run(argv as string[], { openBackend: open, cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(stats.opened).toBe(0);
    expect(existsSync(join(cwd, 'levelsync-plan.jsonl'))).toBe(false);
  });

  it('prints help for the command and for every subcommand, with the exit codes', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Exit codes:');
    for (const command of ['check', 'plan', 'apply', 'sync', 'health', 'max-level', 'migrate', 'demo']) {
      const r = await run([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: levelsync ${command}`);
      expect(r.stdout).toContain('Exit code');
      expect((await run(['help', command])).stdout).toBe(r.stdout);
    }
  });

  it('colours only a terminal, never with NO_COLOR, and never the JSON', async () => {
    const ansi = /\u001b\[/;
    const open = memoryBackend(sampleStore()).open;
    expect((await run(['health'], { openBackend: open, tty: true })).stdout).toMatch(ansi);
    expect((await run(['health'], { openBackend: open, tty: true, env: { NO_COLOR: '1' } })).stdout).not.toMatch(ansi);
    expect((await run(['health'], { openBackend: open, tty: false })).stdout).not.toMatch(ansi);
    const json = await run(['health', '--json'], { openBackend: open, tty: true });
    expect(json.stdout).not.toMatch(ansi);
    expect(JSON.parse(json.stdout).status).toBe('critical');
  });

  it('shows a progress bar on stderr only when stderr is a terminal', async () => {
    const cwd = tempDir();
    const planStore = sampleStore();
    await run(['plan'], { openBackend: memoryBackend(planStore).open, cwd });
    const onTty = await run(['apply', 'levelsync-plan.jsonl'], { openBackend: memoryBackend(sampleStore()).open, cwd, tty: true });
    expect(onTty.code).toBe(0);
    expect(onTty.stderr).toContain('Applying [');
    const piped = await run(['apply', 'levelsync-plan.jsonl'], { openBackend: memoryBackend(sampleStore()).open, cwd, tty: false });
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
  });

  it('answers --version', async () => {
    expect((await run(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('bounded output and streamed plan files', () => {
  /** n pairs whose license is one level behind: n LevelMismatch desyncs, n SetLicenseLevel actions. */
  function behindStore(n: number) {
    const users = Array.from({ length: n }, (_, i) => i + 1);
    return createInMemorySyncStore({
      specializations: SPECIALIZATIONS,
      progress: users.map((userId) => ({ userId, specializationId: 'LFA_COACH', level: 3 })),
      licenses: users.map((userId) => ({ userId, specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 })),
    });
  }

  it('check shows totals and the first --limit rows; --json holds counts and the first rows; --json --full lists every desync', async () => {
    const { open } = memoryBackend(behindStore(60));
    const human = await run(['check', '--limit', '5'], { openBackend: open });
    expect(human.code).toBe(1);
    expect(human.stdout.split('\n').filter((l) => l.includes('LevelMismatch') && l.includes('LFA_COACH'))).toHaveLength(5);
    expect(human.stdout).toContain('… and 55 more (--limit <n> shows more, --json --full lists all)');
    expect(human.stdout).toMatch(/60 desyncs in 60 of 60 pairs need a repair or a review: LevelMismatch 60/);

    const json = JSON.parse((await run(['check', '--json'], { openBackend: open })).stdout);
    expect(json).toMatchObject({ command: 'check', pairsNeedingWork: 60, totalPairs: 60, counts: { LevelMismatch: 60, total: 60 }, desyncsOmitted: 40, exitCode: 1 });
    expect(json.desyncs).toHaveLength(20); // the default --limit
    expect(JSON.parse((await run(['check', '--json', '--limit', '3'], { openBackend: open })).stdout).desyncs).toHaveLength(3);

    const full = await run(['check', '--json', '--full'], { openBackend: open });
    expect(full.code).toBe(1);
    const doc = JSON.parse(full.stdout); // one document, streamed out
    expect(doc.desyncs).toHaveLength(60);
    expect(doc.desyncs.map((d: { userId: number }) => d.userId)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(doc).toMatchObject({ command: 'check', scope: {}, pairsNeedingWork: 60, counts: { total: 60 }, exitCode: 1 });
    expect(doc.desyncsOmitted).toBeUndefined();
  });

  it('plan prints the first --limit actions and the totals, and writes every action as one line of the plan file', async () => {
    const cwd = tempDir();
    const { open } = memoryBackend(behindStore(45));
    const r = await run(['plan', '--limit', '4'], { openBackend: open, cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('… and 41 more action(s)');
    expect(r.stdout).toContain('summary: 45 action(s) for 45 pair(s): SetLicenseLevel 45');
    const lines = readFileSync(join(cwd, 'levelsync-plan.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(47);
    expect(JSON.parse(lines[0]!).type).toBe('header');
    expect(JSON.parse(lines[46]!).type).toBe('trailer');
    const json = JSON.parse((await run(['plan', '--json', '--out', 'p2.jsonl'], { openBackend: open, cwd })).stdout);
    expect(json).toMatchObject({ command: 'plan', file: 'p2.jsonl', summary: { actions: { total: 45 } } });
    expect(json.actions).toBeUndefined();
  });

  it('apply refuses a truncated plan file and a version-1 plan with exit 2 and writes nothing', async () => {
    const cwd = tempDir();
    const store = behindStore(10);
    const { open } = memoryBackend(store);
    await run(['plan'], { openBackend: open, cwd });
    const text = readFileSync(join(cwd, 'levelsync-plan.jsonl'), 'utf8');
    writeFileSync(join(cwd, 'cut.jsonl'), text.trimEnd().split('\n').slice(0, -1).join('\n') + '\n');
    const before = store.snapshot();
    const cut = await run(['apply', 'cut.jsonl'], { openBackend: open, cwd });
    expect(cut.code).toBe(2);
    expect(cut.stderr).toContain('plan file cut.jsonl was refused: Invalid plan file: line 12: the trailer line is missing: the file is truncated');
    const plan = parsePlan(text)._unsafeUnwrap();
    writeFileSync(join(cwd, 'old.json'), JSON.stringify({ ...plan, formatVersion: 1 }, null, 2));
    const old = await run(['apply', 'old.json'], { openBackend: open, cwd });
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(/plan file old.json was refused: Unsupported plan format version 1: .*make a new plan \(`levelsync plan --out <file>`/);
    expect(store.snapshot()).toEqual(before);
  });

  it('apply lists at most --limit notable actions; sync --apply streams and re-running it writes nothing', async () => {
    const cwd = tempDir();
    const store = behindStore(30);
    const { open } = memoryBackend(store);
    const synced = await run(['sync', '--apply', '--batch-size', '7'], { openBackend: open, cwd });
    expect(synced.code).toBe(0);
    expect(synced.stdout).toMatch(/applied 30 · stale 0 · failed 0/);
    expect(store.snapshot().progressions).toHaveLength(30);
    const again = await run(['sync', '--apply'], { openBackend: open, cwd });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to do');
    expect(store.snapshot().progressions).toHaveLength(30);

    const second = behindStore(30);
    const backend = memoryBackend(second);
    await run(['plan'], { openBackend: backend.open, cwd });
    // Every license moves on after the plan (2 → 4): every action is stale.
    for (let userId = 1; userId <= 30; userId++) second.setLevel('license', userId, 'LFA_COACH', 4);
    const reapplied = await run(['apply', 'levelsync-plan.jsonl', '--limit', '2'], { openBackend: backend.open, cwd });
    expect(reapplied.code).toBe(1);
    expect(reapplied.stdout).toContain('… and 28 more (--limit <n> shows more)');
    const doc = JSON.parse((await run(['apply', 'levelsync-plan.jsonl', '--json'], { openBackend: backend.open, cwd })).stdout);
    expect(doc.report.counts).toMatchObject({ Applied: 0, Stale: 30 });
    expect(doc.report.actions).toHaveLength(30);
    expect(doc.report.actionsOmitted).toBe(0);
    expect(second.snapshot().progressions).toHaveLength(0);
  });
});
