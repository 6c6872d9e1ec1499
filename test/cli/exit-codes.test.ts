import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemorySyncStore } from 'levelsync/testing';
import { planFingerprint, readPlanLines, type SyncPlan } from 'levelsync';
import { collectPlan } from '../../src/sync/plan-stream.js';
import { createLevelsyncMapping, createPgSyncStore, migrate, upsertSpecializations } from 'levelsync/pg';
import { EXIT } from '../../src/cli/cli-failure.js';
import { spawnLevelsync, until } from '../reliability/support/cli-spawn.js';
import { printFigures } from '../reliability/support/reliability.js';
import { useTestDatabase } from '../support/postgres-server.js';
import { SERVER_URL, SKIP_SERVER_REASON, runLevelsync, uniqueName } from './cli-process.js';
import { SPECIALIZATIONS, memoryBackend, removeTempDirs, run, sampleStore, tempDir } from './in-process.js';

// The exit-code table of docs/cli.md, one test per row (issue 11). Each test prints one line with
// the exit codes it checked: `[reliability] exit-codes/<row> (short): exit=… expected=…`.

afterAll(removeTempDirs);

const inSync = () =>
  createInMemorySyncStore({
    specializations: SPECIALIZATIONS,
    progress: [{ userId: 1, specializationId: 'LFA_COACH', level: 3 }],
    licenses: [{ userId: 1, specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 }],
  });

describe('exit codes (docs/cli.md), in process', () => {
  it('0: in sync, or done', async () => {
    const open = memoryBackend(inSync()).open;
    const check = (await run(['check'], { openBackend: open })).code;
    const sync = (await run(['sync'], { openBackend: open })).code;
    const store = sampleStore();
    const cwd = tempDir();
    await run(['plan'], { openBackend: memoryBackend(store).open, cwd });
    const apply = (await run(['apply', 'levelsync-plan.jsonl'], { openBackend: memoryBackend(store).open, cwd })).code;
    expect([check, sync, apply]).toEqual([EXIT.ok, EXIT.ok, EXIT.ok]);
    printFigures('exit-codes/0-done', { checkExit: check, syncExit: sync, applyExit: apply, expected: EXIT.ok });
  });

  it('1: work remains (desyncs found; writes to do in a dry run; another run holds the lock)', async () => {
    const store = sampleStore();
    const check = (await run(['check'], { openBackend: memoryBackend(store).open })).code;
    const sync = (await run(['sync'], { openBackend: memoryBackend(store).open })).code;
    const lock = (await store.acquireRunLock({}))._unsafeUnwrap();
    const busy = await run(['sync', '--apply', '--json'], { openBackend: memoryBackend(store).open });
    await lock.release();
    expect([check, sync, busy.code]).toEqual([EXIT.attention, EXIT.attention, EXIT.attention]);
    expect(JSON.parse(busy.stdout)).toMatchObject({ error: { kind: 'busy' }, exitCode: 1 });
    printFigures('exit-codes/1-work-remains', { checkExit: check, dryRunExit: sync, busyExit: busy.code, expected: EXIT.attention });
  });

  it('0 in both: only actions flagged for review remain, in sync and in sync --apply alike', async () => {
    const flagsOnly = () =>
      createInMemorySyncStore({
        specializations: SPECIALIZATIONS,
        progress: [{ userId: 1, specializationId: 'INTERNSHIP', level: 5 }],
        licenses: [{ userId: 1, specializationId: 'INTERNSHIP', level: 5, maxAchievedLevel: 5 }],
      });
    const dry = await run(['sync', '--json'], { openBackend: memoryBackend(flagsOnly()).open });
    const wet = await run(['sync', '--apply', '--json'], { openBackend: memoryBackend(flagsOnly()).open });
    expect(JSON.parse(dry.stdout).plan.summary.actions).toMatchObject({ FlagForReview: 1, total: 1 });
    expect([dry.code, wet.code]).toEqual([EXIT.ok, EXIT.ok]);
    printFigures('exit-codes/0-flags-only', { syncExit: dry.code, syncApplyExit: wet.code, expected: EXIT.ok });
  });

  it('2: bad usage or configuration (a bad flag, a bad plan file), nothing written', async () => {
    const store = sampleStore();
    const before = store.snapshot();
    const badFlag = (await run(['check', '--no-such-flag'], { openBackend: memoryBackend(store).open })).code;
    const badValue = (await run(['sync', '--lock-timeout', 'soon'], { openBackend: memoryBackend(store).open })).code;
    const cwd = tempDir();
    writeFileSync(join(cwd, 'bad.jsonl'), '{"formatVersion": 2}');
    const badPlan = (await run(['apply', 'bad.jsonl'], { openBackend: memoryBackend(store).open, cwd })).code;
    expect([badFlag, badValue, badPlan]).toEqual([EXIT.usage, EXIT.usage, EXIT.usage]);
    expect(store.snapshot()).toEqual(before);
    printFigures('exit-codes/2-usage', { badFlagExit: badFlag, badValueExit: badValue, badPlanExit: badPlan, expected: EXIT.usage });
  });

  it('2: a plan file whose user ids the store does not take ("02" on an integer store), refused before any write', async () => {
    const store = sampleStore();
    const before = store.snapshot();
    const cwd = tempDir();
    expect((await run(['plan', '--out', 'p.jsonl'], { openBackend: memoryBackend(store).open, cwd })).code).toBe(0);
    const lines = readFileSync(join(cwd, 'p.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
    const plan = (await collectPlan((await readPlanLines(() => lines))._unsafeUnwrap()))._unsafeUnwrap();
    // A hand-written (or another service's) plan: every user id spelled with a leading zero, re-fingerprinted.
    const { fingerprint: _old, ...rest } = plan;
    const edited = { ...rest, actions: plan.actions.map((a) => ({ ...a, userId: `0${String(a.userId)}` })) } as unknown as Omit<SyncPlan, 'fingerprint'>;
    expect(edited.actions.length).toBeGreaterThan(1);
    writeFileSync(join(cwd, 'edited.json'), JSON.stringify({ ...edited, fingerprint: planFingerprint(edited) }));
    const r = await run(['apply', 'edited.json'], { openBackend: memoryBackend(store).open, cwd });
    expect(r.code, r.stderr).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/actions\[0\]\.userId/);
    expect(store.snapshot()).toEqual(before);
    // The same as JSON Lines: refused in the first read, naming the line.
    const linesFile = lines.map((l) => l.replace(/"userId":(\d+)/, '"userId":"0$1"')).join('\n');
    writeFileSync(join(cwd, 'edited.jsonl'), `${linesFile}\n`);
    const rl = await run(['apply', 'edited.jsonl'], { openBackend: memoryBackend(store).open, cwd });
    expect(rl.code, rl.stderr).toBe(EXIT.usage);
    expect(store.snapshot()).toEqual(before);
    printFigures('exit-codes/2-user-id-type', { documentExit: r.code, linesExit: rl.code, expected: EXIT.usage, actions: edited.actions.length });
  });

  it('70: an internal error (a bug), distinct from "work remains"', async () => {
    const r = await run(['check', '--json'], {
      openBackend: async () => {
        throw new TypeError('a bug');
      },
    });
    expect(r.code).toBe(EXIT.internal);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { kind: 'internal' }, exitCode: 70 });
    printFigures('exit-codes/70-internal', { exit: r.code, expected: EXIT.internal });
  });
});

