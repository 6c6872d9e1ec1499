import { describe, expect, it } from 'vitest';
import { createMaxLevelResolver, syncPair } from 'levelsync';
import { createLevelsyncMapping, createPgMaxLevelRepository, createPgSyncStore, migrate, pgClient, upsertSpecializations, type PgMapping, type SqlQueryable } from 'levelsync/pg';
import { snapshotMapped } from '../../support/pg-store-harness.js';
import { dropSchema, type PgTestTarget } from './target.js';

/**
 * Runs `fn` inside a transaction the caller owns, on one session: a checked-out pool client
 * with BEGIN/COMMIT (server), or `db.transaction()` (PGlite). `outcome` decides commit or rollback.
 */
export type CallerTransaction = (fn: (client: SqlQueryable) => Promise<void>, outcome: 'commit' | 'rollback') => Promise<void>;

/** `syncPair` inside the caller's transaction: commit keeps both writes, rollback keeps neither. */
export function defineCallerTransaction(target: PgTestTarget, prefix: string, inTransaction: CallerTransaction): void {
  describe(`${target.label}: syncPair inside the caller's transaction`, () => {
    const schema = `${prefix}_hook`;
    let mapping: PgMapping;
    const setup = async () => {
      const connection = target.connection();
      await dropSchema(connection, schema);
      (await migrate(connection, { schema }))._unsafeUnwrap();
      mapping = createLevelsyncMapping({ schema })._unsafeUnwrap();
      (await upsertSpecializations(connection, [{ id: 'LFA_COACH', maxLevel: 8 }], { mapping }))._unsafeUnwrap();
      await connection.run(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) VALUES (42, 'LFA_COACH', 2)`);
      await connection.run(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) VALUES (42, 'LFA_COACH', 2, 2)`);
    };
    const hook = async (client: SqlQueryable) => {
      const seen: string[] = [];
      const recording: SqlQueryable = {
        query: (text: string, values?: unknown[]) => {
          seen.push(text);
          return client.query(text, values);
        },
      };
      // The service records a level-up, then syncs the pair in the same transaction.
      await client.query(`UPDATE "${schema}".progress SET level = 3 WHERE user_id = 42 AND specialization_id = 'LFA_COACH'`);
      const store = createPgSyncStore(pgClient(recording), { mapping });
      const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(pgClient(recording), { mapping })] });
      const report = (await syncPair(store, { userId: 42, specializationId: 'LFA_COACH' }, { resolver, policy: { direction: 'progress-to-license' } }))._unsafeUnwrap();
      expect(report).toMatchObject({ inSync: true, outcomes: ['Applied'] });
      expect(seen.some((text) => /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT)/i.test(text))).toBe(false);
      expect(seen.some((text) => text.includes('FOR UPDATE'))).toBe(true);
    };

    it('commit keeps the level-up and the license write (with its history row)', async () => {
      await setup();
      await inTransaction(hook, 'commit');
      const snapshot = await snapshotMapped(target.connection().run, mapping);
      expect(snapshot.progress[0]).toMatchObject({ level: 3 });
      expect(snapshot.licenses[0]).toMatchObject({ level: 3, maxAchievedLevel: 3 });
      expect(snapshot.progressions).toMatchObject([{ userId: 42, fromLevel: 2, toLevel: 3 }]);
    });

    it('rollback keeps neither', async () => {
      await setup();
      await inTransaction(hook, 'rollback');
      const snapshot = await snapshotMapped(target.connection().run, mapping);
      expect(snapshot.progress[0]).toMatchObject({ level: 2 });
      expect(snapshot.licenses[0]).toMatchObject({ level: 2, maxAchievedLevel: 2 });
      expect(snapshot.progressions).toEqual([]);
    });
  });
}
