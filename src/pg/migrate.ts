import { err, ok, ResultAsync, type Result } from 'neverthrow';
import { z } from 'zod';
import { validationError, type StoreUnavailable, type ValidationError } from '../errors.js';
import { pgStoreUnavailable } from './transient-errors.js';
import { parseWith } from '../_internal/zod.js';
import { advisoryKey } from './advisory-run-lock.js';
import { IdentifierSchema, quoteIdentifier } from './identifier.js';
import { installCaptureStatements } from './continuous/capture-ddl.js';
import { createLevelsyncMapping, type LevelsyncSchemaOptions } from './pg-mapping.js';
import { toPgConnection, type PgConnectionInput, type SqlRunner } from './sql-client.js';

/**
 * Options of {@link migrate}: the schema to create and the type of its user id columns.
 *
 * ```ts
 * await migrate(pool, { schema: 'sync', userIdType: 'text' } satisfies MigrateOptions);
 * ```
 */
export type MigrateOptions = LevelsyncSchemaOptions;

/**
 * One versioned step of levelsync's own schema.
 *
 * ```ts
 * for (const m of LEVELSYNC_MIGRATIONS) console.log(m.version, m.name, m.statements('"levelsync"', 'bigint').length);
 * ```
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** The DDL statements, for a schema (already quoted) and a user id SQL type. */
  statements(schema: string, userIdType: string): readonly string[];
}

/**
 * What {@link migrate} did.
 *
 * ```ts
 * const migrated = await migrate(pool);
 * if (migrated.isErr()) throw new Error(migrated.error.message);
 * const report = migrated.value;
 * console.log(`schema ${report.schema} at version ${report.version}; ran ${report.applied.length}`);
 * ```
 */
export interface MigrationReport {
  readonly schema: string;
  /** The migrations this call ran, in order (empty when the schema was up to date). */
  readonly applied: readonly { readonly version: number; readonly name: string }[];
  /** Every migration the schema has afterwards, in order. */
  readonly current: readonly { readonly version: number; readonly name: string }[];
  /** The schema's version afterwards. */
  readonly version: number;
}

/**
 * levelsync's schema, version by version. Never edit a released migration: add one.
 *
 * ```ts
 * console.log(LEVELSYNC_MIGRATIONS.map((m) => `${m.version} ${m.name}`));
 * ```
 */
