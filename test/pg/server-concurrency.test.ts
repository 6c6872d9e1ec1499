import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyPlan, createMaxLevelResolver, createPlan, scanDesyncs, syncPair, type SyncPlan, type WriteAction } from 'levelsync';
import {
  createLevelsyncMapping,
  createPgMapping,
  createPgMaxLevelRepository,
  createPgSyncStore,
  migrate,
  ORIGINAL_SYSTEM_MAPPING,
  pgClient,
  pgPool,
  upsertSpecializations,
  type PgMapping,
  type PgSyncStore,
} from 'levelsync/pg';
import { createOriginalSchema, ensureOriginalUsers } from '../support/original-schema.js';
import { describeWithServer, useTestDatabase, type TestDatabase } from '../support/postgres-server.js';

// Concurrency as PostgreSQL really does it (READ COMMITTED, row locks, advisory locks): only on
// the server. PGlite has one session, where none of this can be observed.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freshSchema(db: TestDatabase, schema: string): Promise<PgMapping> {
  await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  (await migrate(db.pool, { schema }))._unsafeUnwrap();
  const mapping = createLevelsyncMapping({ schema })._unsafeUnwrap();
  (await upsertSpecializations(db.pool, [{ id: 'LFA_COACH', maxLevel: 8 }, { id: 'INTERNSHIP', maxLevel: 3 }], { mapping }))._unsafeUnwrap();
  return mapping;
}

async function planFor(store: PgSyncStore, mapping: PgMapping): Promise<SyncPlan> {
  const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(store.connection, { mapping })] });
  const scan = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
  return createPlan(scan)._unsafeUnwrap();
}

/** Re-scans, re-plans and re-applies until nothing is left (at most 3 rounds); returns the desyncs left. */
async function converge(store: PgSyncStore, mapping: PgMapping): Promise<number> {
  for (let round = 0; round < 3; round++) {
    const plan = await planFor(store, mapping);
    if (plan.actions.length === 0) return 0;
    (await applyPlan(plan, store, { lock: 'wait' }))._unsafeUnwrap();
  }
  return (await planFor(store, mapping)).actions.length;
}

