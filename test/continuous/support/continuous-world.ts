import pg from 'pg';
import { createMaxLevelResolver, type MaxLevelResolver } from 'levelsync';
import { createPgMapping, createPgMaxLevelRepository, ORIGINAL_SYSTEM_MAPPING, type PgMapping, type SqlRunner } from 'levelsync/pg';
import { createOriginalSchema, ensureOriginalUsers } from '../../support/original-schema.js';

/** The original system's specializations, legacy ids included (they are rows there). */
export const ORIGINAL_SPECIALIZATIONS: readonly (readonly [string, number])[] = [
  ['GANCUJU_PLAYER', 8],
  ['LFA_FOOTBALL_PLAYER', 8],
  ['LFA_COACH', 8],
  ['INTERNSHIP', 3],
  ['PLAYER', 8],
  ['COACH', 8],
];

/**
 * The original system's tables in `schema` with `users` learners: every user has a progress
 * row and a license for LFA_COACH (licenses of a third of them stored under the legacy id
 * COACH) and for GANCUJU_PLAYER (progress of a fifth stored under PLAYER), all in sync.
 */
export async function seedOriginal(run: SqlRunner, schema: string, users: number): Promise<PgMapping> {
  await createOriginalSchema(run, { schema, uniqueKeys: true });
  const s = `"${schema}"`;
  await run(`INSERT INTO ${s}.specializations (id, name, max_levels) SELECT * FROM unnest($1::text[], $1::text[], $2::int4[])`, [
    ORIGINAL_SPECIALIZATIONS.map(([id]) => id),
    ORIGINAL_SPECIALIZATIONS.map(([, max]) => max),
  ]);
  await ensureOriginalUsers(run, schema, Array.from({ length: users }, (_, i) => i + 1));
  await run(`INSERT INTO ${s}.specialization_progress (student_id, specialization_id, current_level)
    SELECT g, 'LFA_COACH', 1 + g % 5 FROM generate_series(1, $1::int4) g
    UNION ALL SELECT g, CASE WHEN g % 5 = 0 THEN 'PLAYER' ELSE 'GANCUJU_PLAYER' END, 1 + g % 3 FROM generate_series(1, $1::int4) g`, [users]);
  await run(`INSERT INTO ${s}.user_licenses (user_id, specialization_type, current_level, max_achieved_level, started_at)
    SELECT g, CASE WHEN g % 3 = 0 THEN 'COACH' ELSE 'LFA_COACH' END, 1 + g % 5, 1 + g % 5, now() FROM generate_series(1, $1::int4) g
    UNION ALL SELECT g, 'GANCUJU_PLAYER', 1 + g % 3, 1 + g % 3, now() FROM generate_series(1, $1::int4) g`, [users]);
  return createPgMapping({ schema }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
}

/** A resolver reading the mapped specializations table, without a cache (tests change maxima). */
export function resolverFor(pool: pg.Pool, mapping: PgMapping): MaxLevelResolver {
  return createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(pool, { mapping })], cache: false });
}

/** Everything of a schema the catalog says, without OIDs: to compare a schema before and after. */
export async function catalogSnapshot(pool: pg.Pool, schema: string): Promise<string> {
  const queries = [
    `SELECT c.relname, c.relkind, c.relpersistence, c.reloptions::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1`,
    `SELECT c.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attisdropped, pg_get_expr(d.adbin, d.adrelid)
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE n.nspname = $1 AND a.attnum > 0 ORDER BY 1, 3`,
    `SELECT conname, pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 ORDER BY 1, 2`,
    `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1`,
    `SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1, 2`,
    `SELECT p.proname, pg_get_function_identity_arguments(p.oid), md5(p.prosrc) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY 1`,
    `SELECT t.typname, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 ORDER BY 1`,
    `SELECT c.relname, d.description FROM pg_description d JOIN pg_class c ON c.oid = d.objoid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1`,
    `SELECT s.seqrelid::regclass::text, s.seqstart, s.seqincrement FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1`,
    `SELECT c.relname, dep.deptype, dep.refobjsubid FROM pg_depend dep JOIN pg_class c ON c.oid = dep.objid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND dep.classid = 'pg_class'::regclass ORDER BY 1, 2, 3`,
  ];
  const parts: string[] = [];
  for (const text of queries) parts.push(JSON.stringify((await pool.query(text, [schema])).rows));
  return parts.join('\n');
}

/** The number of history rows per license, where a license has more than `expected` of them. */
export async function historyCounts(pool: pg.Pool, mapping: PgMapping): Promise<Map<number, number>> {
  const rows = (await pool.query(`SELECT user_license_id AS id, count(*)::int AS n FROM "${mapping.schema}".license_progressions GROUP BY 1`)).rows as { id: number; n: number }[];
  return new Map(rows.map((r) => [r.id, r.n]));
}
