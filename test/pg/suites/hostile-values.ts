import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { shardOf, type WriteAction } from 'levelsync';
import {
  cleanupDuplicates,
  createLevelsyncMapping,
  createPgMaxLevelRepository,
  createPgSyncStore,
  migrate,
  upsertSpecializations,
  type PgMapping,
} from 'levelsync/pg';
import { snapshotMapped } from '../../support/pg-store-harness.js';
import { dropSchema, type PgTestTarget } from './target.js';

const HOSTILE_IDS = [
  `1'; DROP TABLE levelsync.licenses;--`,
  `"; DELETE FROM progress; --`,
  `back\\slash`,
  `{braces,commas}`,
  `NULL`,
  `  spaced  `,
  `ünï©ødé 日本 😀`,
  `$1::text`,
];

/** SQL text as values is stored verbatim (every value is a parameter); credentials never leak. */
export function defineHostileValues(target: PgTestTarget, prefix: string): void {
  describe(`${target.label}: hostile values`, () => {
    it('stores SQL text given as user ids and reasons verbatim, and finds it again', async () => {
      const schema = `${prefix}_hostile`;
      const mapping: PgMapping = createLevelsyncMapping({ schema, userIdType: 'text' })._unsafeUnwrap();
      const connection = target.connection();
      await dropSchema(connection, schema);
      (await migrate(connection, { schema, userIdType: 'text' }))._unsafeUnwrap();
      (await upsertSpecializations(connection, [{ id: 'LFA_COACH', maxLevel: 8, name: `Coach'); DROP TABLE x; --` }], { mapping }))._unsafeUnwrap();
      const store = createPgSyncStore(connection, { mapping });
      const reason = `'); DELETE FROM "${schema}".licenses; --`;
      const actions: WriteAction[] = HOSTILE_IDS.flatMap((userId): WriteAction[] => [
        {
          userId,
          specializationId: 'LFA_COACH',
          expected: { progress: null, license: null },
          kind: 'CreateProgress',
          write: { specializationId: 'LFA_COACH', level: 2 },
          reason,
        },
      ]);
      expect((await store.applyBatch(actions, { actor: HOSTILE_IDS[0]!, now: new Date(), aliases: new Map() }))._unsafeUnwrap()).toEqual(actions.map(() => 'Applied'));
      const licenses: WriteAction[] = HOSTILE_IDS.map((userId) => ({
        userId,
        specializationId: 'LFA_COACH',
        expected: { progress: { specializationId: 'LFA_COACH', level: 2 }, license: null },
        kind: 'CreateLicense',
        write: { specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 },
        reason,
        evidence: `evidence'; --`,
      }));
      expect((await store.applyBatch(licenses, { actor: HOSTILE_IDS[1]!, now: new Date(), aliases: new Map() }))._unsafeUnwrap()).toEqual(licenses.map(() => 'Applied'));

      const snapshot = await snapshotMapped(connection.run, mapping);
      expect(snapshot.progress.map((r) => r.userId).sort()).toEqual([...HOSTILE_IDS].sort());
      expect(snapshot.licenses.map((r) => r.userId).sort()).toEqual([...HOSTILE_IDS].sort());
      expect(snapshot.progressions).toHaveLength(HOSTILE_IDS.length);
      for (const row of snapshot.progressions) {
        expect(row).toMatchObject({ reason, evidence: `evidence'; --`, advancedBy: HOSTILE_IDS[1] });
      }
      const pair = (await store.readPair({ userId: HOSTILE_IDS[0]!, specializationId: 'LFA_COACH' }))._unsafeUnwrap();
      expect(pair).toMatchObject({ userId: HOSTILE_IDS[0], licenses: [{ level: 2 }], progress: [{ level: 2 }] });
      let found = 0;
      for (let index = 0; index < 3; index++) {
        for await (const page of store.scanPairs({ shard: { index, count: 3 }, userIds: HOSTILE_IDS })) {
          for (const p of page._unsafeUnwrap()) {
            expect(shardOf(p.userId, 3)).toBe(index);
            found++;
          }
        }
      }
      expect(found).toBe(HOSTILE_IDS.length);
      const name = await connection.run(`SELECT name FROM "${schema}".specializations WHERE id = 'LFA_COACH'`);
      expect(name.rows[0]!['name']).toBe(`Coach'); DROP TABLE x; --`);
    });

    it('never puts the password of a failing connection string in an error message', async () => {
      const pool = new pg.Pool({ connectionString: 'postgres://levelsync:secret-password@127.0.0.1:1/levelsync', connectionTimeoutMillis: 2_000 });
      pool.on('error', () => {});
      try {
        const store = createPgSyncStore(pool);
        const messages: string[] = [];
        const logged: string[] = [];
        const logger = { debug: () => {}, info: () => {}, warn: (_: object, m?: string) => void logged.push(m ?? ''), error: (_: object, m?: string) => void logged.push(m ?? '') };
        const noisy = createPgSyncStore(pool, { logger });
        for await (const page of noisy.scanPairs({})) messages.push(page._unsafeUnwrapErr().message);
        for await (const page of store.scanDifferingPairs!({ maxLevels: new Map() })) messages.push(page._unsafeUnwrapErr().message);
        messages.push((await store.countPairs({}))._unsafeUnwrapErr().message);
        messages.push((await store.readPair({ userId: 1, specializationId: 'LFA_COACH' }))._unsafeUnwrapErr().message);
        const action: WriteAction = {
          userId: 1,
          specializationId: 'LFA_COACH',
          expected: { progress: null, license: null },
          kind: 'CreateProgress',
          write: { specializationId: 'LFA_COACH', level: 1 },
          reason: 'r',
        };
        messages.push((await store.applyBatch([action], { actor: null, now: new Date(), aliases: new Map() }))._unsafeUnwrapErr().message);
        messages.push((await store.acquireRunLock({}))._unsafeUnwrapErr().message);
        messages.push((await migrate(pool))._unsafeUnwrapErr().message);
        messages.push((await cleanupDuplicates(pool))._unsafeUnwrapErr().message);
        messages.push((await upsertSpecializations(pool, [{ id: 'X', maxLevel: 1 }]))._unsafeUnwrapErr().message);
        messages.push((await createPgMaxLevelRepository(pool).findMaxLevel('X'))._unsafeUnwrapErr().message);
        expect(messages).toHaveLength(10);
        for (const text of [...messages, ...logged]) {
          expect(text).not.toContain('secret-password');
          expect(text).not.toContain('levelsync:secret');
        }
      } finally {
        await pool.end();
      }
    });
  });
}
