import { beforeAll, describe, expect, it } from 'vitest';
import { applyPlan, comparePairKeys, createMaxLevelResolver, createPlan, parsePlan, scanDesyncs, syncPair } from 'levelsync';
import { createLevelsyncMapping, createPgSyncStore, migrate, upsertSpecializations, type PgMapping } from 'levelsync/pg';
import { seedMapped } from '../../support/pg-store-harness.js';
import type { PgTestTarget } from './target.js';

/** Beyond ±2^53: `Number('9007199254740993')` is 9007199254740992, another user. */
const BEYOND = '9007199254740993';
const INT8_MAX = '9223372036854775807';
const INT8_MIN = '-9223372036854775808';
const SPECS = ['GANCUJU_PLAYER', 'LFA_COACH', 'INTERNSHIP'].map((id) => ({ id, maxLevel: id === 'INTERNSHIP' ? 3 : 8 }));

/**
 * User ids the database can hold (`bigint`, levelsync's own schema): ids beyond 2^53 are carried
 * as exact decimal strings through scan, plan, plan file and apply; and a row levelsync cannot
 * represent (a text id longer than it carries) is flagged for review while the scan goes on.
 */
export function defineBigUserIds(target: PgTestTarget, prefix: string): void {
  describe(`${target.label}: user ids beyond 2^53 on a bigint column`, () => {
    const mapping: PgMapping = createLevelsyncMapping({ schema: `${prefix}_bigids` })._unsafeUnwrap();
    const resolver = createMaxLevelResolver({ repositories: [] });
    beforeAll(async () => {
      const connection = target.connection();
      await connection.run(`DROP SCHEMA IF EXISTS "${mapping.schema}" CASCADE`);
      (await migrate(connection, { schema: mapping.schema }))._unsafeUnwrap();
      (await upsertSpecializations(connection, SPECS, { mapping }))._unsafeUnwrap();
      await seedMapped(connection.run, mapping, {
        specializations: [],
        progress: [
          { userId: 5, specializationId: 'LFA_COACH', level: 3 },
          { userId: BEYOND, specializationId: 'LFA_COACH', level: 4 },
          { userId: '9007199254740992', specializationId: 'LFA_COACH', level: 2 }, // the id BEYOND rounds to: in sync
          { userId: INT8_MAX, specializationId: 'GANCUJU_PLAYER', level: 6 },
          { userId: INT8_MIN, specializationId: 'INTERNSHIP', level: 2 },
        ],
        licenses: [
          { userId: 5, specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 },
          { userId: BEYOND, specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 },
          { userId: '9007199254740992', specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 },
          { userId: INT8_MAX, specializationId: 'GANCUJU_PLAYER', level: 5, maxAchievedLevel: 5 },
          { userId: INT8_MIN, specializationId: 'INTERNSHIP', level: 1, maxAchievedLevel: 1 },
        ],
      } as never);
    });

    it('plans, round-trips through a plan file and applies them with the ids unchanged; a re-scan is empty', async () => {
      const connection = target.connection();
      const store = createPgSyncStore(connection, { mapping });
      const scan = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
      expect(scan.desyncs.map((d) => [d.userId, d.specializationId, d.kind])).toEqual([
        [5, 'LFA_COACH', 'LevelMismatch'],
        [INT8_MIN, 'INTERNSHIP', 'LevelMismatch'],
        [BEYOND, 'LFA_COACH', 'LevelMismatch'],
        [INT8_MAX, 'GANCUJU_PLAYER', 'LevelMismatch'],
      ]);
      const plan = createPlan(scan, { policy: { direction: 'higher-wins' } })._unsafeUnwrap();
      const file = JSON.stringify(plan, null, 2);
      expect(file).toContain(`"userId": "${INT8_MAX}"`);
      const parsed = parsePlan(file)._unsafeUnwrap();
      expect(parsed.actions.map((a) => a.userId)).toEqual([5, INT8_MIN, BEYOND, INT8_MAX]);
      const report = (await applyPlan(parsed, store))._unsafeUnwrap();
      expect(report.counts.Applied).toBe(4);
      const rows = await connection.run(`SELECT user_id::text AS u, level FROM "${mapping.schema}".licenses ORDER BY user_id`);
      expect(rows.rows).toEqual([
        { u: INT8_MIN, level: 2 },
        { u: '5', level: 3 },
        { u: '9007199254740992', level: 2 }, // untouched: the neighbour a rounded id would have hit
        { u: BEYOND, level: 4 },
        { u: INT8_MAX, level: 6 },
      ]);
      const history = await connection.run(
        `SELECT l.user_id::text AS u FROM "${mapping.schema}".license_progressions h JOIN "${mapping.schema}".licenses l ON l.id = h.license_id ORDER BY l.user_id`,
      );
      expect(history.rows.map((r) => r['u'])).toEqual([INT8_MIN, '5', BEYOND, INT8_MAX]);
      expect((await scanDesyncs(store, { resolver }))._unsafeUnwrap().desyncs).toEqual([]);
      // Scoped to the big ids, as `--user` does: strings, or the same id as a number where it is safe.
      const scoped = (await scanDesyncs(store, { resolver, userIds: [INT8_MAX, BEYOND, 5] }))._unsafeUnwrap();
      expect(scoped.pairsRead).toBe(0);
      expect((await store.countPairs({ userIds: [INT8_MAX, BEYOND, '5'] }))._unsafeUnwrap()).toBe(3);
    });

    it('scanPairs({ after }) starts after any key, ids beyond 2^53 (decimal strings, after every number) included', async () => {
      const store = createPgSyncStore(target.connection(), { mapping });
      const all: { userId: unknown; specializationId: string }[] = [];
      for await (const page of store.scanPairs({})) all.push(...page._unsafeUnwrap());
      const keys = all.map((p) => `${String(p.userId)}/${p.specializationId}`);
      expect(keys).toEqual(['5/LFA_COACH', '-9223372036854775808/INTERNSHIP', '9007199254740992/LFA_COACH', `${BEYOND}/LFA_COACH`, `${INT8_MAX}/GANCUJU_PLAYER`]);
      const starts = [...all.map((p) => ({ userId: p.userId, specializationId: p.specializationId })), { userId: 4, specializationId: 'ZZZ' }, { userId: BEYOND, specializationId: 'A' }];
      for (const after of starts) {
        const rest: string[] = [];
        for await (const page of store.scanPairs({ after: after as never, pageSize: 2 })) rest.push(...page._unsafeUnwrap().map((p) => `${String(p.userId)}/${p.specializationId}`));
        const from = keys.findIndex((k, i) => comparePairKeys(all[i] as never, after as never) > 0);
        expect(rest, `after ${String(after.userId)}/${after.specializationId}`).toEqual(from < 0 ? [] : keys.slice(from));
      }
    });

    it('syncPair() and readPair() take the decimal string and find exactly that user', async () => {
      const connection = target.connection();
      const store = createPgSyncStore(connection, { mapping });
      await connection.run(`UPDATE "${mapping.schema}".progress SET level = 7 WHERE user_id = $1::int8`, [INT8_MAX]);
      const pair = (await store.readPair({ userId: INT8_MAX, specializationId: 'GANCUJU_PLAYER' }))._unsafeUnwrap();
      expect(pair).toMatchObject({ userId: INT8_MAX, progress: [{ level: 7 }], licenses: [{ level: 6 }] });
      const synced = (await syncPair(store, { userId: INT8_MAX, specializationId: 'GANCUJU_PLAYER' }, { resolver }))._unsafeUnwrap();
      expect(synced).toMatchObject({ inSync: true, notFound: false, outcomes: ['Applied'] });
      const rows = await connection.run(`SELECT level FROM "${mapping.schema}".licenses WHERE user_id = $1::int8`, [INT8_MAX]);
      expect(rows.rows).toEqual([{ level: 7 }]);
      // A number beyond 2^53 has already lost the user: refused, never rounded.
      const rounded = await store.readPair({ userId: Number(INT8_MAX), specializationId: 'GANCUJU_PLAYER' });
      expect(rounded._unsafeUnwrapErr().message).toMatch(/userId.*2\^53/);
      // Beyond the 64-bit range: refused with the field named.
      const tooBig = await store.readPair({ userId: '9223372036854775808', specializationId: 'GANCUJU_PLAYER' });
      expect(tooBig._unsafeUnwrapErr().message).toMatch(/userId/);
    });
  });

  describe(`${target.label}: a row levelsync cannot represent is flagged, the rest of the scan completes`, () => {
    const mapping: PgMapping = createLevelsyncMapping({ schema: `${prefix}_unreadable`, userIdType: 'text' })._unsafeUnwrap();
    const resolver = createMaxLevelResolver({ repositories: [] });
    const longId = `u-${'x'.repeat(250)}`; // beyond the 200 characters levelsync carries

    it('flags the unreadable pair for review with its key and the reason, and still finds every other desync', async () => {
      const connection = target.connection();
      await connection.run(`DROP SCHEMA IF EXISTS "${mapping.schema}" CASCADE`);
      (await migrate(connection, { schema: mapping.schema, userIdType: 'text' }))._unsafeUnwrap();
      (await upsertSpecializations(connection, SPECS, { mapping }))._unsafeUnwrap();
      await seedMapped(connection.run, mapping, {
        specializations: [],
        progress: [
          { userId: 'a', specializationId: 'LFA_COACH', level: 3 },
          { userId: longId, specializationId: 'LFA_COACH', level: 3 },
          { userId: 'z', specializationId: 'INTERNSHIP', level: 1 },
        ],
        licenses: [
          { userId: 'a', specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 },
          { userId: longId, specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 },
        ],
      });
      const store = createPgSyncStore(connection, { mapping });
      const scan = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
      expect(scan.desyncs.map((d) => [d.userId, d.specializationId, d.kind])).toEqual([
        ['a', 'LFA_COACH', 'LevelMismatch'],
        [longId, 'LFA_COACH', 'UnreadableRecord'],
        ['z', 'INTERNSHIP', 'MissingLicense'],
      ]);
      const unreadable = scan.desyncs[1]!;
      expect(unreadable.kind === 'UnreadableRecord' && unreadable.reason).toMatch(/user_id.*200 characters/);
      const plan = createPlan(scan)._unsafeUnwrap();
      expect(plan.actions.filter((a) => a.userId === longId).map((a) => a.kind)).toEqual(['FlagForReview']);
      expect(plan.actions.filter((a) => a.kind !== 'FlagForReview').map((a) => a.userId)).toEqual(['a', 'z']);
    });
  });
}
