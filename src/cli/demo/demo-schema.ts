import type { DemoData } from './demo-data.js';

/** Runs one statement (the `run` of a `levelsync/pg` connection fits). */
export type RunSql = (text: string, values?: readonly unknown[]) => Promise<{ readonly rows: readonly Record<string, unknown>[] }>;

/** Marks a schema as made by the demo, so that a re-run only ever drops its own schema. */
export const DEMO_SCHEMA_COMMENT = 'levelsync demo data: dropped and recreated by `levelsync demo`';

/** `"name"`, for a name already validated as a plain identifier. */
export function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new TypeError(`not a plain identifier: ${name}`);
  return `"${name}"`;
}

/**
 * The original system's four tables, as its 2026 squashed baseline left them: no unique key on
 * `specialization_progress` (so duplicates happen), a nullable `current_level` there, the
 * `uq_user_license_spec` key re-added on `user_licenses`, `license_progressions.from_level`
 * NOT NULL, and a `specializations.max_levels` column (as in October 2025) that may be NULL.
 * The `users` table and its foreign keys are left out: levelsync does not need them.
 */
export function originalSchemaDdl(schema: string): string {
  const s = quoteIdent(schema);
  return `
CREATE TABLE ${s}.specializations (
  id varchar(50) PRIMARY KEY,
  name varchar(100) NOT NULL,
  max_levels integer,
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE ${s}.specialization_progress (
  id serial PRIMARY KEY,
  student_id integer NOT NULL,
  specialization_id varchar(50) NOT NULL REFERENCES ${s}.specializations (id) ON DELETE CASCADE,
  current_level integer DEFAULT 1,
  total_xp integer DEFAULT 0,
  completed_sessions integer DEFAULT 0,
  completed_projects integer DEFAULT 0,
  theory_hours_completed integer NOT NULL DEFAULT 0,
  practice_hours_completed integer NOT NULL DEFAULT 0,
  last_activity timestamp,
  created_at timestamp,
  updated_at timestamp
);
CREATE INDEX ix_specialization_progress_student ON ${s}.specialization_progress (student_id, specialization_id);
CREATE TABLE ${s}.user_licenses (
  id serial PRIMARY KEY,
  user_id integer NOT NULL,
  specialization_type varchar(20) NOT NULL REFERENCES ${s}.specializations (id),
  current_level integer NOT NULL DEFAULT 1,
  max_achieved_level integer NOT NULL DEFAULT 1,
  started_at timestamp NOT NULL,
  last_advanced_at timestamp,
  instructor_notes text,
  created_at timestamp,
  updated_at timestamp,
  CONSTRAINT uq_user_license_spec UNIQUE (user_id, specialization_type)
);
CREATE TABLE ${s}.license_progressions (
  id serial PRIMARY KEY,
  user_license_id integer NOT NULL REFERENCES ${s}.user_licenses (id),
  from_level integer NOT NULL,
  to_level integer NOT NULL,
  advanced_by integer,
  advancement_reason text,
  requirements_met text,
  advanced_at timestamp DEFAULT CURRENT_TIMESTAMP
);`;
}

/** Inserts the demo data: one set-based statement per table (JSON in, rows out). */
export async function seedOriginalSchema(run: RunSql, schema: string, data: DemoData): Promise<void> {
  const s = quoteIdent(schema);
  await run(
    `INSERT INTO ${s}.specializations (id, name, max_levels)
     SELECT r.id, r.name, r.max_level FROM json_to_recordset($1::json) AS r(id text, name text, max_level integer)`,
    [JSON.stringify(data.specializations.map((x) => ({ id: x.id, name: x.name, max_level: x.maxLevel })))],
  );
  await run(
    `INSERT INTO ${s}.specialization_progress
       (student_id, specialization_id, current_level, total_xp, completed_sessions, completed_projects,
        theory_hours_completed, practice_hours_completed, last_activity, created_at, updated_at)
     SELECT r.u, r.s, r.l, r.xp, r.se, r.pr, r.th, r.ph, r.la, r.ca, r.la
     FROM json_to_recordset($1::json) AS r(u integer, s text, l integer, xp integer, se integer, pr integer, th integer, ph integer, la timestamp, ca timestamp)
     ORDER BY r.u, r.s`,
    [
      JSON.stringify(
        data.progress.map((p) => ({
          u: p.userId,
          s: p.specializationId,
          l: p.level,
          xp: p.xp,
          se: p.sessions,
          pr: p.projects,
          th: p.theoryHours,
          ph: p.practiceHours,
          la: p.lastActivity,
          ca: p.createdAt,
        })),
      ),
    ],
  );
  await run(
    `INSERT INTO ${s}.user_licenses
       (user_id, specialization_type, current_level, max_achieved_level, started_at, last_advanced_at, created_at, updated_at)
     SELECT r.u, r.s, r.l, r.m, r.st, r.la, r.st, coalesce(r.la, r.st)
     FROM json_to_recordset($1::json) AS r(u integer, s text, l integer, m integer, st timestamp, la timestamp)
     ORDER BY r.u, r.s`,
    [JSON.stringify(data.licenses.map((l) => ({ u: l.userId, s: l.specializationId, l: l.level, m: l.maxAchievedLevel, st: l.startedAt, la: l.lastAdvancedAt })))],
  );
  await run(
    `INSERT INTO ${s}.license_progressions
       (user_license_id, from_level, to_level, advanced_by, advancement_reason, requirements_met, advanced_at)
     SELECT l.id, r.f, r.t, r.b, r.reason, r.evidence, r.at
     FROM json_to_recordset($1::json) AS r(u integer, s text, f integer, t integer, b integer, reason text, evidence text, at timestamp)
     JOIN ${s}.user_licenses l ON l.user_id = r.u AND l.specialization_type = r.s
     ORDER BY r.at`,
    [
      JSON.stringify(
        data.progressions.map((p) => ({ u: p.userId, s: p.specializationId, f: p.fromLevel, t: p.toLevel, b: p.advancedBy, reason: p.reason, evidence: p.evidence, at: p.advancedAt })),
      ),
    ],
  );
}

/**
 * Makes the demo's schema empty: drops it when the demo made it (it carries the demo's comment),
 * refuses to touch a schema that someone else made, then creates it with the tables.
 * Returns false (and touches nothing) when the schema exists and is not the demo's.
 */
export async function recreateDemoSchema(run: RunSql, schema: string): Promise<boolean> {
  const s = quoteIdent(schema);
  const existing = await run(
    `SELECT obj_description(n.oid, 'pg_namespace') AS comment FROM pg_namespace n WHERE n.nspname = $1`,
    [schema],
  );
  if (existing.rows.length > 0) {
    const comment = existing.rows[0]?.['comment'];
    if (comment !== DEMO_SCHEMA_COMMENT) return false;
    await run(`DROP SCHEMA ${s} CASCADE`);
  }
  await run(`CREATE SCHEMA ${s}`);
  await run(`COMMENT ON SCHEMA ${s} IS '${DEMO_SCHEMA_COMMENT.replace(/'/g, "''")}'`);
  await createDemoTables(run, schema);
  return true;
}

/** Creates the original system's tables in an existing, empty schema (a fresh embedded database's `public`). */
export async function createDemoTables(run: RunSql, schema: string): Promise<void> {
  for (const statement of originalSchemaDdl(schema).split(';').map((x) => x.trim()).filter((x) => x !== '')) {
    await run(statement);
  }
}
