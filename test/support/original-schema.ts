import type { SqlRunner } from 'levelsync/pg';

/** Options of {@link createOriginalSchema}. */
export interface OriginalSchemaOptions {
  /** Created if missing (dropped first when `replace`). */
  readonly schema: string;
  /**
   * The unique (user, specialization) keys of the 2025-10/11 era on both tables (default true).
   * `false` gives the squashed-baseline shape without them, where duplicates happen.
   */
  readonly uniqueKeys?: boolean;
  /** `specializations.max_levels` exists (default true); false is the schema after Nov 2025. */
  readonly maxLevels?: boolean;
  /** `max_levels` may be NULL (default false: NOT NULL as in Oct 2025). */
  readonly nullableMaxLevels?: boolean;
  /**
   * License levels may be NULL (default false). The original's `current_level` and
   * `max_achieved_level` are NOT NULL; property tests relax them to exercise every diff case.
   */
  readonly nullableLicenseLevels?: boolean;
  /** DROP SCHEMA … CASCADE first (default true). */
  readonly replace?: boolean;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Recreates the original system's tables (as its late-2025 migrations left them) in `schema`:
 * `users`, `specializations` (with `max_levels`), `specialization_progress`, `user_licenses`
 * and `license_progressions`, with the constraints of the 2025-10/11 era: both unique keys
 * (`uq_student_specialization` and `uq_specialization_progress_user_spec` on progress, the
 * unnamed one on licenses), the CASCADE foreign keys of the first migration plus the RESTRICT
 * ones of P1, nullable progress levels, NOT NULL license levels and `started_at`, a NOT NULL
 * `from_level` in the history, and no CHECK constraints.
 */
export async function createOriginalSchema(run: SqlRunner, options: OriginalSchemaOptions): Promise<void> {
  if (!IDENT.test(options.schema)) throw new TypeError(`bad schema name ${options.schema}`);
  const s = `"${options.schema}"`;
  const unique = options.uniqueKeys ?? true;
  const licenseNull = options.nullableLicenseLevels ? '' : ' NOT NULL';
  if (options.replace ?? true) await run(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  const statements = [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE ${s}.users (
      id serial PRIMARY KEY,
      email varchar(255),
      name varchar(255),
      specialization varchar(50)
    )`,
    `CREATE TABLE ${s}.specializations (
      id varchar(50) PRIMARY KEY,
      name varchar(100) NOT NULL,
      icon varchar(10),
      description text,
      ${options.maxLevels === false ? '' : `max_levels integer${options.nullableMaxLevels ? '' : ' NOT NULL'},`}
      is_active boolean DEFAULT true,
      created_at timestamp DEFAULT CURRENT_TIMESTAMP
    )`,
    `CREATE TABLE ${s}.specialization_progress (
      id serial PRIMARY KEY,
      student_id integer NOT NULL REFERENCES ${s}.users (id) ON DELETE CASCADE,
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
      ${unique ? `, CONSTRAINT uq_student_specialization UNIQUE (student_id, specialization_id)` : ''}
    )`,
    `CREATE INDEX ix_specialization_progress_student ON ${s}.specialization_progress (student_id)`,
    `CREATE INDEX ix_specialization_progress_spec ON ${s}.specialization_progress (specialization_id)`,
    `CREATE INDEX ix_specialization_progress_level ON ${s}.specialization_progress (current_level)`,
    ...(unique
      ? [`ALTER TABLE ${s}.specialization_progress ADD CONSTRAINT uq_specialization_progress_user_spec UNIQUE (student_id, specialization_id)`]
      : []),
    `ALTER TABLE ${s}.specialization_progress
       ADD CONSTRAINT fk_specialization_progress_user FOREIGN KEY (student_id) REFERENCES ${s}.users (id) ON DELETE RESTRICT,
       ADD CONSTRAINT fk_specialization_progress_spec FOREIGN KEY (specialization_id) REFERENCES ${s}.specializations (id) ON DELETE RESTRICT`,
    `CREATE TABLE ${s}.user_licenses (
      id serial PRIMARY KEY,
      user_id integer NOT NULL REFERENCES ${s}.users (id),
      specialization_type varchar(20) NOT NULL,
      current_level integer${licenseNull} DEFAULT 1,
      max_achieved_level integer${licenseNull} DEFAULT 1,
      started_at timestamp NOT NULL,
      last_advanced_at timestamp,
      instructor_notes text,
      created_at timestamp,
      updated_at timestamp
      ${unique ? ', UNIQUE (user_id, specialization_type)' : ''}
    )`,
    `ALTER TABLE ${s}.user_licenses
       ADD CONSTRAINT fk_user_licenses_user FOREIGN KEY (user_id) REFERENCES ${s}.users (id) ON DELETE RESTRICT,
       ADD CONSTRAINT fk_user_licenses_spec FOREIGN KEY (specialization_type) REFERENCES ${s}.specializations (id) ON DELETE RESTRICT`,
    `CREATE TABLE ${s}.license_progressions (
      id serial PRIMARY KEY,
      user_license_id integer NOT NULL REFERENCES ${s}.user_licenses (id),
      from_level integer NOT NULL,
      to_level integer NOT NULL,
      advanced_by integer REFERENCES ${s}.users (id),
      advancement_reason text,
      requirements_met text,
      advanced_at timestamp DEFAULT CURRENT_TIMESTAMP
    )`,
  ];
  for (const statement of statements) await run(statement);
}

/** Inserts users (the original schema's foreign keys need them); existing ids are kept. */
export async function ensureOriginalUsers(run: SqlRunner, schema: string, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await run(`INSERT INTO "${schema}".users (id, name) SELECT u, 'user ' || u FROM unnest($1::int4[]) AS u ON CONFLICT (id) DO NOTHING`, [[...new Set(ids)]]);
}
