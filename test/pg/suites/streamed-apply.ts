import { describe, expect, it } from 'vitest';
import { applyPlan, createMaxLevelResolver, createPlanStream, encodePlanLines, openDesyncScan, readPlanLines, scanDesyncs } from 'levelsync';
import { createLevelsyncMapping, createPgMaxLevelRepository, createPgSyncStore, migrate, upsertSpecializations, type PgConnection } from 'levelsync/pg';
import { dropSchema, type PgTestTarget } from './target.js';

/**
 * scan → plan → apply as one stream on a real database (what `levelsync sync --apply` does):
 * batches are written while the scan's cursor is still open (a pool session in a read-only
 * transaction on the server, a WITH HOLD cursor on PGlite's single session). Every pair is
 * repaired once, a re-scan finds nothing, and re-applying the plan as a file writes nothing.
 */
export function defineStreamedApply(target: PgTestTarget, prefix: string, n: number): void {
  describe(`${target.label}: streamed scan → plan → apply`, () => {
    it(`repairs ${n} pairs while the scan streams, then a re-applied plan file writes nothing`, async () => {
      const schema = `${prefix}_stream`;
      const mapping = createLevelsyncMapping({ schema })._unsafeUnwrap();
      const connection: PgConnection = target.connection();
      await dropSchema(connection, schema);
      (await migrate(connection, { schema }))._unsafeUnwrap();
      (await upsertSpecializations(connection, [{ id: 'LFA_COACH', maxLevel: 8 }], { mapping }))._unsafeUnwrap();
      // 80 % license one behind, 10 % no license, 10 % no progress.
      await connection.run(
        `INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 3 FROM generate_series(1, $1::int4) AS u WHERE u % 10 <> 9`,
        [n],
      );
      await connection.run(
        `INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level)
         SELECT u, 'LFA_COACH', CASE WHEN u % 10 = 9 THEN 4 ELSE 2 END, 4 FROM generate_series(1, $1::int4) AS u WHERE u % 10 <> 8`,
        [n],
      );
      const store = createPgSyncStore(connection, { mapping, pageSize: 100 });
      const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(connection, { mapping })] });

      const scan = (await openDesyncScan(store, { resolver, pageSize: 100 }))._unsafeUnwrap();
      const plan = createPlanStream(scan)._unsafeUnwrap();
      const report = (await applyPlan(plan, store, { batchSize: 75 }))._unsafeUnwrap();
      expect(report.status).toBe('Completed');
      expect(report.counts).toMatchObject({ Applied: n, Stale: 0, Failed: 0, total: n });
      expect(report.batches.length).toBeGreaterThanOrEqual(Math.floor(n / 75));
      expect(report.planFingerprint).toBe(plan.trailer()!.fingerprint);
      expect((await scanDesyncs(store, { resolver }))._unsafeUnwrap().desyncs).toEqual([]);
      const history = async () => (await connection.run(`SELECT count(*)::int4 AS n FROM "${schema}".license_progressions`)).rows[0]!['n'];
      const written = await history();
      expect(written).toBe(n - Math.floor((n + 1) / 10));

      // New drift (a third of the licenses back to level 1), planned into a plan file applied twice.
      await connection.run(`UPDATE "${schema}".licenses SET level = 1, max_achieved_level = 4 WHERE user_id % 3 = 0`);
      const again = createPlanStream((await openDesyncScan(store, { resolver }))._unsafeUnwrap())._unsafeUnwrap();
      let text = '';
      for await (const piece of encodePlanLines(again)) text += piece._unsafeUnwrap();
      const lines = () => text.trimEnd().split('\n');
      const first = (await applyPlan((await readPlanLines(lines))._unsafeUnwrap(), store, { batchSize: 75 }))._unsafeUnwrap();
      expect(first.counts.Applied).toBeGreaterThan(0);
      const afterFirst = await history();
      const second = (await applyPlan((await readPlanLines(lines))._unsafeUnwrap(), store, { batchSize: 75 }))._unsafeUnwrap();
      // Every record already holds what the plan writes: AlreadyApplied, nothing stale, nothing written.
      expect(second.counts).toMatchObject({ Applied: 0, Stale: 0, AlreadyApplied: first.counts.Applied });
      expect(await history()).toBe(afterFirst);
      console.info(`[streamed apply] ${target.label}: ${n} pairs in ${report.batches.length} batches while scanning; re-apply: ${second.counts.AlreadyApplied} already applied, 0 written`);
    });
  });
}