/** Waits until a backend of `applicationName` is waiting on a lock; returns its pid. */
async function waitForLockWait(admin: pg.Pool, applicationName: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const result = await admin.query(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`,
      [applicationName],
    );
    if (result.rows.length > 0) return result.rows[0].pid as number;
    await sleep(25);
  }
  throw new Error(`no backend of ${applicationName} ever waited on a lock`);
}

describeWithServer('levelsync/pg on PostgreSQL: concurrency', () => {
  const database = useTestDatabase('concurrency');

  describe('run locks between bulk runs', () => {
    let mapping: PgMapping;
    beforeAll(async () => {
      mapping = await freshSchema(database(), 'conc_lock');
      const s = '"conc_lock"';
      await database().pool.query(`INSERT INTO ${s}.progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 3 FROM generate_series(1, 300) u`);
      await database().pool.query(`INSERT INTO ${s}.licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 2, 2 FROM generate_series(1, 300) u`);
    });

    it('a second bulk run gets RunInProgress; with lock: wait it waits, then finds everything applied', async () => {
      const db = database();
      const storeA = createPgSyncStore(db.newPool({ application_name: 'bulk-a' }), { mapping });
      const storeB = createPgSyncStore(db.newPool({ application_name: 'bulk-b' }), { mapping });
      const plan = await planFor(storeA, mapping);
      expect(plan.actions).toHaveLength(300);

      // Hold a row of A's first batch so that A stays inside its run.
      const blocker = await db.pool.connect();
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM "conc_lock".licenses WHERE user_id = 10 FOR UPDATE`);
      const runA = applyPlan(plan, storeA, { batchSize: 100 });
      await waitForLockWait(db.pool, 'bulk-a');

      const refused = await applyPlan(plan, storeB);
      expect(refused._unsafeUnwrapErr()).toMatchObject({ _tag: 'RunInProgress', scope: 'all' });
      const shard = await storeB.acquireRunLock({ shard: { index: 0, count: 4 } });
      expect(shard._unsafeUnwrapErr()._tag).toBe('RunInProgress');

      let waitedDone = false;
      const runC = applyPlan(plan, storeB, { lock: 'wait' }).map((report) => {
        waitedDone = true;
        return report;
      });
      await sleep(300);
      expect(waitedDone).toBe(false);

      await blocker.query('COMMIT');
      blocker.release();
      const a = (await runA)._unsafeUnwrap();
      expect(a).toMatchObject({ status: 'Completed', counts: { Applied: 300 } });
      const c = (await runC)._unsafeUnwrap();
      // The waiting run finds every pair already in the state its plan writes: AlreadyApplied, not Stale.
      expect(c).toMatchObject({ status: 'Completed', counts: { Applied: 0, Stale: 0, AlreadyApplied: 300 } });
      const history = await db.pool.query(`SELECT count(*)::int AS n FROM "conc_lock".license_progressions`);
      expect(history.rows[0].n).toBe(300);
    });

    it('shards of one run proceed side by side; the same shard twice does not', async () => {
      const db = database();
      const a = createPgSyncStore(db.newPool({ max: 2 }), { mapping });
      const b = createPgSyncStore(db.newPool({ max: 2 }), { mapping });
      const first = (await a.acquireRunLock({ shard: { index: 0, count: 2 } }))._unsafeUnwrap();
      const second = (await b.acquireRunLock({ shard: { index: 1, count: 2 } }))._unsafeUnwrap();
      expect((await b.acquireRunLock({ shard: { index: 0, count: 2 } }))._unsafeUnwrapErr()._tag).toBe('RunInProgress');
      expect((await b.acquireRunLock({}))._unsafeUnwrapErr()._tag).toBe('RunInProgress');
      // Another schema in the same database is another namespace: not blocked.
      const otherMapping = createLevelsyncMapping({ schema: 'conc_other' })._unsafeUnwrap();
      const other = (await createPgSyncStore(db.pool, { mapping: otherMapping }).acquireRunLock({}))._unsafeUnwrap();
      await other.release();
      await first.release();
      await second.release();
      (await (await b.acquireRunLock({}))._unsafeUnwrap()).release();
    });
  });

  describe('a bulk apply racing syncPair hooks and plain level updates', () => {
    const schema = 'conc_race';
    const s = `"${schema}"`;
    let mapping: PgMapping;
    const USERS = 1_500;

    beforeAll(async () => {
      mapping = await freshSchema(database(), schema);
      const pool = database().pool;
      await pool.query(`CREATE TABLE ${s}.audit (
        seq bigserial PRIMARY KEY, tbl text NOT NULL, row_id bigint NOT NULL, op text NOT NULL, user_id bigint NOT NULL,
        old_level int, new_level int, source text NOT NULL)`);
      await pool.query(`CREATE FUNCTION ${s}.audit_level() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            INSERT INTO ${s}.audit (tbl, row_id, op, user_id, old_level, new_level, source)
            VALUES (TG_TABLE_NAME, NEW.id, 'INSERT', NEW.user_id, NULL, NEW.level, current_setting('application_name'));
          ELSE
            INSERT INTO ${s}.audit (tbl, row_id, op, user_id, old_level, new_level, source)
            VALUES (TG_TABLE_NAME, NEW.id, 'UPDATE', NEW.user_id, OLD.level, NEW.level, current_setting('application_name'));
          END IF;
          RETURN NEW;
        END $$`);
      for (const table of ['progress', 'licenses']) {
        await pool.query(`CREATE TRIGGER audit_level AFTER INSERT OR UPDATE ON ${s}.${table} FOR EACH ROW EXECUTE FUNCTION ${s}.audit_level()`);
      }
      // 70 % level mismatches, 10 % missing licenses, 10 % missing progress, 10 % in sync.
      await pool.query(`SET application_name = 'seed'`);
      await pool.query(
        `INSERT INTO ${s}.progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 1 + (u * 7) % 6 FROM generate_series(1, $1::int) u WHERE u % 10 <> 9`,
        [USERS],
      );
      await pool.query(
        `INSERT INTO ${s}.licenses (user_id, specialization_id, level, max_achieved_level)
         SELECT u, 'LFA_COACH', l, l FROM (SELECT u, CASE WHEN u % 10 = 7 THEN 1 + (u * 7) % 6 ELSE 1 + (u * 5) % 6 END AS l FROM generate_series(1, $1::int) u) x
         WHERE u % 10 <> 8`,
        [USERS],
      );
    });

    it('leaves no duplicate, loses no update, writes one history row per license level change, and converges', async () => {
      const db = database();
      const bulkStore = createPgSyncStore(db.newPool({ application_name: 'bulk', max: 3 }), { mapping });
      const hookPool = db.newPool({ application_name: 'hook', max: 6 });
      const plainPool = db.newPool({ application_name: 'plain', max: 4 });
      const plan = await planFor(bulkStore, mapping);
      expect(plan.actions.length).toBeGreaterThan(USERS * 0.5);
      const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(db.pool, { mapping })] });
      const random = (n: number, seed: { x: number }) => {
        seed.x = (seed.x * 1_103_515_245 + 12_345) % 2_147_483_648;
        return 1 + (seed.x % n);
      };

      const hookErrors: string[] = [];
      const hooks = Array.from({ length: 4 }, async (_, worker) => {
        const seed = { x: worker + 1 };
        for (let i = 0; i < 50; i++) {
          const userId = random(USERS, seed);
          const client = await hookPool.connect();
          try {
            await client.query('BEGIN');
            await client.query(`UPDATE ${s}.progress SET level = least(level + 1, 8) WHERE user_id = $1 AND specialization_id = 'LFA_COACH'`, [userId]);
            const store = createPgSyncStore(pgClient(client), { mapping });
            const result = await syncPair(store, { userId, specializationId: 'LFA_COACH' }, { resolver, policy: { direction: 'progress-to-license' } });
            if (result.isErr()) {
              hookErrors.push(result.error.message);
              await client.query('ROLLBACK');
            } else {
              await client.query('COMMIT');
            }
          } finally {
            client.release();
          }
        }
      });
      const plain = Array.from({ length: 3 }, async (_, worker) => {
        const seed = { x: 100 + worker };
        for (let i = 0; i < 80; i++) {
          const userId = random(USERS, seed);
          const level = random(8, seed);
          await plainPool.query(
            `UPDATE ${s}.licenses SET level = $2, max_achieved_level = greatest(max_achieved_level, $2) WHERE user_id = $1 AND specialization_id = 'LFA_COACH'`,
            [userId, level],
          );
        }
      });
      const bulk = applyPlan(plan, bulkStore, { batchSize: 150 });
      const [report] = await Promise.all([bulk, ...hooks, ...plain]);
      const applied = report._unsafeUnwrap();
      expect(applied.counts.Failed).toBe(0);
      expect(hookErrors).toEqual([]);

      // No duplicate rows.
      for (const table of ['progress', 'licenses']) {
        const dups = await db.pool.query(`SELECT user_id FROM ${s}.${table} GROUP BY user_id, specialization_id HAVING count(*) > 1`);
        expect(dups.rows).toEqual([]);
      }

      const audit = (await db.pool.query(`SELECT * FROM ${s}.audit WHERE source <> 'seed' ORDER BY seq`)).rows as {
        seq: string;
        tbl: string;
        row_id: string;
        op: string;
        user_id: string;
        old_level: number | null;
        new_level: number;
        source: string;
      }[];

      // Exactly one history row per license level change made by levelsync (bulk or hook), none for plain updates.
      const changes = audit
        .filter((a) => a.tbl === 'licenses' && a.source !== 'plain' && (a.op === 'INSERT' || a.old_level !== a.new_level))
        .map((a) => `${a.row_id}:${a.op === 'INSERT' ? 'null' : a.old_level}->${a.new_level}`)
        .sort();
      const history = (await db.pool.query(`SELECT license_id, from_level, to_level FROM ${s}.license_progressions`)).rows
        .map((h) => `${h.license_id}:${h.from_level ?? 'null'}->${h.to_level}`)
        .sort();
      expect(history).toEqual(changes);
      expect(audit.some((a) => a.source === 'plain')).toBe(true);
      expect(audit.some((a) => a.source === 'hook')).toBe(true);

      // No lost update: every bulk write found exactly the state its action expected (compare-and-set),
      // and every stale action wrote nothing.
      const bulkWrites = audit.filter((a) => a.source === 'bulk');
      const actionByKey = new Map<string, { action: WriteAction; status: string }>();
      plan.actions.forEach((action, index) => {
        if (action.kind === 'FlagForReview') return;
        const side = action.kind === 'SetProgressLevel' || action.kind === 'CreateProgress' ? 'progress' : 'licenses';
        actionByKey.set(`${side}:${action.userId}`, { action, status: applied.outcomes[index]!.status });
      });
      for (const write of bulkWrites) {
        const entry = actionByKey.get(`${write.tbl}:${write.user_id}`);
        expect(entry?.status).toBe('Applied');
        const { action } = entry!;
        if (write.op === 'UPDATE') {
          const expected = write.tbl === 'licenses' ? action.expected.license?.level : action.expected.progress?.level;
          expect(write.old_level).toBe(expected);
        }
        expect(write.new_level).toBe(action.write.level);
      }
      const appliedCount = applied.outcomes.filter((o) => o.status === 'Applied').length;
      expect(bulkWrites).toHaveLength(appliedCount);
      expect(applied.counts.Stale).toBeGreaterThan(0);

      // Every plain update either survived or the next writer of that row saw it.
      const finalLevels = new Map(
        (await db.pool.query(`SELECT id, level FROM ${s}.licenses`)).rows.map((r) => [String(r.id), r.level as number]),
      );
      for (const update of audit.filter((a) => a.source === 'plain')) {
        const next = audit.find((a) => a.tbl === 'licenses' && a.row_id === update.row_id && BigInt(a.seq) > BigInt(update.seq));
        if (next) expect(next.old_level).toBe(update.new_level);
        else expect(finalLevels.get(update.row_id)).toBe(update.new_level);
      }

      // A re-run converges.
      expect(await converge(bulkStore, mapping)).toBe(0);
    }, 120_000);
  });

  describe('creations without a unique key', () => {
    it('a bulk CreateLicense racing a hook creating the same license inserts it once (pair advisory lock)', async () => {
      const db = database();
      const schema = 'conc_nokey';
      await createOriginalSchema(pgPool(db.pool).run, { schema, uniqueKeys: false });
      const mapping = createPgMapping({ schema }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
      await ensureOriginalUsers(pgPool(db.pool).run, schema, [1]);
      await db.pool.query(`INSERT INTO "${schema}".specializations (id, name, max_levels) VALUES ('LFA_COACH', 'Coach', 8)`);
      await db.pool.query(`INSERT INTO "${schema}".specialization_progress (student_id, specialization_id, current_level) VALUES (1, 'LFA_COACH', 3)`);
      const bulk = createPgSyncStore(db.newPool({ application_name: 'bulk-nokey', max: 2 }), { mapping });
      expect((await bulk.tableFacts())._unsafeUnwrap().licenses.uniqueKey).toBe(false);
      const plan = await planFor(bulk, mapping);
      expect(plan.actions.map((a) => a.kind)).toEqual(['CreateLicense']);
      const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(db.pool, { mapping })] });

      // The hook creates the license in its own transaction and has not committed yet.
      const hook = await db.pool.connect();
      await hook.query('BEGIN');
      const synced = (await syncPair(createPgSyncStore(pgClient(hook), { mapping }), { userId: 1, specializationId: 'LFA_COACH' }, { resolver }))._unsafeUnwrap();
      expect(synced.outcomes).toEqual(['Applied']);
      const applying = applyPlan(plan, bulk);
      await waitForLockWait(db.pool, 'bulk-nokey');
      await hook.query('COMMIT');
      hook.release();
      const report = (await applying)._unsafeUnwrap();
      // The hook created exactly the license the plan creates: AlreadyApplied, and no second one.
      expect(report.counts).toMatchObject({ Applied: 0, Stale: 0, AlreadyApplied: 1 });
      const licenses = await db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".user_licenses WHERE user_id = 1`);
      const history = await db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".license_progressions`);
      expect([licenses.rows[0].n, history.rows[0].n]).toEqual([1, 1]);
    });
  });

  describe('a terminated session levelsync holds', () => {
    it('the run-lock session ending while idle does not crash the process; release() still resolves', async () => {
      const db = database();
      const mapping = createLevelsyncMapping({ schema: 'conc_lock_lost' })._unsafeUnwrap();
      const pool = db.newPool({ application_name: 'lock-holder', max: 2 });
      const store = createPgSyncStore(pool, { mapping });
      const lock = (await store.acquireRunLock({}))._unsafeUnwrap();
      const holder = await db.pool.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lock-holder' AND query ILIKE '%advisory%'`);
      expect(holder.rows).toHaveLength(1);
      await db.pool.query('SELECT pg_terminate_backend($1)', [holder.rows[0].pid]);
      await sleep(300); // node-postgres reports the end of the connection as an 'error' event
      await lock.release();
      // The lock died with its session: another run can take it.
      (await (await store.acquireRunLock({}))._unsafeUnwrap()).release();
    });
  });

  describe('a connection terminated mid-batch', () => {
    it('rolls that batch back whole (no partial writes, no orphan history) and a re-run converges', async () => {
      const db = database();
      const mapping = await freshSchema(db, 'conc_kill');
      const s = '"conc_kill"';
      await db.pool.query(`INSERT INTO ${s}.progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 3 FROM generate_series(1, 300) u`);
      await db.pool.query(`INSERT INTO ${s}.licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 2, 2 FROM generate_series(1, 300) u`);
      await db.pool.query(`INSERT INTO ${s}.progress (user_id, specialization_id, level) SELECT u, 'INTERNSHIP', 2 FROM generate_series(1, 100) u`);
      const victim = createPgSyncStore(db.newPool({ application_name: 'victim', max: 3 }), { mapping });
      const plan = await planFor(victim, mapping);
      expect(plan.actions).toHaveLength(400);

      // The first batch (users 1–100, both specializations) waits on a row we hold; then its backend is killed.
      const blocker = await db.pool.connect();
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM ${s}.licenses WHERE user_id = 60 FOR UPDATE`);
      const run = applyPlan(plan, victim, { batchSize: 200, onBatchFailure: 'continue' });
      const pid = await waitForLockWait(db.pool, 'victim');
      await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      const report = (await run)._unsafeUnwrap();
      await blocker.query('ROLLBACK');
      blocker.release();

      expect(report.status).toBe('CompletedWithFailures');
      expect(report.batches.map((b) => b.status)).toEqual(['Failed', 'Applied']);
      expect(report.batches[0]!.error?._tag).toBe('StoreUnavailable');
      const inFailedBatch = plan.actions.filter((_, i) => report.outcomes[i]!.batch === 0);
      const failedUsers = inFailedBatch.map((a) => Number(a.userId));
      const failedRaises = inFailedBatch.filter((a) => a.kind === 'SetLicenseLevel').map((a) => Number(a.userId));
      expect(failedRaises.length).toBeGreaterThan(0);
      // Nothing of the failed batch was written: its licenses are still at level 2, its new licenses absent, no history.
      const untouched = await db.pool.query(
        `SELECT count(*)::int AS n FROM ${s}.licenses WHERE user_id = ANY($1::bigint[]) AND specialization_id = 'LFA_COACH' AND level = 2`,
        [failedRaises],
      );
      expect(untouched.rows[0].n).toBe(failedRaises.length);
      const created = await db.pool.query(`SELECT count(*)::int AS n FROM ${s}.licenses WHERE specialization_id = 'INTERNSHIP'`);
      expect(created.rows[0].n).toBe(0);
      const orphans = await db.pool.query(
        `SELECT count(*)::int AS n FROM ${s}.license_progressions h JOIN ${s}.licenses l ON l.id = h.license_id WHERE l.user_id = ANY($1::bigint[])`,
        [failedUsers],
      );
      expect(orphans.rows[0].n).toBe(0);

      expect(await converge(createPgSyncStore(pgPool(db.pool), { mapping }), mapping)).toBe(0);
      const history = await db.pool.query(`SELECT count(*)::int AS n FROM ${s}.license_progressions`);
      expect(history.rows[0].n).toBe(400); // one per license level change: 300 raises + 100 creations
    }, 60_000);
  });
});
