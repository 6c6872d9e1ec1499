import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../../src/sync/apply-options.js';
import { applyPlan, createMaxLevelResolver, createPlan, encodePlanLines, parsePlan, planFingerprint, scanDesyncs, type SyncPlan, type SyncStore } from 'levelsync';
import { createLevelsyncMapping, createPgMaxLevelRepository, createPgSyncStore, migrate, upsertSpecializations } from 'levelsync/pg';
import { runLevelsync } from '../cli/cli-process.js';
import { describeWithServer, useTestDatabase } from '../support/postgres-server.js';
import { spawnLevelsync, until } from './support/cli-spawn.js';
import { printFigures, TEST_TIMEOUT } from './support/reliability.js';

// The edges an operator reaches in the first week (issue 11): a refused action in a batch, a
// tampered plan, a failed or too-new migrate, a corrupt level under clamp, a row lock held by
// someone else, the run lock's session killed, a second run, SIGTERM and SIGINT.

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'levelsync-edges-'));
  dirs.push(dir);
  return dir;
};

const SPECS = [
  { id: 'GANCUJU_PLAYER', maxLevel: 8 },
  { id: 'LFA_FOOTBALL_PLAYER', maxLevel: 8 },
  { id: 'LFA_COACH', maxLevel: 8 },
  { id: 'INTERNSHIP', maxLevel: 3 },
];

async function schemaWith(pool: pg.Pool, schema: string, specs = SPECS) {
  const mapping = createLevelsyncMapping({ schema })._unsafeUnwrap();
  (await migrate(pool, { schema }))._unsafeUnwrap();
  (await upsertSpecializations(pool, specs, { mapping }))._unsafeUnwrap();
  const store = createPgSyncStore(pool, { mapping });
  const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(pool, { mapping })] });
  const plan = async (policy = {}) => createPlan((await scanDesyncs(store, { resolver }))._unsafeUnwrap(), { policy })._unsafeUnwrap();
  return { mapping, store, resolver, plan };
}