export const LEVELSYNC_MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'create specializations, progress, licenses and license_progressions',
    statements: (s: string, u: string) => [
      `CREATE TABLE ${s}.specializations (
        id text PRIMARY KEY CONSTRAINT specializations_id_check CHECK (id ~ '^[A-Z][A-Z0-9_]{0,49}$'),
        name text NOT NULL,
        max_level integer NOT NULL CONSTRAINT specializations_max_level_check CHECK (max_level >= 1),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE ${s}.progress (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id ${u} NOT NULL,
        specialization_id text NOT NULL REFERENCES ${s}.specializations (id) ON DELETE RESTRICT ON UPDATE CASCADE,
        level integer NOT NULL DEFAULT 1 CONSTRAINT progress_level_check CHECK (level >= 1),
        xp bigint NOT NULL DEFAULT 0 CONSTRAINT progress_xp_check CHECK (xp >= 0),
        sessions integer NOT NULL DEFAULT 0 CONSTRAINT progress_sessions_check CHECK (sessions >= 0),
        projects integer NOT NULL DEFAULT 0 CONSTRAINT progress_projects_check CHECK (projects >= 0),
        theory_hours integer NOT NULL DEFAULT 0 CONSTRAINT progress_theory_hours_check CHECK (theory_hours >= 0),
        practice_hours integer NOT NULL DEFAULT 0 CONSTRAINT progress_practice_hours_check CHECK (practice_hours >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT progress_user_specialization_key UNIQUE (user_id, specialization_id)
      )`,
      `CREATE INDEX progress_specialization_idx ON ${s}.progress (specialization_id)`,
      `CREATE TABLE ${s}.licenses (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id ${u} NOT NULL,
        specialization_id text NOT NULL REFERENCES ${s}.specializations (id) ON DELETE RESTRICT ON UPDATE CASCADE,
        level integer NOT NULL DEFAULT 1 CONSTRAINT licenses_level_check CHECK (level >= 1),
        max_achieved_level integer NOT NULL DEFAULT 1 CONSTRAINT licenses_max_achieved_level_min_check CHECK (max_achieved_level >= 1),
        started_at timestamptz NOT NULL DEFAULT now(),
        last_advanced_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT licenses_max_achieved_level_check CHECK (max_achieved_level >= level),
        CONSTRAINT licenses_user_specialization_key UNIQUE (user_id, specialization_id)
      )`,
      `CREATE INDEX licenses_specialization_idx ON ${s}.licenses (specialization_id)`,
      `CREATE TABLE ${s}.license_progressions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        license_id bigint NOT NULL REFERENCES ${s}.licenses (id) ON DELETE RESTRICT,
        from_level integer CONSTRAINT license_progressions_from_level_check CHECK (from_level >= 1),
        to_level integer NOT NULL CONSTRAINT license_progressions_to_level_check CHECK (to_level >= 1),
        advanced_by ${u},
        reason text NOT NULL,
        evidence text,
        advanced_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT license_progressions_change_check CHECK (from_level IS DISTINCT FROM to_level)
      )`,
      `CREATE INDEX license_progressions_license_idx ON ${s}.license_progressions (license_id, advanced_at)`,
      `COMMENT ON COLUMN ${s}.license_progressions.from_level IS 'NULL for the creation of the license'`,
    ],
  },
  {
    version: 2,
    name: 'archive tables for the duplicate clean-up',
    statements: (s: string) =>
      ['progress', 'licenses'].flatMap((table) => [
        `CREATE TABLE ${s}.${table}_archive (LIKE ${s}.${table})`,
        `ALTER TABLE ${s}.${table}_archive
           ADD COLUMN archived_at timestamptz NOT NULL DEFAULT now(),
           ADD COLUMN archive_reason text`,
      ]),
  },
  {
    version: 3,
    name: 'change capture: levelsync_changes, capture triggers, max-level notifications',
    statements: (s: string, u: string) => installCaptureStatements(mustMapping(s, u)),
  },
]);

/** levelsync's own mapping for a quoted schema name and a user id SQL type (migration 3). */
function mustMapping(quotedSchema: string, userIdType: string) {
  const schema = quotedSchema.slice(1, -1).replace(/""/g, '"');
  const mapping = createLevelsyncMapping({ schema, userIdType: userIdType === 'text' ? 'text' : 'bigint' });
  if (mapping.isErr()) throw new TypeError(mapping.error.message);
  return mapping.value;
}

const MigrateOptionsSchema = z.object({
  schema: IdentifierSchema.optional(),
  userIdType: z.enum(['bigint', 'text'], { error: 'must be bigint or text' }).optional(),
});

/**
 * Creates or upgrades levelsync's own schema (default `levelsync`): specializations with their
 * maximum level, progress, licenses and license progressions, with unique (user,
 * specialization) keys on both sides, foreign keys ON DELETE RESTRICT, CHECK constraints on
 * levels (≥ 1), totals (≥ 0) and `max_achieved_level >= level`, and archive tables for the
 * duplicate clean-up.
 *
 * Versioned, idempotent and all or nothing: applied versions are recorded in
 * `<schema>.levelsync_migrations`; the schema, that table and every pending migration are created
 * in ONE transaction under an advisory lock, so a failure leaves the database as it was and two
 * concurrent calls are safe (the second finds the work done). A schema whose recorded version is
 * newer than this release knows is refused with a `ValidationError`, and nothing is changed. On a caller's client (`pgClient`) levelsync issues no
 * BEGIN/COMMIT: run it inside your transaction, or pass a pool.
 *
 * ```ts
 * const report = await migrate(pool, { schema: 'levelsync', userIdType: 'bigint' });
 * if (report.isOk()) console.log(report.value.applied); // [] when already up to date
 * ```
 */
