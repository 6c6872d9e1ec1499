import { beforeEach, describe, expect, it } from 'vitest';
import { applyPlan, createMaxLevelResolver, createPlan, encodePlanLines, parsePlan, planFingerprint, readPlanLines, scanDesyncs, syncPair, type SyncPlan } from 'levelsync';
import { ORIGINAL_SYSTEM_MAPPING, createLevelsyncMapping, createPgMapping, createPgMaxLevelRepository, createPgSyncStore, migrate, type PgMapping } from 'levelsync/pg';
import { createOriginalSchema } from '../../support/original-schema.js';
import { seedMapped } from '../../support/pg-store-harness.js';
import type { PgTestTarget } from './target.js';

const SPECS = [
  { id: 'GANCUJU_PLAYER', maxLevel: 8 },
  { id: 'PLAYER', maxLevel: 8 },
  { id: 'LFA_COACH', maxLevel: 8 },
];

/** The plan as a file a service wrote with its own idea of the user id's type: every `userId` replaced, re-fingerprinted. */
function planFileWithUserId(plan: SyncPlan, userId: unknown): string {
  const { fingerprint: _old, ...rest } = plan;
  const edited = { ...rest, actions: plan.actions.map((a) => ({ ...a, userId })) } as unknown as Omit<SyncPlan, 'fingerprint'>;
  return JSON.stringify({ ...edited, fingerprint: planFingerprint(edited) }, null, 2);
}

/**
 * A user id of the wrong type, through the public functions (`parsePlan` → `applyPlan`,
 * `syncPair`), on the original system's tables (integer ids, every row under the legacy id
 * PLAYER) and on a text-id schema: the decimal string "30" is the integer user 30, converted
 * exactly; anything else is a ValidationError naming the field; never "not found, in sync".
 */