/** Everything levelsync could write, as one comparable value. */
async function state(pool: pg.Pool, schema: string) {
  const q = async (sql: string) => (await pool.query(sql)).rows;
  return {
    progress: await q(`SELECT user_id::text, specialization_id, level FROM "${schema}".progress ORDER BY 1, 2`),
    licenses: await q(`SELECT user_id::text, specialization_id, level, max_achieved_level FROM "${schema}".licenses ORDER BY 1, 2`),
    history: await q(`SELECT count(*)::int AS n FROM "${schema}".license_progressions`),
  };
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Terminates a backend from another process and waits until it has exited
 * (`pg_terminate_backend(pid, timeout)`), blocking this process meanwhile: nothing here reads
 * the terminated session's socket until this returns.
 */
function terminateBackendSync(url: string, pid: number): void {
  const script = `const pg = require('pg');
    const c = new pg.Client({ connectionString: process.argv[1] });
    c.connect()
      .then(() => c.query('SELECT pg_terminate_backend($1::int, 10000) AS gone', [Number(process.argv[2])]))
      .then((r) => c.end().then(() => process.exit(r.rows[0].gone ? 0 : 3)))
      .catch((e) => { console.error(e); process.exit(2); });`;
  execFileSync(process.execPath, ['-e', script, url, String(pid)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** A plan as `levelsync plan` writes it (JSON Lines; the trailer carries the plan's own fingerprint field). */
async function planFileText(plan: SyncPlan): Promise<string> {
  let text = '';
  for await (const piece of encodePlanLines(plan)) text += piece._unsafeUnwrap();
  return text;
}

describeWithServer('reliability: edges (issue 11)', () => {
  const database = useTestDatabase('rel_edges');

  it(
    'poison: 1 action the database refuses in a batch of 1 000 → 999 applied, 1 reported with its SQLSTATE and constraint; the next run reports the same 1 and writes nothing else',
    async () => {
      const db = database();
      const schema = 'edges_poison';
      // A refusal the plan cannot predict: a CHECK constraint the operator added that refuses one
      // row (user 500's progress). (A missing specialization row is predicted: such a write is
      // flagged for review, never planned; see test/pg/suites/specialization-rows.ts.)
      const { store, plan } = await schemaWith(db.pool, schema);
      await db.pool.query(`ALTER TABLE "${schema}".progress ADD CONSTRAINT progress_user_500_frozen_check CHECK (user_id <> 500)`);
      await db.pool.query(
        `INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 1 + u % 8 FROM generate_series(1, 1000) u WHERE u <> 500`,
      );
      await db.pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) VALUES (500, 'LFA_COACH', 2, 2)`);
      const first = await plan();
      expect(first.summary.actions.total - first.summary.actions.FlagForReview).toBe(1_000);
      const report = (await applyPlan(first, store, { batchSize: 1_000 }))._unsafeUnwrap();
      const failed = report.outcomes.filter((o) => o.status === 'Failed');
      expect(report.batches).toHaveLength(1);
      expect(report.counts.Applied).toBe(999);
      expect(failed).toHaveLength(1);
      const poisoned = first.actions[failed[0]!.index]!;
      expect([poisoned.userId, poisoned.specializationId, poisoned.kind]).toEqual([500, 'LFA_COACH', 'CreateProgress']);
      expect(failed[0]!.refusal).toMatchObject({ sqlState: '23514', constraint: 'progress_user_500_frozen_check' });
      expect(report.status).toBe('CompletedWithFailures');

      const before = await state(db.pool, schema);
      expect(before.history[0].n).toBe(999);
      const second = await plan();
      const again = (await applyPlan(second, store, { batchSize: 1_000 }))._unsafeUnwrap();
      const failedAgain = again.outcomes.filter((o) => o.status === 'Failed').map((o) => second.actions[o.index]!);
      expect(failedAgain.map((a) => [a.userId, a.specializationId, a.kind])).toEqual([[500, 'LFA_COACH', 'CreateProgress']]);
      expect(again.outcomes.find((o) => o.status === 'Failed')?.refusal).toMatchObject({ sqlState: '23514', constraint: 'progress_user_500_frozen_check' });
      expect(again.counts.Applied).toBe(0);
      expect(await state(db.pool, schema)).toEqual(before);
      printFigures('edges/poison', {
        batch: 1_000,
        applied: report.counts.Applied,
        refused: failed.length,
        sqlState: failed[0]!.refusal!.sqlState!,
        constraint: failed[0]!.refusal!.constraint!,
        storeCalls: report.batches[0]!.attempts,
        nextRunRefused: failedAgain.length,
        nextRunApplied: again.counts.Applied,
      });
    },
    TEST_TIMEOUT,
  );

  it(
    'interrupted plan re-applied: an apply stopped after 2 of 6 batches, then `levelsync apply` of the same plan file → the committed actions AlreadyApplied, the rest Applied, exit 0, one history row per license change',
    async () => {
      const db = database();
      const schema = 'edges_reapply';
      const { store, plan } = await schemaWith(db.pool, schema);
      // 2 400 licenses one level behind their progress (SetLicenseLevel), 600 progress records
      // without a license (CreateLicense): 3 000 license changes, each owed one history row.
      await db.pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 5 FROM generate_series(1, 3000) u`);
      await db.pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 4, 4 FROM generate_series(1, 2400) u`);
      const approved = await plan();
      const writes = approved.summary.actions.total - approved.summary.actions.FlagForReview;
      expect(writes).toBe(3_000);
      const cwd = tempDir();
      const file = join(cwd, 'plan.jsonl');
      writeFileSync(file, await planFileText(approved));

      // Interrupted: the signal fires once the second batch has committed; apply stops before the third.
      const controller = new AbortController();
      let finishedBatches = 0;
      const first = (
        await applyPlan(approved, store, {
          batchSize: 500,
          signal: controller.signal,
          onEvent: (event) => {
            if (event.type === 'batch-finished' && ++finishedBatches === 2) controller.abort();
          },
        })
      )._unsafeUnwrap();
      expect(first.status).toBe('Aborted');
      expect(first.counts.Applied).toBe(1_000);
      const committed = (await db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".license_progressions`)).rows[0].n as number;
      expect(committed).toBe(1_000);

      // Re-applied through the command, from the same plan file.
      const again = await runLevelsync(['apply', file, '--json', '--batch-size', '500', '--database-url', db.url, '--schema', schema], { cwd });
      expect(again.code, again.stderr).toBe(0);
      const doc = JSON.parse(again.stdout);
      expect(doc.report.counts).toMatchObject({ Applied: 2_000, AlreadyApplied: 1_000, Stale: 0, Failed: 0 });
      // Exactly one history row per license change, overall, and every pair in sync.
      const history = await db.pool.query(
        `SELECT count(*)::int AS rows, count(DISTINCT license_id)::int AS licenses, (SELECT count(*)::int FROM (SELECT 1 FROM "${schema}".license_progressions GROUP BY license_id HAVING count(*) > 1) d) AS repeated FROM "${schema}".license_progressions`,
      );
      expect(history.rows[0]).toEqual({ rows: 3_000, licenses: 3_000, repeated: 0 });
      expect((await plan()).summary.actions.total).toBe(0);
      // A third time: every action already applied, nothing written.
      const third = await runLevelsync(['apply', file, '--json', '--database-url', db.url, '--schema', schema], { cwd });
      expect(third.code, third.stderr).toBe(0);
      expect(JSON.parse(third.stdout).report.counts).toMatchObject({ Applied: 0, AlreadyApplied: 3_000 });
      expect((await db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".license_progressions`)).rows[0].n).toBe(3_000);
      printFigures('edges/reapply-interrupted', {
        writes,
        firstRunApplied: first.counts.Applied,
        firstRunStatus: first.status,
        reapplyApplied: doc.report.counts.Applied,
        reapplyAlreadyApplied: doc.report.counts.AlreadyApplied,
        reapplyExit: again.code,
        historyRows: history.rows[0].rows,
        licensesWithTwoHistoryRows: history.rows[0].repeated,
      });
    },
    TEST_TIMEOUT,
  );

  it(
    'tamper: a re-fingerprinted demotion, a raise above the maximum or against the direction, a changed expected state: each refused with a ValidationError naming the action, nothing written; --expect-fingerprint pins the approved plan',
    async () => {
      const db = database();
      const schema = 'edges_tamper';
      const { store, plan } = await schemaWith(db.pool, schema);
      // 1: progress 1 / license 6 (admin-advanced); 2: progress 5 / license 3; 3: progress 4 / license 2.
      await db.pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) VALUES (1, 'LFA_COACH', 1), (2, 'LFA_COACH', 5), (3, 'LFA_COACH', 4)`);
      await db.pool.query(
        `INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) VALUES (1, 'LFA_COACH', 6, 6), (2, 'LFA_COACH', 3, 3), (3, 'LFA_COACH', 2, 2)`,
      );
      const approved = await plan();
      const index = (user: number) => approved.actions.findIndex((a) => a.userId === user);
      const before = await state(db.pool, schema);
      const edit = (change: (plan: { actions: Record<string, unknown>[] }) => void): SyncPlan => {
        const copy = structuredClone(approved) as unknown as { actions: Record<string, unknown>[] };
        change(copy);
        // A deliberate editor keeps the summary consistent too.
        const counts = (copy as unknown as SyncPlan).summary.actions as Record<string, number>;
        for (const kind of Object.keys(counts)) if (kind !== 'total') counts[kind] = copy.actions.filter((a) => a.kind === kind).length;
        const body = copy as unknown as SyncPlan;
        return { ...body, fingerprint: planFingerprint(body) };
      };
      const tampered: Record<string, SyncPlan> = {
        demotion: edit((p) => {
          p.actions[index(1)] = { ...p.actions[index(1)], kind: 'SetLicenseLevel', write: { level: 1, maxAchievedLevel: 6 }, evidence: 'edited', reason: 'higher-wins' };
        }),
        aboveMaximum: edit((p) => {
          (p.actions[index(2)]!.write as { level: number; maxAchievedLevel: number }) = { level: 9, maxAchievedLevel: 9 };
        }),
        againstDirection: edit((p) => {
          (p.actions[index(2)]!.write as { level: number; maxAchievedLevel: number }) = { level: 7, maxAchievedLevel: 7 };
        }),
        expectedState: edit((p) => {
          ((p.actions[index(3)]!.expected as { progress: { level: number } }).progress).level = 3;
        }),
      };
      const cwd = tempDir();
      const refused: Record<string, string> = {};
      for (const [name, bad] of Object.entries(tampered)) {
        const parsed = parsePlan(JSON.stringify(bad));
        expect(parsed.isErr(), name).toBe(true);
        const error = parsed._unsafeUnwrapErr();
        expect(error._tag, name).toBe('ValidationError');
        expect(error.message, name).toMatch(/actions\[\d+\]/);
        const applied = await applyPlan(bad, store);
        expect(applied.isErr(), name).toBe(true);
        expect(applied._unsafeUnwrapErr()._tag, name).toBe('ValidationError');
        const file = join(cwd, `${name}.jsonl`);
        writeFileSync(file, await planFileText(bad));
        const r = await runLevelsync(['apply', file, '--database-url', db.url, '--schema', schema], { cwd });
        expect(r.code, `${name}: ${r.stderr}`).toBe(2);
        expect(r.stderr, name).toMatch(/line \d+/); // names the action's line
        refused[name] = error._tag === 'ValidationError' ? error.field : error._tag;
      }
      expect(refused).toEqual({
        demotion: `actions[${index(1)}].write.level`, // must be 6: higher-wins never lowers the license
        aboveMaximum: `actions[${index(2)}].write.level`,
        againstDirection: `actions[${index(2)}].write.level`,
        expectedState: `actions[${index(3)}].write.level`,
      });
      expect(await state(db.pool, schema)).toEqual(before);

      // Pinning: another plan's fingerprint refuses; the approved one applies.
      const file = join(cwd, 'approved.jsonl');
      writeFileSync(file, await planFileText(approved));
      const other = await plan({ direction: 'progress-to-license', allowDemotion: true });
      expect(other.fingerprint).not.toBe(approved.fingerprint);
      const wrong = await runLevelsync(['apply', file, '--expect-fingerprint', other.fingerprint, '--database-url', db.url, '--schema', schema], { cwd });
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain('not the approved plan');
      expect(await state(db.pool, schema)).toEqual(before);
      const right = await runLevelsync(['apply', file, '--expect-fingerprint', approved.fingerprint, '--database-url', db.url, '--schema', schema], { cwd });
      expect(right.code, right.stderr).toBe(0);
      const pinned = await applyPlan(approved, store, { expectFingerprint: other.fingerprint });
      expect(pinned._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'fingerprint' });
      printFigures('edges/tamper', { tamperedPlansRefused: Object.keys(refused).length, wrongFingerprintExit: wrong.code, approvedExit: right.code });

      // Re-applying the finished plan: "already applied", exit 0, nothing written.
      const after = await state(db.pool, schema);
      const again = await runLevelsync(['apply', file, '--json', '--database-url', db.url, '--schema', schema], { cwd });
      expect(again.code, again.stderr).toBe(0);
      const doc = JSON.parse(again.stdout);
      expect(doc.report.counts).toMatchObject({ Applied: 0, Stale: 0, AlreadyApplied: approved.summary.actions.total - approved.summary.actions.FlagForReview });
      expect(doc.report.counts.AlreadyApplied).toBe(3);
      const human = await runLevelsync(['apply', file, '--database-url', db.url, '--schema', schema], { cwd });
      expect(human.code).toBe(0);
      expect(human.stdout).toContain('already applied');
      expect(await state(db.pool, schema)).toEqual(after);
      printFigures('edges/already-applied', { alreadyApplied: doc.report.counts.AlreadyApplied, stale: doc.report.counts.Stale, exit: again.code });
    },
    TEST_TIMEOUT,
  );

  it('migrate is all or nothing (no bookkeeping table after a failure) and refuses a schema newer than the code', async () => {
    const db = database();
    // A schema that already has a "progress" table of its own: migration 1 fails.
    await db.pool.query(`CREATE SCHEMA edges_migrate; CREATE TABLE edges_migrate.progress (x int)`);
    const failed = await migrate(db.pool, { schema: 'edges_migrate' });
    expect(failed.isErr()).toBe(true);
    const tables = await db.pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'edges_migrate' ORDER BY 1`);
    expect(tables.rows.map((r) => r.table_name)).toEqual(['progress']);
    const cwd = tempDir();
    const cli = await runLevelsync(['migrate', '--database-url', db.url, '--schema', 'edges_migrate'], { cwd });
    expect(cli.code).toBe(2);

    (await migrate(db.pool, { schema: 'edges_newer' }))._unsafeUnwrap();
    await db.pool.query(`INSERT INTO edges_newer.levelsync_migrations (version, name) VALUES (99, 'from the future')`);
    const newer = await migrate(db.pool, { schema: 'edges_newer' });
    expect(newer._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'edges_newer.levelsync_migrations.version' });
    const refused = await runLevelsync(['migrate', '--database-url', db.url, '--schema', 'edges_newer'], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('newer than this release');
    printFigures('edges/migrate', { tablesAfterFailedMigrate: tables.rows.length, failedExit: cli.code, newerExit: refused.code });
  });

  it('clamp never promotes from a corrupt level: progress 2147483647 under --above-max clamp is InvalidLevel, flagged; the license stays 3', async () => {
    const db = database();
    const schema = 'edges_clamp';
    await schemaWith(db.pool, schema);
    await db.pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) VALUES (1, 'LFA_COACH', 2147483647), (2, 'LFA_COACH', 9)`);
    await db.pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) VALUES (1, 'LFA_COACH', 3, 3), (2, 'LFA_COACH', 3, 3)`);
    const cwd = tempDir();
    const r = await runLevelsync(['sync', '--apply', '--above-max', 'clamp', '--json', '--database-url', db.url, '--schema', schema], { cwd });
    const doc = JSON.parse(r.stdout);
    const licenses = await db.pool.query(`SELECT user_id::int AS u, level FROM "${schema}".licenses ORDER BY 1`);
    expect(licenses.rows).toEqual([
      { u: 1, level: 3 }, // not promoted from garbage
      { u: 2, level: 8 }, // 9 is one above the maximum 8: clamped, the license follows
    ]);
    const flagged = doc.report.actions.filter((a: { status: string }) => a.status === 'Flagged');
    expect(flagged).toEqual([expect.objectContaining({ userId: 1, reasons: ['InvalidLevel'] })]);
    printFigures('edges/clamp', { corruptLevel: 2147483647, licenseAfter: licenses.rows[0].level, flagged: flagged.length });
  });

  it(
    'lock timeout: a row lock held elsewhere times out the batch (rolled back, retried, reported) instead of stalling the run',
    async () => {
      const db = database();
      const schema = 'edges_timeout';
      await schemaWith(db.pool, schema);
      await db.pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 4 FROM generate_series(1, 20) u`);
      await db.pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 3, 3 FROM generate_series(1, 20) u`);
      const holder = await db.pool.connect();
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${schema}".licenses WHERE user_id = 7 FOR UPDATE`);
      try {
        const cwd = tempDir();
        const r = await runLevelsync(['sync', '--apply', '--json', '--lock-timeout', '300ms', '--batch-size', '10', '--database-url', db.url, '--schema', schema], { cwd });
        expect(r.code, r.stderr).toBe(1);
        const doc = JSON.parse(r.stdout);
        const failed = doc.report.batches.filter((b: { status: string }) => b.status === 'Failed');
        expect(failed).toHaveLength(1);
        expect(failed[0].attempts).toBe(3); // the first try and two transient retries
        expect(failed[0].error.message).toMatch(/lock timeout/i);
        expect(doc.report.counts).toMatchObject({ Applied: 10, Failed: 10 });
        printFigures('edges/lock-timeout', { lockTimeoutMs: 300, attempts: failed[0].attempts, applied: doc.report.counts.Applied, failed: doc.report.counts.Failed });
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'lock timeout (library): applyPlan without lockTimeoutMs gives up on a row lock held elsewhere (default 5 s): that batch rolled back, retried, reported failed; the rest applied',
    async () => {
      const db = database();
      const schema = 'edges_timeout_lib';
      const { store, plan } = await schemaWith(db.pool, schema);
      await db.pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 4 FROM generate_series(1, 30) u`);
      await db.pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 3, 3 FROM generate_series(1, 30) u`);
      const p = await plan();
      // A session stuck in a transaction holds user 15's license row (batch 1: users 11-20).
      const holder = await db.pool.connect();
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${schema}".licenses WHERE user_id = 15 FOR UPDATE`);
      try {
        let retried = 0;
        const report = (
          await applyPlan(p, store, {
            batchSize: 10,
            onEvent: (event) => {
              if (event.type === 'batch-retried') retried++;
            },
          })
        )._unsafeUnwrap(); // no lockTimeoutMs: the default; without one this would wait forever
        const failed = report.batches.filter((b) => b.status === 'Failed');
        expect(failed.map((b) => b.index)).toEqual([1]);
        expect(failed[0]!.attempts).toBe(3); // the first try and two transient retries
        expect(retried).toBe(2);
        expect(failed[0]!.error?.message).toMatch(/lock timeout/i);
        expect(report.counts).toMatchObject({ Applied: 20, Failed: 10, Skipped: 0 });
        expect(report.status).toBe('CompletedWithFailures');
        const levels = await db.pool.query(`SELECT user_id, level FROM "${schema}".licenses WHERE level = 4 ORDER BY user_id`);
        expect(levels.rows.map((r) => Number(r.user_id))).toEqual([...Array.from({ length: 10 }, (_, i) => i + 1), ...Array.from({ length: 10 }, (_, i) => i + 21)]);
        printFigures('edges/lock-timeout-library', {
          lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS,
          attempts: failed[0]!.attempts,
          applied: report.counts.Applied,
          failed: report.counts.Failed,
        });
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
    },
    TEST_TIMEOUT,
  );

  it('run lock loss: the lock session terminated after batch 0 stops the run before batch 1 (status LockLost), even before the process has read the closed connection', async () => {
    const db = database();
    const schema = 'edges_lost';
    const pool = db.newPool({ max: 4 });
    const { mapping, plan } = await schemaWith(pool, schema);
    await db.pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 4 FROM generate_series(1, 30) u`);
    await db.pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 3, 3 FROM generate_series(1, 30) u`);
    const store = createPgSyncStore(pool, { mapping });
    const p = await plan();
    const lock = (await store.acquireRunLock({}))._unsafeUnwrap();
    expect(lock.lost).toBeDefined();
    expect(await lock.stillHeld?.()).toBe(true);
    const holders = await db.pool.query(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(holders.rows).toHaveLength(1);
    // Right after batch 0 commits, another process terminates the lock's session and waits until
    // it is gone, while this process's event loop is blocked (execFileSync): the backend's FATAL
    // message and the closed socket are still unread when batch 1 is due, as when a proxy keeps
    // the client's connection open. Only a check with the database can tell.
    try {
      let calls = 0;
      const terminating: SyncStore = {
        ...store,
        applyBatch: (actions, context) =>
          store.applyBatch(actions, context).map((outcomes) => {
            if (calls++ === 0) terminateBackendSync(db.url, holders.rows[0].pid);
            return outcomes;
          }),
      };
      const report = (await applyPlan(p, terminating, { runLock: lock, batchSize: 10 }))._unsafeUnwrap();
      expect(report.status).toBe('LockLost');
      expect(report.batches).toHaveLength(1);
      expect(report.counts.Applied).toBe(10); // exactly batch 0
      expect(report.counts.Skipped).toBe(20); // batches 1 and 2 not attempted
      const raised = await db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".licenses WHERE level = 4`);
      expect(raised.rows[0].n).toBe(10);
      expect(await lock.stillHeld?.()).toBe(false);
      printFigures('edges/run-lock-loss', { status: report.status, batchSize: 10, applied: report.counts.Applied, notAttempted: report.counts.Skipped });
    } finally {
      await lock.release(); // a failed assertion must not leave the pool waiting for its checkout
    }
  });

  it(
    'run lock loss (CLI): sync --apply whose run-lock session is terminated mid-run exits 1 naming the lost lock; --json says LockLost',
    async () => {
      const db = database();
      const ownDatabase = `database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
      const figures: Record<string, number | string> = {};
      for (const json of [false, true]) {
        const schema = json ? 'edges_lost_cli_json' : 'edges_lost_cli';
        await schemaWith(db.pool, schema);
        await db.pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 4 FROM generate_series(1, 40) u`);
        await db.pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 3, 3 FROM generate_series(1, 40) u`);
        // A row lock on user 15's license holds batch 1 (users 11-20) while the run lock's session is terminated.
        const holder = await db.pool.connect();
        try {
          await holder.query('BEGIN');
          await holder.query(`SELECT 1 FROM "${schema}".licenses WHERE user_id = 15 FOR UPDATE`);
          const run = spawnLevelsync(
            ['sync', '--apply', '--batch-size', '10', '--lock-timeout', '0', ...(json ? ['--json'] : []), '--database-url', db.url, '--schema', schema],
            { cwd: tempDir() },
          );
          await until(async () => {
            const r = await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
            return r.rows.length > 0;
          }, 'batch 1 to wait for the row lock');
          const lockHolder = await db.pool.query(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND ${ownDatabase}`);
          expect(lockHolder.rows).toHaveLength(1);
          await db.pool.query('SELECT pg_terminate_backend($1::int, 10000)', [lockHolder.rows[0].pid]);
          await holder.query('ROLLBACK');
          const r = await run.done;
          expect(r.code, r.stderr).toBe(1);
          const raised = await db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".licenses WHERE level = 4`);
          // Batches 0 and 1 (under way when the lock went); nothing after: 2 and 3 not attempted
          // (a streamed plan counts only what it drew before stopping).
          expect(raised.rows[0].n).toBe(20);
          if (json) {
            const doc = JSON.parse(r.stdout);
            expect(doc).toMatchObject({ command: 'sync', exitCode: 1, report: { status: 'LockLost', counts: { Applied: 20 } } });
            expect(doc.report.counts.Skipped).toBeGreaterThan(0);
            expect(doc.error).toMatchObject({ kind: 'failed', message: expect.stringMatching(/the run lock \(all\) was lost/) });
            figures['jsonStatus'] = doc.report.status;
          } else {
            expect(r.stdout).toMatch(/The run lock was lost/);
            expect(r.stderr).toMatch(/the run lock \(all\) was lost/);
            expect(r.stdout).toMatch(/applied 20 .* not attempted \d+ .*status LockLost/);
            figures['exit'] = r.code;
            figures['applied'] = 20;
          }
        } finally {
          await holder.query('ROLLBACK').catch(() => undefined);
          holder.release();
        }
      }
      printFigures('edges/run-lock-loss-cli', figures);
    },
    TEST_TIMEOUT,
  );

  it(
    'lock first: a second run is refused before it scans; --wait-for-lock waits, then scans (nothing stale after the wait)',
    async () => {
      const db = database();
      const schema = 'edges_lockfirst';
      const { mapping, store, plan } = await schemaWith(db.pool, schema);
      await db.pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 5 FROM generate_series(1, 200) u`);
      await db.pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 2, 2 FROM generate_series(1, 200) u`);
      void mapping;
      const other = (await store.acquireRunLock({}))._unsafeUnwrap(); // "another run"
      const cwd = tempDir();
      const refused = await runLevelsync(['sync', '--apply', '--json', '--database-url', db.url, '--schema', schema], { cwd });
      expect(refused.code).toBe(1);
      const doc = JSON.parse(refused.stdout);
      expect(doc.error.kind).toBe('busy');
      expect(doc.plan).toBeUndefined(); // refused before any scan or plan

      const waiting = spawnLevelsync(['sync', '--apply', '--wait-for-lock', '--json', '--database-url', db.url, '--schema', schema], { cwd });
      await until(async () => {
        const r = await db.pool.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
        return r.rows.length > 0;
      }, 'the second run to wait for the run lock');
      // Meanwhile the lock holder repairs everything (what the other run was doing).
      const fix = await plan();
      (await applyPlan(fix, store, { lock: 'none' }))._unsafeUnwrap();
      await db.pool.query(`UPDATE "${schema}".progress SET level = 6 WHERE user_id <= 5`); // and new drift appears
      await other.release();
      const waited = await waiting.done;
      expect(waited.code, waited.stderr).toBe(0);
      const report = JSON.parse(waited.stdout).report;
      expect(report.counts).toMatchObject({ Applied: 5, Stale: 0 });
      printFigures('edges/lock-first', { refusedExit: refused.code, waitedApplied: report.counts.Applied, waitedStale: report.counts.Stale });
    },
    TEST_TIMEOUT,
  );

  it(
    'signals: SIGINT during a scan with --json (check, sync) prints exactly one JSON document marked interrupted, exit 130, nothing written',
    async () => {
      const db = database();
      const schema = 'edges_scan_sigint';
      await schemaWith(db.pool, schema);
      // 20 000 mismatched pairs: several pages for the scan.
      await db.pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 5 FROM generate_series(1, 20000) u`);
      await db.pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 2, 2 FROM generate_series(1, 20000) u`);
      const before = await state(db.pool, schema);
      const cwd = tempDir();
      const figures: Record<string, number> = {};
      for (const command of [['check'], ['sync']]) {
        // The scan is held on a lock, so it is certainly still running when SIGINT arrives: a
        // session of the test holds the progress table exclusively until the signal is sent.
        const holder = await db.pool.connect();
        await holder.query('BEGIN');
        await holder.query(`LOCK TABLE "${schema}".progress IN ACCESS EXCLUSIVE MODE`);
        const run = spawnLevelsync([...command, '--json', '--database-url', db.url, '--schema', schema], { cwd });
        // Scanning: a levelsync session of this test's database waits on the lock with a statement reading the progress table.
        await until(
          async () =>
            (
              await db.pool.query(
                `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'levelsync' AND wait_event_type = 'Lock' AND query LIKE $1`,
                [`%"${schema}"."progress"%`],
              )
            ).rows.length > 0,
          `${command[0]} to be scanning`,
        );
        run.child.kill('SIGINT');
        await until(() => run.stderr().includes('SIGINT: stopping'), 'the SIGINT to be acknowledged');
        await holder.query('ROLLBACK');
        holder.release();
        const stopped = await run.done;
        expect(stopped.code, stopped.stderr).toBe(130);
        const doc = JSON.parse(stopped.stdout); // exactly one document: a second one would not parse
        expect(doc).toMatchObject({ command: command[0], interrupted: true, exitCode: 130 });
        // Top-level documents open with "{" alone at the start of a line (nested objects are indented).
        const documents = stopped.stdout.split('\n').filter((line) => line === '{').length;
        expect(documents).toBe(1);
        figures[`${command[0]}Exit`] = stopped.code;
        figures[`${command[0]}JsonDocuments`] = documents;
        figures[`${command[0]}JsonBytes`] = stopped.stdout.length;
      }
      expect(await state(db.pool, schema)).toEqual(before);
      printFigures('edges/scan-sigint', figures);
    },
    TEST_TIMEOUT,
  );

  it(
    'signals: SIGTERM during apply stops between batches with one JSON document marked interrupted (exit 143), committed batches stay; SIGINT while waiting ends the wait (exit 130); a second signal exits at once',
    async () => {
      const db = database();
      const schema = 'edges_signals';
      await schemaWith(db.pool, schema);
      await db.pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 5 FROM generate_series(1, 400) u`);
      await db.pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 2, 2 FROM generate_series(1, 400) u`);
      const cwd = tempDir();
      const args = ['--database-url', db.url, '--schema', schema, '--json'];

      // A row lock on user 250's license holds batch 3 (users 201-300); SIGTERM arrives while it waits.
      const holder = await db.pool.connect();
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${schema}".licenses WHERE user_id = 250 FOR UPDATE`);
      const run = spawnLevelsync(['sync', '--apply', '--batch-size', '100', '--lock-timeout', '0', ...args], { cwd });
      await until(async () => (await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'levelsync' AND wait_event_type = 'Lock'`)).rows.length > 0, 'the batch to wait');
      run.child.kill('SIGTERM');
      await until(() => run.stderr().includes('SIGTERM: stopping'), 'the first SIGTERM to be acknowledged');
      await holder.query('ROLLBACK');
      holder.release();
      const stopped = await run.done;
      expect(stopped.code, stopped.stderr).toBe(143);
      const doc = JSON.parse(stopped.stdout); // exactly one document
      expect(doc).toMatchObject({ command: 'sync', interrupted: true, exitCode: 143, report: { status: 'Aborted', interrupted: true } });
      const history = (await db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".license_progressions`)).rows[0].n;
      expect(doc.report.counts.Applied).toBe(300); // the batch under way finished; none rolled back
      expect(history).toBe(doc.report.counts.Applied);
      // Actions drawn from the streamed scan but not sent (how many were drawn depends on the pages read).
      expect(doc.report.counts.Skipped).toBeGreaterThan(0);
      expect(doc.report.counts.Applied + doc.report.counts.Skipped).toBeLessThanOrEqual(400);

      // SIGINT while waiting for the run lock: the wait ends, one document, exit 130, nothing written.
      const store = createPgSyncStore(db.pool, { mapping: createLevelsyncMapping({ schema })._unsafeUnwrap() });
      const other = (await store.acquireRunLock({}))._unsafeUnwrap();
      const waiting = spawnLevelsync(['sync', '--apply', '--wait-for-lock', ...args], { cwd });
      await until(async () => (await db.pool.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rows.length > 0, 'the run to wait');
      waiting.child.kill('SIGINT');
      const interrupted = await waiting.done;
      expect(interrupted.code).toBe(130);
      expect(JSON.parse(interrupted.stdout)).toMatchObject({ interrupted: true, error: { kind: 'interrupted' }, exitCode: 130 });

      // A second signal exits at once, while the first waits for a batch that cannot finish.
      const blocker = await db.pool.connect();
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM "${schema}".licenses WHERE user_id = 350 FOR UPDATE`);
      await other.release();
      const stuck = spawnLevelsync(['sync', '--apply', '--lock-timeout', '0', ...args], { cwd });
      await until(async () => (await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'levelsync' AND wait_event_type = 'Lock'`)).rows.length > 0, 'the batch to wait');
      stuck.child.kill('SIGTERM');
      await until(() => stuck.stderr().includes('SIGTERM: stopping'), 'the first SIGTERM to be acknowledged');
      stuck.child.kill('SIGTERM');
      const killed = await stuck.done;
      await blocker.query('ROLLBACK');
      blocker.release();
      expect(killed.code).toBe(143);
      expect(killed.stdout).toBe(''); // quit at once: no report
      const after = (await db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".license_progressions`)).rows[0].n;
      expect(after).toBe(history); // the unfinished batch was rolled back by the server
      printFigures('edges/signals', { sigtermExit: stopped.code, appliedBeforeStop: doc.report.counts.Applied, notAttempted: doc.report.counts.Skipped, sigintWaitExit: interrupted.code, secondSignalExit: killed.code });
    },
    TEST_TIMEOUT,
  );
});
