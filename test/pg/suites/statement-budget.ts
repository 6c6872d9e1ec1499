import { describe, expect, it } from 'vitest';
import { applyPlan, createMaxLevelResolver, createPlan, scanDesyncs } from 'levelsync';
import { createLevelsyncMapping, createPgMaxLevelRepository, createPgSyncStore, migrate, upsertSpecializations, type PgConnection } from 'levelsync/pg';
import type { CountingConnection } from '../../support/counting-client.js';
import { dropSchema, type PgTestTarget } from './target.js';

/**
 * Round trips are O(N / chunk): repairing N pairs with `applyPlan` issues at most
 * 2·⌈N/chunk⌉ + 5 statements (counted on every session of the connection), and the repair is
 * complete (a re-scan finds nothing). On a server each batch adds four with the defaults: the
 * run lock confirmed on its session (`SELECT 1`) and the default lock timeout's transaction
 * (BEGIN, set_config, COMMIT); with `lockTimeoutMs: 0` (the CLI, whose sessions carry
 * `lock_timeout`) only the first.
 */
export function defineStatementBudget(
  target: PgTestTarget,
  prefix: string,
  counting: () => CountingConnection,
  sizes: { readonly pairs: number; readonly chunk: number },
): void {
  describe(`${target.label}: statement budget`, () => {
    it(`repairs ${sizes.pairs} pairs in at most ${target.server ? 6 : 2}·⌈N/${sizes.chunk}⌉ + 5 statements`, async () => {
      const schema = `${prefix}_budget`;
      const mapping = createLevelsyncMapping({ schema })._unsafeUnwrap();
      const plain: PgConnection = target.connection();
      await dropSchema(plain, schema);
      (await migrate(plain, { schema }))._unsafeUnwrap();
      (await upsertSpecializations(plain, [{ id: 'GANCUJU_PLAYER', maxLevel: 8 }, { id: 'LFA_COACH', maxLevel: 8 }, { id: 'INTERNSHIP', maxLevel: 3 }], { mapping }))._unsafeUnwrap();
      // N users, one pair each: 80 % level mismatches, 10 % missing licenses, 10 % missing progress.
      const n = sizes.pairs;
      await plain.run(
        `INSERT INTO "${schema}".progress (user_id, specialization_id, level, xp, sessions)
         SELECT u, 'LFA_COACH', 3, u * 10, u % 30 FROM generate_series(1, $1::int4) AS u WHERE u % 10 <> 9`,
        [n],
      );
      await plain.run(
        `INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level)
         SELECT u, 'LFA_COACH', CASE WHEN u % 10 = 9 THEN 4 ELSE 2 END, 4 FROM generate_series(1, $1::int4) AS u WHERE u % 10 <> 8`,
        [n],
      );

      const { connection, statements, reset } = counting();
      const store = createPgSyncStore(connection, { mapping });
      const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(connection, { mapping })] });
      const scan = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
      const plan = createPlan(scan)._unsafeUnwrap();
      expect(plan.summary.pairs).toBe(n);
      expect(plan.actions).toHaveLength(n);

      reset();
      const report = (await applyPlan(plan, store, { batchSize: sizes.chunk }))._unsafeUnwrap();
      const used = statements.length;
      expect(report.counts.Applied).toBe(n);
      expect(report.status).toBe('Completed');
      const batches = Math.ceil(n / sizes.chunk);
      const perBatchOnServer = target.server ? 1 + 3 : 0; // run-lock check; BEGIN, set_config(lock_timeout), COMMIT
      const budget = (2 + perBatchOnServer) * batches + 5;
      expect(used).toBeLessThanOrEqual(budget);
      if (target.server) {
        expect(statements.filter((s) => s.text === 'SELECT 1')).toHaveLength(batches);
        expect(statements.filter((s) => s.text.startsWith(`SELECT set_config('lock_timeout'`))).toHaveLength(batches);
      }
      expect(statements.filter((s) => s.text.startsWith('WITH action AS'))).toHaveLength(Math.ceil(n / sizes.chunk));
      console.info(`[statement budget] ${target.label}: ${n} pairs, chunk ${sizes.chunk}: ${used} statements (budget ${budget})`);

      const history = await plain.run(`SELECT count(*)::int4 AS n FROM "${schema}".license_progressions`);
      // Every mismatch raises a license (2 → 3) and every missing license is created: one row each.
      expect(history.rows[0]!['n']).toBe(n - Math.floor((n + 1) / 10));
      const again = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
      expect(again.desyncs).toEqual([]);
    });
  });
}