describe.skipIf(SERVER_URL === undefined)('exit codes (docs/cli.md), real processes on PostgreSQL', () => {
  if (SERVER_URL === undefined) console.info(SKIP_SERVER_REASON);
  // A database of this file's own, so that waiting for "a lock not granted" sees only this file's runs.
  const database = useTestDatabase('exit_codes');
  const schema = uniqueName('exit_codes');
  const conn = () => ['--database-url', database().url, '--schema', schema];

  beforeAll(async () => {
    const pool = database().pool;
    const mapping = createLevelsyncMapping({ schema })._unsafeUnwrap();
    (await migrate(pool, { schema }))._unsafeUnwrap();
    (await upsertSpecializations(pool, [{ id: 'LFA_COACH', maxLevel: 8 }], { mapping }))._unsafeUnwrap();
    // Enough desyncs that `check` writes far more than a pipe holds.
    await pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 4 FROM generate_series(1, 3000) u`);
    await pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 3, 3 FROM generate_series(1, 3000) u`);
  }, 60_000);

  it('2: an unreachable database', async () => {
    const r = await runLevelsync(['check', '--database-url', 'postgres://nobody@127.0.0.1:1/none'], { cwd: tempDir() });
    expect(r.code).toBe(EXIT.usage);
    printFigures('exit-codes/2-unreachable', { exit: r.code, expected: EXIT.usage });
  });

  it('2: tables missing during apply (not "every batch failed", exit 1)', async () => {
    const cwd = tempDir();
    const planned = await runLevelsync(['plan', '--out', 'p.json', ...conn()], { cwd });
    expect(planned.code).toBe(0);
    const r = await runLevelsync(['apply', 'p.json', '--database-url', database().url, '--schema', `${schema}_gone`], { cwd });
    expect(r.code, r.stderr).toBe(EXIT.usage);
    expect(r.stderr).toContain('the tables are not there');
    printFigures('exit-codes/2-missing-tables', { exit: r.code, expected: EXIT.usage });
  });

  it('130 / 143: stopped by SIGINT / SIGTERM, after printing its report (one JSON document)', async () => {
    const pool = database().pool;
    const store = createPgSyncStore(pool, { mapping: createLevelsyncMapping({ schema })._unsafeUnwrap() });
    const cwd = tempDir();
    const figures: Record<string, number> = {};
    for (const [signal, code] of [['SIGINT', EXIT.sigint], ['SIGTERM', EXIT.sigterm]] as const) {
      const other = (await store.acquireRunLock({}))._unsafeUnwrap();
      const child = spawnLevelsync(['sync', '--apply', '--wait-for-lock', '--json', ...conn()], { cwd });
      await until(
        async () =>
          (await pool.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rows
            .length > 0,
        'the run to wait for the lock',
      );
      child.child.kill(signal);
      const done = await child.done;
      await other.release();
      expect(done.code).toBe(code);
      expect(JSON.parse(done.stdout)).toMatchObject({ command: 'sync', interrupted: true, exitCode: code });
      figures[`${signal}Exit`] = done.code;
      figures[`${signal}Expected`] = code;
    }
    printFigures('exit-codes/130-143-signals', figures);
  });

  it('EPIPE: `levelsync check | head -1` ends quietly (no stack trace), with check\'s own code', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const tsx = pathToFileURL(`${root}node_modules/tsx/dist/loader.mjs`).href;
    const command = `"${process.execPath}" --import "${tsx}" "${root}src/cli/main.ts" check --limit 100000 ${conn().join(' ')} | head -1; echo "status \${PIPESTATUS[0]}" >&2`;
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve) =>
      exec(command, { shell: '/bin/bash', cwd: tempDir() }, (_error, out, err) => resolve({ stdout: out, stderr: err })),
    );
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
    const status = Number(/status (\d+)/.exec(stderr)?.[1]);
    expect(status).toBe(EXIT.attention);
    printFigures('exit-codes/epipe', { exit: status, expected: EXIT.attention, linesRead: stdout.trim().split('\n').length });
  });
});