export function migrate(client: PgConnectionInput, options: MigrateOptions = {}): ResultAsync<MigrationReport, StoreUnavailable | ValidationError> {
  const valid = parseWith(MigrateOptionsSchema, options, 'migrate options');
  if (valid.isErr()) return new ResultAsync(Promise.resolve(err(valid.error)));
  const schemaName = valid.value.schema ?? 'levelsync';
  const userIdType = valid.value.userIdType ?? 'bigint';
  return new ResultAsync(run(client, schemaName, userIdType));
}

async function run(client: PgConnectionInput, schemaName: string, userIdType: string): Promise<Result<MigrationReport, StoreUnavailable | ValidationError>> {
  const connection = toPgConnection(client);
  const schema = quoteIdentifier(schemaName);
  const table = `${schema}.levelsync_migrations`;
  const key = advisoryKey(`levelsync:migrate:${schemaName}`);
  const applied: { version: number; name: string }[] = [];

  // Pools and PGlite: each step is a transaction holding a transaction-level lock. A caller's
  // client: a session-level lock around everything (levelsync issues no BEGIN there).
  const sessionLock = !connection.ownTransactions;
  const step = <T>(fn: (run: SqlRunner) => Promise<T>) =>
    connection.transaction(async (runner) => {
      if (!sessionLock) await runner('SELECT pg_advisory_xact_lock($1::bigint)', [key]);
      return fn(runner);
    });

  const latest = LEVELSYNC_MIGRATIONS[LEVELSYNC_MIGRATIONS.length - 1]!.version;
  let newer: number | null = null;
  try {
    if (sessionLock) await connection.run('SELECT pg_advisory_lock($1::bigint)', [key]);
    try {
      // All or nothing: the schema, the bookkeeping table and every pending migration in ONE
      // transaction, so that a failed migration leaves no trace (not even an empty
      // levelsync_migrations table) and a half-migrated schema cannot exist.
      await step(async (runner) => {
        await runner(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await runner(`CREATE TABLE IF NOT EXISTS ${table} (
          version integer PRIMARY KEY,
          name text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
        const recorded = await runner(`SELECT coalesce(max(version), 0)::int4 AS version FROM ${table}`);
        const version = Number(recorded.rows[0]?.['version'] ?? 0);
        if (version > latest) {
          newer = version;
          return;
        }
        for (const migration of LEVELSYNC_MIGRATIONS) {
          const done = await runner(`SELECT 1 FROM ${table} WHERE version = $1::int4`, [migration.version]);
          if (done.rows.length > 0) continue;
          for (const statement of migration.statements(schema, userIdType)) await runner(statement);
          await runner(`INSERT INTO ${table} (version, name) VALUES ($1::int4, $2::text)`, [migration.version, migration.name]);
          applied.push({ version: migration.version, name: migration.name });
        }
      });
    } finally {
      if (sessionLock) await connection.run('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
    }
  } catch (cause) {
    applied.length = 0;
    return err(pgStoreUnavailable('postgres', cause, `could not migrate schema "${schemaName}" (nothing was changed)`));
  }
  if (newer !== null) {
    return err(
      validationError('schema', [
        {
          field: `${schemaName}.levelsync_migrations.version`,
          message: `is ${newer}, newer than this release of levelsync knows (${latest}): nothing was changed; upgrade levelsync instead`,
        },
      ]),
    );
  }
  const current = LEVELSYNC_MIGRATIONS.map((m) => ({ version: m.version, name: m.name }));
  return ok({ schema: schemaName, applied, current, version: current[current.length - 1]!.version });
}