export function defineUserIdMisuse(target: PgTestTarget, prefix: string): void {
  describe(`${target.label}: a user id of the wrong type through parsePlan, applyPlan and syncPair`, () => {
    const original: PgMapping = createPgMapping({ schema: `${prefix}_idmisuse_orig` }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
    const text: PgMapping = createLevelsyncMapping({ schema: `${prefix}_idmisuse_text`, userIdType: 'text' })._unsafeUnwrap();
    const open = (mapping: PgMapping) => {
      const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(target.connection(), { mapping })] });
      return { resolver, store: createPgSyncStore(target.connection(), { mapping, catalog: resolver.catalog }) };
    };
    /** (level, max achieved) of user 30's license and the history rows written. */
    const state = async (mapping: PgMapping) => {
      const s = `"${mapping.schema}"`;
      const l = mapping.licenses;
      const license = await target.connection().run(
        `SELECT ${l.specializationId}::text AS sid, ${l.level} AS level, ${l.maxAchievedLevel} AS max FROM ${s}.${l.table} WHERE ${l.userId}::text = '30'`,
      );
      const history = await target.connection().run(`SELECT count(*)::int AS n FROM ${s}.${mapping.progressions.table}`);
      return { license: license.rows, history: history.rows[0]!['n'] };
    };
    const p5l3 = (userId: number | string) => ({
      specializations: SPECS,
      progress: [
        { userId, specializationId: 'PLAYER', level: 5 },
        { userId: typeof userId === 'number' ? 31 : '31', specializationId: 'PLAYER', level: 2 },
      ],
      licenses: [
        { userId, specializationId: 'PLAYER', level: 3, maxAchievedLevel: 3 },
        { userId: typeof userId === 'number' ? 31 : '31', specializationId: 'PLAYER', level: 2, maxAchievedLevel: 2 },
      ],
    });

    beforeEach(async () => {
      const connection = target.connection();
      await createOriginalSchema(connection.run, { schema: original.schema });
      await connection.run(`INSERT INTO "${original.schema}".users (id, name) VALUES (30, 'user 30'), (31, 'user 31')`);
      await seedMapped(connection.run, original, p5l3(30));
      await connection.run(`DROP SCHEMA IF EXISTS "${text.schema}" CASCADE`);
      (await migrate(connection, { schema: text.schema, userIdType: 'text' }))._unsafeUnwrap();
      await seedMapped(connection.run, text, p5l3('30'));
    });

    it('syncPair(store, { userId: "30", specializationId: "PLAYER" }) on the original mapping repairs the P5/L3 desync stored under PLAYER', async () => {
      const { store, resolver } = open(original);
      const report = (await syncPair(store, { userId: '30', specializationId: 'PLAYER' }, { resolver }))._unsafeUnwrap();
      expect(report).toMatchObject({ specializationId: 'GANCUJU_PLAYER', notFound: false, inSync: true, outcomes: ['Applied'] });
      expect(await state(original)).toEqual({ license: [{ sid: 'PLAYER', level: 5, max: 5 }], history: 1 });
      // Not a decimal integer: refused, naming the field; nothing written.
      const bad = await syncPair(store, { userId: '30.0', specializationId: 'PLAYER' }, { resolver });
      expect(bad._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: expect.stringMatching(/userId/) });
      expect((await state(original)).history).toBe(1);
    });

    it('a plan file with "userId": "30" on the integer mapping parses and applies to user 30, converted exactly', async () => {
      const { store, resolver } = open(original);
      const plan = createPlan((await scanDesyncs(store, { resolver }))._unsafeUnwrap())._unsafeUnwrap();
      expect(plan.actions.map((a) => [a.userId, a.kind])).toEqual([[30, 'SetLicenseLevel']]);
      const file = planFileWithUserId(plan, '30');
      expect(file).toContain('"userId": "30"');
      const parsed = parsePlan(file)._unsafeUnwrap();
      expect(parsed.actions[0]!.userId).toBe('30');
      const report = (await applyPlan(parsed, store))._unsafeUnwrap();
      expect(report.counts).toMatchObject({ Applied: 1, Stale: 0, Failed: 0 });
      expect(await state(original)).toEqual({ license: [{ sid: 'PLAYER', level: 5, max: 5 }], history: 1 });
      expect((await scanDesyncs(store, { resolver }))._unsafeUnwrap().desyncs).toEqual([]);
      // Applied again: already applied, no second history row.
      expect((await applyPlan(parsed, store))._unsafeUnwrap().counts).toMatchObject({ Applied: 0, AlreadyApplied: 1 });
      expect((await state(original)).history).toBe(1);
    });

    it('a plan with a user id that is not a decimal integer on the integer mapping is refused as a whole (ValidationError naming actions[0].userId), nothing written', async () => {
      const { store, resolver } = open(original);
      const plan = createPlan((await scanDesyncs(store, { resolver }))._unsafeUnwrap())._unsafeUnwrap();
      const parsed = parsePlan(planFileWithUserId(plan, '030'))._unsafeUnwrap();
      const refused = await applyPlan(parsed, store);
      expect(refused._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'actions[0].userId' });
      expect(await state(original)).toEqual({ license: [{ sid: 'PLAYER', level: 3, max: 3 }], history: 0 });
      // The same plan as a JSON Lines file read with the store: refused in the first pass, naming the line.
      const lines: string[] = [];
      for await (const chunk of encodePlanLines(parsed)) lines.push(...chunk._unsafeUnwrap().split('\n').filter((l) => l !== ''));
      const read = await readPlanLines(() => lines, { store });
      expect(read._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: `line ${lines.findIndex((l) => l.includes('"userId":"030"')) + 1}` });
      expect(lines.findIndex((l) => l.includes('"userId":"030"'))).toBeGreaterThan(0);
      expect(read._unsafeUnwrapErr().message).toMatch(/userId/);
      // Read without the store, applied as a stream: the run stops before the batch holding it.
      const streamed = (await applyPlan((await readPlanLines(() => lines))._unsafeUnwrap(), store))._unsafeUnwrap();
      expect(streamed).toMatchObject({ status: 'Stopped', counts: { Applied: 0 } });
      expect(streamed.error).toMatchObject({ _tag: 'ValidationError', field: 'actions[0].userId' });
      expect(await state(original)).toEqual({ license: [{ sid: 'PLAYER', level: 3, max: 3 }], history: 0 });
    });

    it('a plan with a number user id on a text mapping is refused as a whole (ValidationError naming actions[0].userId), nothing written', async () => {
      const { store, resolver } = open(text);
      const plan = createPlan((await scanDesyncs(store, { resolver }))._unsafeUnwrap())._unsafeUnwrap();
      expect(plan.actions.map((a) => [a.userId, a.kind])).toEqual([['30', 'SetLicenseLevel']]);
      const parsed = parsePlan(planFileWithUserId(plan, 30))._unsafeUnwrap();
      const refused = (await applyPlan(parsed, store))._unsafeUnwrapErr();
      expect(refused).toMatchObject({ _tag: 'ValidationError', field: 'actions[0].userId' });
      expect(refused.message).toMatch(/must be a string/);
      expect(await state(text)).toEqual({ license: [{ sid: 'PLAYER', level: 3, max: 3 }], history: 0 });
      // syncPair with the number: refused the same way, never "not found".
      const synced = await syncPair(store, { userId: 30, specializationId: 'PLAYER' }, { resolver });
      expect(synced._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: expect.stringMatching(/userId/) });
    });
  });
}
