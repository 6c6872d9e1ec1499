import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { expect, it } from 'vitest';
import { createMaxLevelResolver, isInformational, scanDesyncs, type Logger } from 'levelsync';
import {
  captureDdl,
  checkPending,
  createPgMaxLevelInvalidation,
  createPgMaxLevelRepository,
  createPgSyncStore,
  createReconciler,
  installCapture,
  isCaptureInstalled,
  pendingLag,
  uninstallCapture,
  type PgMapping,
  type ReconcilerEvent,
} from 'levelsync/pg';
import { describeWithServer, useTestDatabase } from '../support/postgres-server.js';
import { catalogSnapshot, historyCounts, resolverFor, seedOriginal } from './support/continuous-world.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = pathToFileURL(`${ROOT}node_modules/tsx/dist/loader.mjs`).href;
const CHILD = `${ROOT}test/continuous/support/reconciler-child.ts`;

async function untilTrue(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

async function pendingRows(pool: pg.Pool, mapping: PgMapping): Promise<number> {
  return Number((await pool.query(`SELECT count(*) AS n FROM "${mapping.schema}".levelsync_changes`)).rows[0].n);
}

async function fullDiffNeedingWork(pool: pg.Pool, mapping: PgMapping) {
  const scan = (await scanDesyncs(createPgSyncStore(pool, { mapping }), { resolver: resolverFor(pool, mapping) }))._unsafeUnwrap();
  return scan.desyncs.filter((d) => !isInformational(d));
}

function collectingLogger() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (_: object, message?: string) => lines.push({ level, message: message ?? '' });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describeWithServer('continuous mode on PostgreSQL (original schema, legacy ids PLAYER/COACH)', () => {
  const database = useTestDatabase('continuous');

  it('capture install then uninstall leaves the original schema exactly as it was; --dry-run runs nothing', async () => {
    const pool = database().pool;
    const mapping = await seedOriginal((t, v) => pool.query(t, v as unknown[]).then((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 })), 'cap_roundtrip', 50);
    const before = await catalogSnapshot(pool, 'cap_roundtrip');
    const dry = (await installCapture(pool, { mapping, dryRun: true }))._unsafeUnwrap();
    expect(dry.statements.some((s) => s.includes('REFERENCING NEW TABLE AS new_rows'))).toBe(true);
    expect(await catalogSnapshot(pool, 'cap_roundtrip')).toBe(before);
    expect(captureDdl('install', { mapping })).toContain('CREATE TRIGGER "levelsync_capture_update" AFTER UPDATE ON "cap_roundtrip"."user_licenses"');

    (await installCapture(pool, { mapping }))._unsafeUnwrap();
    expect((await isCaptureInstalled(pool, { mapping }))._unsafeUnwrap()).toBe(true);
    expect(await catalogSnapshot(pool, 'cap_roundtrip')).not.toBe(before);
    (await installCapture(pool, { mapping }))._unsafeUnwrap(); // idempotent
    await pool.query(`UPDATE cap_roundtrip.user_licenses SET current_level = 1 WHERE user_id < 5`);
    expect(await pendingRows(pool, mapping)).toBeGreaterThan(0);
    (await uninstallCapture(pool, { mapping }))._unsafeUnwrap();
    expect(await catalogSnapshot(pool, 'cap_roundtrip')).toBe(before);
    expect((await isCaptureInstalled(pool, { mapping }))._unsafeUnwrap()).toBe(false);
  });

  it('by default records every updated row (XP-only updates too, found in sync and left alone), the old and new key of a moved row, and not its own repairs', async () => {
    const pool = database().pool;
    const run = (t: string, v?: readonly unknown[]) => pool.query(t, v as unknown[]).then((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 }));
    const mapping = await seedOriginal(run, 'cap_all', 30);
    (await installCapture(pool, { mapping }))._unsafeUnwrap();
    const keys = async () =>
      (await pool.query(`SELECT user_id, specialization_id FROM cap_all.levelsync_changes ORDER BY id`)).rows.map((r) => `${r.user_id}/${r.specialization_id}`);
    const progressRows = Number((await pool.query(`SELECT count(*)::int AS n FROM cap_all.specialization_progress`)).rows[0].n);

    // An XP-only update: every updated row's key, nothing decided in the writer's statement.
    await pool.query(`UPDATE cap_all.specialization_progress SET total_xp = total_xp + 10`);
    expect((await keys()).length).toBe(progressRows);
    const historyBefore = await historyCounts(pool, mapping);
    const reconciler = createReconciler(pool, { mapping, resolver: resolverFor(pool, mapping), resyncIntervalMs: 0 });
    const xpOnly = (await reconciler.drain())._unsafeUnwrap();
    expect(xpOnly.changes).toBe(progressRows);
    expect(xpOnly.licenseChanges).toBe(0); // in sync before, in sync after: nothing written
    expect(await historyCounts(pool, mapping)).toEqual(historyBefore);
    expect(await keys()).toEqual([]);

    // A row moved to another specialization and back: both keys each time (the old one by the
    // row-level key-change trigger).
    await pool.query(`UPDATE cap_all.specialization_progress SET specialization_id = 'LFA_FOOTBALL_PLAYER' WHERE student_id = 7 AND specialization_id = 'GANCUJU_PLAYER'`);
    expect((await keys()).sort()).toEqual(['7/GANCUJU_PLAYER', '7/LFA_FOOTBALL_PLAYER']);
    await pool.query(`UPDATE cap_all.specialization_progress SET specialization_id = 'GANCUJU_PLAYER' WHERE student_id = 7 AND specialization_id = 'LFA_FOOTBALL_PLAYER'`);
    expect((await keys()).sort()).toEqual(['7/GANCUJU_PLAYER', '7/GANCUJU_PLAYER', '7/LFA_FOOTBALL_PLAYER', '7/LFA_FOOTBALL_PLAYER']);
    // A key column in the SET list but unchanged: the key-change trigger's WHEN filters it out.
    await pool.query(`DELETE FROM cap_all.levelsync_changes`);
    await pool.query(`UPDATE cap_all.user_licenses SET user_id = user_id, current_level = 5, max_achieved_level = 5 WHERE user_id = 3`);
    expect((await keys()).sort()).toEqual(['3/COACH', '3/GANCUJU_PLAYER']);
    await pool.query(`DELETE FROM cap_all.specialization_progress WHERE student_id = 5 AND specialization_id = 'PLAYER'`);
    await pool.query(`INSERT INTO cap_all.specialization_progress (student_id, specialization_id, current_level) VALUES (5, 'PLAYER', 7)`);
    expect((await keys()).slice(2)).toEqual(['5/PLAYER', '5/PLAYER']);
    const drained = (await reconciler.drain())._unsafeUnwrap();
    expect(drained.changes).toBe(4);
    expect(await keys()).toEqual([]); // the reconciler's own writes are not captured
    expect(await fullDiffNeedingWork(pool, mapping)).toEqual([]);
  });

  it('filterUpdates: captures level changes (inserts, updates, deletes, alias rows) but not XP-only updates nor its own repairs', async () => {
    const pool = database().pool;
    const run = (t: string, v?: readonly unknown[]) => pool.query(t, v as unknown[]).then((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 }));
    const mapping = await seedOriginal(run, 'cap_keys_f', 30);
    (await installCapture(pool, { mapping, filterUpdates: true }))._unsafeUnwrap();
    const keys = async () =>
      (await pool.query(`SELECT user_id, specialization_id FROM cap_keys_f.levelsync_changes ORDER BY id`)).rows.map((r) => `${r.user_id}/${r.specialization_id}`);

    await pool.query(`UPDATE cap_keys_f.specialization_progress SET total_xp = total_xp + 10`);
    expect(await keys()).toEqual([]);
    await pool.query(`UPDATE cap_keys_f.user_licenses SET current_level = 5, max_achieved_level = 5 WHERE user_id = 3`); // stored under COACH and GANCUJU_PLAYER
    expect((await keys()).sort()).toEqual(['3/COACH', '3/GANCUJU_PLAYER']);
    await pool.query(`DELETE FROM cap_keys_f.specialization_progress WHERE student_id = 5 AND specialization_id = 'PLAYER'`);
    await pool.query(`INSERT INTO cap_keys_f.specialization_progress (student_id, specialization_id, current_level) VALUES (5, 'PLAYER', 7)`);
    expect((await keys()).slice(2)).toEqual(['5/PLAYER', '5/PLAYER']);

    const events: ReconcilerEvent[] = [];
    const reconciler = createReconciler(pool, { mapping, resolver: resolverFor(pool, mapping), resyncIntervalMs: 0, onEvent: (e) => events.push(e) });
    const drained = (await reconciler.drain())._unsafeUnwrap();
    expect(drained.changes).toBe(4);
    // User 3: licenses raised to 5 by hand (LFA_COACH stored as COACH): both progress rows are raised
    // (higher-wins). User 5: progress re-created under PLAYER at 7: the GANCUJU_PLAYER license (3) is raised.
    expect(drained.licenseChanges).toBe(1);
    const progress = await pool.query(`SELECT student_id, specialization_id, current_level FROM cap_keys_f.specialization_progress WHERE student_id = 3 ORDER BY 2`);
    expect(progress.rows.map((r) => r.current_level)).toEqual([5, 5]);
    expect(await keys()).toEqual([]); // the reconciler's own writes are not captured
    expect(await fullDiffNeedingWork(pool, mapping)).toEqual([]);
    expect(events.filter((e) => e.type === 'claimed')).toEqual([{ type: 'claimed', changes: 4 }]);
  });

  it('row-level capture on an UNLOGGED change table (the options) records the same keys, and uninstalls cleanly', async () => {
    const pool = database().pool;
    const run = (t: string, v?: readonly unknown[]) => pool.query(t, v as unknown[]).then((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 }));
    const mapping = await seedOriginal(run, 'cap_rows', 20);
    const before = await catalogSnapshot(pool, 'cap_rows');
    (await installCapture(pool, { mapping, level: 'row', durable: false }))._unsafeUnwrap();
    const persistence = await pool.query(`SELECT relpersistence FROM pg_class WHERE oid = 'cap_rows.levelsync_changes'::regclass`);
    expect(persistence.rows[0].relpersistence).toBe('u');
    await pool.query(`UPDATE cap_rows.specialization_progress SET total_xp = total_xp + 1`);
    await pool.query(`UPDATE cap_rows.user_licenses SET current_level = 5, max_achieved_level = 5 WHERE user_id = 3`);
    await pool.query(`DELETE FROM cap_rows.specialization_progress WHERE student_id = 5 AND specialization_id = 'PLAYER'`);
    const keys = (await pool.query(`SELECT user_id, specialization_id FROM cap_rows.levelsync_changes ORDER BY id`)).rows.map((r) => `${r.user_id}/${r.specialization_id}`);
    expect(keys.sort()).toEqual(['3/COACH', '3/GANCUJU_PLAYER', '5/PLAYER']);
    const reconciler = createReconciler(pool, { mapping, resolver: resolverFor(pool, mapping), resyncIntervalMs: 0 });
    expect((await reconciler.drain())._unsafeUnwrap().changes).toBe(3);
    expect(await pendingRows(pool, mapping)).toBe(0);
    (await uninstallCapture(pool, { mapping }))._unsafeUnwrap();
    expect(await catalogSnapshot(pool, 'cap_rows')).toBe(before);
  });

  it('checkPending reports the desyncs among pending changes only; the reconciler repairs them with one history row per license change', async () => {
    const pool = database().pool;
    const run = (t: string, v?: readonly unknown[]) => pool.query(t, v as unknown[]).then((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 }));
    const mapping = await seedOriginal(run, 'cap_check', 300);
    (await installCapture(pool, { mapping }))._unsafeUnwrap();
    // A desync nobody queued (written with capture off): a pending check must not see it, a resync must.
    await pool.query(`BEGIN; SET LOCAL levelsync.capture = 'off'; UPDATE cap_check.specialization_progress SET current_level = 8 WHERE student_id = 300 AND specialization_id = 'LFA_COACH'; COMMIT`);
    await pool.query(`UPDATE cap_check.specialization_progress SET current_level = least(current_level + 2, 8) WHERE student_id <= 60 AND specialization_id = 'LFA_COACH'`);
    const resolver = resolverFor(pool, mapping);
    const pending = (await checkPending(pool, { mapping, resolver }))._unsafeUnwrap();
    expect(pending.pendingKeys).toBe(60);
    const needing = pending.desyncs.filter((d) => !isInformational(d));
    expect(new Set(needing.map((d) => d.userId)).size).toBe(60);
    expect(needing.every((d) => d.kind === 'LevelMismatch' && typeof d.userId === 'number' && d.userId <= 60)).toBe(true);
    expect(pending.lag.pending).toBe(60);

    const historyBefore = await historyCounts(pool, mapping);
    const reconciler = createReconciler(pool, { mapping, resolver, batchSize: 25, resyncIntervalMs: 0 });
    const drained = (await reconciler.drain())._unsafeUnwrap();
    expect(drained).toMatchObject({ changes: 60, licenseChanges: 60, batches: 3 });
    const historyAfter = await historyCounts(pool, mapping);
    let added = 0;
    for (const [id, n] of historyAfter) added += n - (historyBefore.get(id) ?? 0);
    expect(added).toBe(60);
    expect([...historyAfter.values()].every((n) => n === 1)).toBe(true);
    expect((await checkPending(pool, { mapping, resolver }))._unsafeUnwrap().desyncs).toEqual([]);
    expect((await pendingLag(pool, { mapping }))._unsafeUnwrap()).toEqual({ pending: 0, oldestMs: 0 });

    const left = await fullDiffNeedingWork(pool, mapping);
    expect(left.map((d) => `${d.userId}/${d.specializationId}`)).toEqual(['300/LFA_COACH']);
    expect((await reconciler.resync())._unsafeUnwrap()).toEqual({ desyncs: 1, applied: 1 });
    expect(await fullDiffNeedingWork(pool, mapping)).toEqual([]);
    // The resync's write goes through the ordinary store, so capture queues its pair once: the
    // reconciler reads it, finds it in sync, writes nothing and queues nothing (no endless loop).
    expect(await pendingRows(pool, mapping)).toBe(1);
    expect((await reconciler.drain())._unsafeUnwrap()).toMatchObject({ changes: 1, applied: 0 });
    expect(await pendingRows(pool, mapping)).toBe(0);
  });

  it('a reconciler killed with SIGKILL mid-batch: another one processes its keys, exactly one history row per license change', async () => {
    const db = database();
    const pool = db.pool;
    const run = (t: string, v?: readonly unknown[]) => pool.query(t, v as unknown[]).then((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 }));
    const mapping = await seedOriginal(run, 'cap_kill', 200);
    (await installCapture(pool, { mapping }))._unsafeUnwrap();
    await pool.query(`UPDATE cap_kill.specialization_progress SET current_level = least(current_level + 1, 8) WHERE student_id <= 120 AND specialization_id IN ('LFA_COACH')`);
    expect(await pendingRows(pool, mapping)).toBe(120);

    const child = spawn(process.execPath, ['--import', TSX, CHILD, db.url, 'cap_kill', 'hang'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    await untilTrue('the child to claim a batch', () => /claimed 50/.test(output), 60_000);
    // Its 50 keys are claimed (deleted, uncommitted): invisible to SKIP LOCKED claimers, still in the table.
    expect(await pendingRows(pool, mapping)).toBe(120);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const resolver = resolverFor(pool, mapping);
    const reconciler = createReconciler(pool, { mapping, resolver, batchSize: 50, resyncIntervalMs: 0 });
    let licenseChanges = 0;
    await untilTrue('every change to be processed', async () => {
      licenseChanges += (await reconciler.drain())._unsafeUnwrap().licenseChanges;
      return (await pendingRows(pool, mapping)) === 0;
    });
    expect(licenseChanges).toBe(120);
    const history = await historyCounts(pool, mapping);
    expect([...history.values()].reduce((a, b) => a + b, 0)).toBe(120);
    expect([...history.values()].every((n) => n === 1)).toBe(true);
    expect(await fullDiffNeedingWork(pool, mapping)).toEqual([]);
  }, 120_000);

  it("a batch never waits on an application's row lock: the busy pair is deferred with its change time, the rest is repaired, and the application's next lock in another order does not deadlock", async () => {
    const db = database();
    const pool = db.pool;
    const run = (t: string, v?: readonly unknown[]) => pool.query(t, v as unknown[]).then((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 }));
    const mapping = await seedOriginal(run, 'cap_busy', 20);
    (await installCapture(pool, { mapping }))._unsafeUnwrap();
    // Two committed changes: user 5 (stored under PLAYER and LFA_COACH) and user 6.
    await pool.query(`UPDATE cap_busy.specialization_progress SET current_level = least(current_level + 2, 8) WHERE student_id IN (5, 6) AND specialization_id = 'LFA_COACH'`);
    expect(await pendingRows(pool, mapping)).toBe(2);
    const changedAt = (await pool.query(`SELECT changed_at::text AS at FROM cap_busy.levelsync_changes WHERE user_id = 5`)).rows[0].at as string;

    // An application transaction holds user 5's LFA_COACH progress row.
    const app = await pool.connect();
    try {
      await app.query('BEGIN');
      await app.query(`SELECT 1 FROM cap_busy.specialization_progress WHERE student_id = 5 AND specialization_id = 'LFA_COACH' FOR UPDATE`);
      const reconcilerPool = db.newPool({ max: 2 });
      const reconciler = createReconciler(reconcilerPool, { mapping, resolver: resolverFor(pool, mapping), batchSize: 50, resyncIntervalMs: 0 });
      // With a waiting lock this call would not return before the application commits.
      const batch = (await reconciler.processBatch())._unsafeUnwrap();
      expect(batch).toMatchObject({ changes: 2, deferred: 1 });
      expect(batch.repaired.map((k) => `${k.userId}/${k.specializationId}`)).toEqual(['6/LFA_COACH']);
      const queued = (await pool.query(`SELECT user_id, specialization_id, changed_at::text AS at FROM cap_busy.levelsync_changes`)).rows;
      expect(queued).toEqual([{ user_id: 5, specialization_id: 'LFA_COACH', at: changedAt }]);
      // The application goes on and locks user 5's other rows (another order than the reconciler's): no deadlock.
      await app.query(`UPDATE cap_busy.specialization_progress SET current_level = 1 WHERE student_id = 5 AND specialization_id IN ('PLAYER', 'LFA_COACH')`);
      await app.query(`UPDATE cap_busy.user_licenses SET current_level = 1 WHERE user_id = 5 AND specialization_type = 'GANCUJU_PLAYER'`);
      await app.query('COMMIT');
      await reconciler.drain();
      expect(await pendingRows(pool, mapping)).toBe(0);
      expect(await fullDiffNeedingWork(pool, mapping)).toEqual([]);
    } finally {
      app.release();
    }
  });

  it('4 reconcilers and 8 writers for 30 s: the final full diff is empty and every history row matches one applied license change', async () => {
    const db = database();
    const pool = db.pool;
    const run = (t: string, v?: readonly unknown[]) => pool.query(t, v as unknown[]).then((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 }));
    const mapping = await seedOriginal(run, 'cap_storm', 400);
    (await installCapture(pool, { mapping }))._unsafeUnwrap();
    const historyBefore = [...(await historyCounts(pool, mapping)).values()].reduce((a, b) => a + b, 0);
    const reconcilerPools = Array.from({ length: 4 }, () => db.newPool({ max: 2 }));
    let licenseChanges = 0;
    let stale = 0;
    const reconcilers = reconcilerPools.map((p) =>
      createReconciler(p, {
        mapping,
        resolver: resolverFor(pool, mapping),
        batchSize: 40,
        resyncIntervalMs: 0,
        onEvent: (e) => {
          if (e.type === 'batch') {
            licenseChanges += e.licenseChanges;
            stale += e.stale;
          }
        },
      }),
    );
    reconcilers.forEach((r) => r.start());
    const writerPool = db.newPool({ max: 8 });
    const until = Date.now() + 30_000;
    let writes = 0;
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (Date.now() < until) {
          const user = 1 + Math.floor(random() * 400);
          const level = 1 + Math.floor(random() * 8);
          if (random() < 0.7) {
            await writerPool.query(`UPDATE cap_storm.specialization_progress SET current_level = $2 WHERE student_id = $1 AND specialization_id IN ('LFA_COACH', 'GANCUJU_PLAYER', 'PLAYER')`, [user, level]);
          } else {
            await writerPool.query(
              `UPDATE cap_storm.user_licenses SET current_level = $2, max_achieved_level = greatest(max_achieved_level, $2) WHERE user_id = $1 AND specialization_type IN ('LFA_COACH', 'COACH')`,
              [user, level],
            );
          }
          writes++;
        }
      }),
    );
    await untilTrue('the reconcilers to catch up', async () => (await pendingRows(pool, mapping)) === 0, 60_000);
    await Promise.all(reconcilers.map((r) => r.stop()));
    expect(writes).toBeGreaterThan(500);
    expect(await fullDiffNeedingWork(pool, mapping)).toEqual([]);
    const historyAfter = [...(await historyCounts(pool, mapping)).values()].reduce((a, b) => a + b, 0);
    expect(historyAfter - historyBefore).toBe(licenseChanges);
    expect(licenseChanges).toBeGreaterThan(0);
    void stale;
  }, 120_000);

  it("a reconciler's connections terminated: it reports the failure, reconnects, and picks up every change committed meanwhile", async () => {
    const db = database();
    const pool = db.pool;
    const run = (t: string, v?: readonly unknown[]) => pool.query(t, v as unknown[]).then((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 }));
    const mapping = await seedOriginal(run, 'cap_term', 200);
    (await installCapture(pool, { mapping }))._unsafeUnwrap();
    const reconcilerPool = db.newPool({ max: 2, application_name: 'levelsync_cap_term_reconciler' });
    const events: ReconcilerEvent[] = [];
    const reconciler = createReconciler(reconcilerPool, { mapping, resolver: resolverFor(pool, mapping), batchSize: 10, resyncIntervalMs: 0, onEvent: (e) => events.push(e) });
    reconciler.start();
    for (let round = 0; round < 20; round++) {
      await pool.query(`UPDATE cap_term.specialization_progress SET current_level = least(current_level + 1, 8) WHERE student_id = $1 AND specialization_id = 'LFA_COACH'`, [round * 10 + 1]);
      await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'levelsync_cap_term_reconciler' AND pid <> pg_backend_pid()`);
      await sleep(30);
    }
    await untilTrue('the reconciler to catch up', async () => (await pendingRows(pool, mapping)) === 0, 60_000);
    await reconciler.stop();
    expect(events.some((e) => e.type === 'error')).toBe(true);
    expect(events.some((e) => e.type === 'recovered')).toBe(true);
    expect(await fullDiffNeedingWork(pool, mapping)).toEqual([]);
  }, 120_000);

  it('a changed maximum level invalidates a subscribed resolver; after a dropped connection it says so, reconnects and invalidates again', async () => {
    const db = database();
    const pool = db.pool;
    const run = (t: string, v?: readonly unknown[]) => pool.query(t, v as unknown[]).then((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 }));
    const mapping = await seedOriginal(run, 'cap_max', 5);
    (await installCapture(pool, { mapping }))._unsafeUnwrap();
    const listenPool = db.newPool({ max: 1, application_name: 'levelsync_cap_max_listener' });
    const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(pool, { mapping })], cache: { ttlMs: 600_000 } });
    const invalidated: (string | undefined)[] = [];
    const { logger, lines } = collectingLogger();
    const sub = createPgMaxLevelInvalidation(listenPool, { resolver, schema: 'cap_max', logger, reconnectMs: 100, onInvalidate: (id) => invalidated.push(id) });
    await sub.ready;
    expect((await resolver.resolve('LFA_COACH'))._unsafeUnwrap().maxLevel).toBe(8);
    await pool.query(`UPDATE cap_max.specializations SET max_levels = 5 WHERE id = 'LFA_COACH'`);
    await untilTrue('the invalidation', () => invalidated.includes('LFA_COACH'));
    expect((await resolver.resolve('LFA_COACH'))._unsafeUnwrap().maxLevel).toBe(5);
    await pool.query(`UPDATE cap_max.specializations SET name = 'renamed' WHERE id = 'INTERNSHIP'`); // no maximum changed: no notification

    await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'levelsync_cap_max_listener'`);
    await untilTrue('the disconnection to be reported', () => lines.some((l) => l.level === 'warn' && /expire by TTL/.test(l.message)));
    await untilTrue('the reconnection', () => sub.connected && lines.filter((l) => /listening/.test(l.message)).length >= 2);
    await pool.query(`UPDATE cap_max.specializations SET max_levels = 6 WHERE id = 'LFA_COACH'`);
    await untilTrue('the second invalidation', () => invalidated.filter((id) => id === 'LFA_COACH').length >= 2);
    expect((await resolver.resolve('LFA_COACH'))._unsafeUnwrap().maxLevel).toBe(6);
    expect(invalidated).not.toContain('INTERNSHIP');
    await sub.close();
  }, 60_000);
});
