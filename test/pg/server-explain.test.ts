import { beforeAll, expect, it } from 'vitest';
import type { WriteAction } from 'levelsync';
import { createLevelsyncMapping, createPgMapping, migrate, ORIGINAL_SYSTEM_MAPPING, pgPool, upsertSpecializations, type PgMapping } from 'levelsync/pg';
// The statement itself, as the store sends it (internal module: the public API only runs it).
import { applyValues, buildApplyStatement } from '../../src/pg/apply-statement.js';
import { mappingNames } from '../../src/pg/mapping/names.js';
import { createOriginalSchema } from '../support/original-schema.js';
import { describeWithServer, useTestDatabase } from '../support/postgres-server.js';

const USERS = 50_000; // × 5 specializations = 250 000 rows per table
const SPECS = ['GANCUJU_PLAYER', 'LFA_FOOTBALL_PLAYER', 'LFA_COACH', 'INTERNSHIP', 'PLAYER'];
const DEFAULT_CHUNK = 2_000; // createPgSyncStore's default chunkSize

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function nodes(node: PlanNode, out: PlanNode[] = []): PlanNode[] {
  out.push(node);
  for (const child of node.Plans ?? []) nodes(child, out);
  return out;
}

/** A default-size chunk of every kind of write, on users spread over the whole table. */
function chunk(): WriteAction[] {
  const actions: WriteAction[] = [];
  for (let i = 0; i < DEFAULT_CHUNK; i++) {
    const userId = 1 + ((i * 24_989) % USERS);
    const expected = {
      progress: { specializationId: 'LFA_COACH', level: 2 },
      license: { specializationId: 'LFA_COACH', level: 1, maxAchievedLevel: 1 },
    };
    if (i % 4 === 0) actions.push({ userId, specializationId: 'LFA_COACH', expected, kind: 'SetLicenseLevel', write: { level: 2, maxAchievedLevel: 2 }, reason: 'r', evidence: 'e' });
    else if (i % 4 === 1) actions.push({ userId, specializationId: 'INTERNSHIP', expected: { ...expected, progress: { specializationId: 'INTERNSHIP', level: 1 } }, kind: 'SetProgressLevel', write: { level: 2 }, reason: 'r' });
    else if (i % 4 === 2) actions.push({ userId: USERS + i, specializationId: 'LFA_COACH', expected: { ...expected, license: null }, kind: 'CreateLicense', write: { specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 }, reason: 'r', evidence: 'e' });
    else actions.push({ userId: USERS + i, specializationId: 'GANCUJU_PLAYER', expected: { progress: null, license: { specializationId: 'PLAYER', level: 3, maxAchievedLevel: 3 } }, kind: 'CreateProgress', write: { specializationId: 'PLAYER', level: 3 }, reason: 'r' });
  }
  return actions;
}

describeWithServer('levelsync/pg on PostgreSQL: the apply statement keeps using the keys', () => {
  const database = useTestDatabase('explain');
  const own = createLevelsyncMapping({ schema: 'explain_own' })._unsafeUnwrap();
  const original = createPgMapping({ schema: 'explain_orig' }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();

  beforeAll(async () => {
    const pool = database().pool;
    (await migrate(pool, { schema: own.schema }))._unsafeUnwrap();
    (await upsertSpecializations(pool, SPECS.map((id) => ({ id, maxLevel: 8 })), { mapping: own }))._unsafeUnwrap();
    await createOriginalSchema(pgPool(pool).run, { schema: original.schema });
    await pool.query(`INSERT INTO "explain_orig".specializations (id, name, max_levels) SELECT id, id, 8 FROM unnest($1::text[]) id`, [SPECS]);
    await pool.query(`INSERT INTO "explain_orig".users (id) SELECT g FROM generate_series(1, $1::int) g`, [USERS]);
    const loader = await pool.connect();
    // Generated rows satisfy every foreign key; skipping the per-row checks halves the load time.
    await loader.query('SET session_replication_role = replica').catch(() => undefined);
    for (const mapping of [own, original] as PgMapping[]) {
      const s = `"${mapping.schema}"`;
      const P = mapping.progress;
      const L = mapping.licenses;
      await loader.query(
        `INSERT INTO ${s}."${P.table}" ("${P.userId}", "${P.specializationId}", "${P.level}") SELECT u, spec, 1 + u % 8 FROM generate_series(1, $1::int) u, unnest($2::text[]) spec`,
        [USERS, SPECS],
      );
      await loader.query(
        `INSERT INTO ${s}."${L.table}" ("${L.userId}", "${L.specializationId}", "${L.level}", "${L.maxAchievedLevel}"${L.startedAt ? `, "${L.startedAt}"` : ''})
         SELECT u, spec, 1 + u % 8, 8${L.startedAt ? ', now()' : ''} FROM generate_series(1, $1::int) u, unnest($2::text[]) spec`,
        [USERS, SPECS],
      );
      await pool.query(`ANALYZE ${s}."${P.table}"`);
      await pool.query(`ANALYZE ${s}."${L.table}"`);
    }
    loader.release(true);
  }, 120_000);

  for (const [label, mapping] of [
    ['levelsync schema', own],
    ['original schema', original],
  ] as const) {
    it(`${label}: EXPLAIN of a ${DEFAULT_CHUNK}-action chunk shows index probes, no Seq Scan of the ${250_000}-row tables`, async () => {
      const pool = database().pool;
      const values = applyValues(chunk(), { actor: null, now: new Date(), aliases: new Map([['PLAYER', 'GANCUJU_PLAYER']]) }, mappingNames(mapping));
      const explained = await pool.query(`EXPLAIN (FORMAT JSON) ${buildApplyStatement(mappingNames(mapping))}`, values);
      const plan = (explained.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan;
      const all = nodes(plan);
      const tables = new Set([mapping.progress.table, mapping.licenses.table]);
      const onTables = all.filter((n) => n['Relation Name'] !== undefined && tables.has(n['Relation Name']));
      const summary = onTables.map((n) => `${n['Node Type']} on ${n['Relation Name']}`);
      console.info(`[explain] ${label}: ${[...new Set(summary)].join(', ')}`);
      expect(onTables.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
      expect(onTables.some((n) => /Index/.test(n['Node Type']))).toBe(true);
    });
  }
});
