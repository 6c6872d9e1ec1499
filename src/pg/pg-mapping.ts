import type { Result } from 'neverthrow';
import { z } from 'zod';
import type { ValidationError } from '../errors.js';
import { parseWith } from '../_internal/zod.js';
import { IdentifierSchema, QualifiedIdentifierSchema } from './identifier.js';

/**
 * The SQL type of the user id columns, which decides how ids are bound and read back.
 *
 * ```ts
 * const mapping = createPgMapping({ userIdType: 'uuid' }, ORIGINAL_SYSTEM_MAPPING);
 * ```
 */
export type PgUserIdType = 'integer' | 'bigint' | 'text' | 'uuid';

/**
 * Where the maximum level of each specialization lives.
 *
 * ```ts
 * createPgMapping({ specializations: { table: 'spec_catalog', maxLevel: 'level_count' } }, ORIGINAL_SYSTEM_MAPPING);
 * ```
 */
export interface PgSpecializationsMapping {
  readonly table: string;
  /** The specialization id column (text). */
  readonly id: string;
  /** The maximum level column. */
  readonly maxLevel: string;
  /** A display name column; written by `upsertSpecializations` when mapped. */
  readonly name?: string;
}

/**
 * The progress table: one row per (user, specialization) when the schema has a unique key.
 *
 * ```ts
 * createPgMapping({ progress: { table: 'learner_progress', userId: 'learner_id', xp: null } }, ORIGINAL_SYSTEM_MAPPING);
 * ```
 */
export interface PgProgressMapping {
  readonly table: string;
  /** A row id column, when there is one (used as a tie-breaker by the duplicate clean-up). */
  readonly id?: string;
  readonly userId: string;
  readonly specializationId: string;
  readonly level: string;
  /** Total XP; read as 0 when unmapped or NULL, written 0 on created rows. */
  readonly xp?: string;
  /** Completed sessions; read as 0 when unmapped or NULL, written 0 on created rows. */
  readonly sessions?: string;
  readonly createdAt?: string;
  /** Set to the batch time on every write. */
  readonly updatedAt?: string;
}

/**
 * The license table.
 *
 * ```ts
 * createPgMapping({ licenses: { lastAdvancedAt: null, updatedAt: 'modified_at' } }, ORIGINAL_SYSTEM_MAPPING);
 * ```
 */
export interface PgLicensesMapping {
  readonly table: string;
  /** The row id column; required when progression rows reference licenses by id. */
  readonly id?: string;
  readonly userId: string;
  readonly specializationId: string;
  readonly level: string;
  readonly maxAchievedLevel: string;
  /** Set on created licenses. */
  readonly startedAt?: string;
  /** Set when a write changes the level. */
  readonly lastAdvancedAt?: string;
  readonly createdAt?: string;
  /** Set to the batch time on every write. */
  readonly updatedAt?: string;
}

/**
 * The history table: one row per license level change.
 *
 * ```ts
 * // History keyed by user and specialization instead of a license id:
 * createPgMapping({ progressions: { licenseId: null, userId: 'user_id', specializationId: 'specialization_type' } }, ORIGINAL_SYSTEM_MAPPING);
 * ```
 */
export interface PgProgressionsMapping {
  readonly table: string;
  /** Foreign key to the license row (`licenses.id`); or map `userId` + `specializationId`. */
  readonly licenseId?: string;
  readonly userId?: string;
  readonly specializationId?: string;
  readonly fromLevel: string;
  readonly toLevel: string;
  readonly advancedBy?: string;
  readonly reason?: string;
  readonly evidence?: string;
  readonly advancedAt?: string;
  /**
   * The `fromLevel` written for a license creation: `null` where the column is nullable
   * (levelsync's schema), a sentinel such as `0` where it is NOT NULL (the original system).
   * Rows holding this value read back as creations.
   */
  readonly creationFromLevel: number | null;
}

/**
 * Where levelsync finds progress, licenses, their history and the maximum levels: table and
 * column names, all validated as plain identifiers and always double-quoted in SQL. Build one
 * with {@link createPgMapping} (from a base and a patch) or {@link parsePgMapping}; use
 * {@link LEVELSYNC_MAPPING} for levelsync's own schema and {@link ORIGINAL_SYSTEM_MAPPING} for
 * the original system's tables.
 *
 * ```ts
 * const mapping = createPgMapping({ schema: 'app' }, ORIGINAL_SYSTEM_MAPPING);
 * if (mapping.isErr()) throw new Error(mapping.error.message); // names the bad field
 * const store = createPgSyncStore(pool, { mapping: mapping.value });
 * ```
 */
export interface PgMapping {
  /** The schema of every table that is not itself schema-qualified. */
  readonly schema: string;
  readonly userIdType: PgUserIdType;
  readonly specializations: PgSpecializationsMapping;
  readonly progress: PgProgressMapping;
  readonly licenses: PgLicensesMapping;
  readonly progressions: PgProgressionsMapping;
}

const column = IdentifierSchema;
const table = QualifiedIdentifierSchema;

/**
 * The zod schema of a {@link PgMapping}; every identifier is checked against
 * `IDENTIFIER_PATTERN` and unknown keys are refused (a typo would otherwise be ignored).
 *
 * ```ts
 * const parsed = PgMappingSchema.safeParse(json);
 * ```
 */
export const PgMappingSchema = z
  .strictObject({
    schema: IdentifierSchema,
    userIdType: z.enum(['integer', 'bigint', 'text', 'uuid'], { error: 'must be integer, bigint, text or uuid' }),
    specializations: z.strictObject({ table, id: column, maxLevel: column, name: column.optional() }),
    progress: z.strictObject({
      table,
      id: column.optional(),
      userId: column,
      specializationId: column,
      level: column,
      xp: column.optional(),
      sessions: column.optional(),
      createdAt: column.optional(),
      updatedAt: column.optional(),
    }),
    licenses: z.strictObject({
      table,
      id: column.optional(),
      userId: column,
      specializationId: column,
      level: column,
      maxAchievedLevel: column,
      startedAt: column.optional(),
      lastAdvancedAt: column.optional(),
      createdAt: column.optional(),
      updatedAt: column.optional(),
    }),
    progressions: z.strictObject({
      table,
      licenseId: column.optional(),
      userId: column.optional(),
      specializationId: column.optional(),
      fromLevel: column,
      toLevel: column,
      advancedBy: column.optional(),
      reason: column.optional(),
      evidence: column.optional(),
      advancedAt: column.optional(),
      creationFromLevel: z.number({ error: 'must be an integer or null' }).int({ error: 'must be an integer or null' }).nullable(),
    }),
  })
  .superRefine((mapping, ctx) => {
    const { progressions, licenses } = mapping;
    if (progressions.licenseId === undefined && (progressions.userId === undefined || progressions.specializationId === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['progressions', 'licenseId'],
        message: 'map either licenseId (a foreign key to licenses.id) or both userId and specializationId',
      });
    }
    if (progressions.licenseId !== undefined && licenses.id === undefined) {
      ctx.addIssue({ code: 'custom', path: ['licenses', 'id'], message: 'is required when progressions.licenseId is mapped' });
    }
  });

/**
 * Validates a complete mapping (from a configuration file, say). The error names the offending
 * field, e.g. `progress.level`.
 *
 * ```ts
 * const mapping = parsePgMapping(JSON.parse(text));
 * if (mapping.isErr()) console.error(mapping.error.message);
 * ```
 */
export function parsePgMapping(input: unknown): Result<PgMapping, ValidationError> {
  return parseWith(PgMappingSchema, input, 'PostgreSQL mapping').map((value) => stripUndefined(value) as PgMapping);
}

type Patch<T> = { readonly [K in keyof T]?: undefined extends T[K] ? T[K] | null : T[K] };

/**
 * Changes to a base mapping: top-level fields replace, each table section is merged field by
 * field, and `null` removes an optional column (e.g. `{ licenses: { updatedAt: null } }`).
 *
 * ```ts
 * const patch: PgMappingPatch = { schema: 'app', licenses: { updatedAt: null } };
 * const mapping = createPgMapping(patch, ORIGINAL_SYSTEM_MAPPING);
 * ```
 */
export interface PgMappingPatch {
  readonly schema?: string;
  readonly userIdType?: PgUserIdType;
  readonly specializations?: Patch<PgSpecializationsMapping>;
  readonly progress?: Patch<PgProgressMapping>;
  readonly licenses?: Patch<PgLicensesMapping>;
  readonly progressions?: Patch<PgProgressionsMapping>;
}

const SECTIONS = ['specializations', 'progress', 'licenses', 'progressions'] as const;

/**
 * Builds a variant of a mapping — another schema, renamed columns — and validates the result.
 *
 * ```ts
 * const legacy = createPgMapping(
 *   { schema: 'app', progress: { userId: 'user_id', updatedAt: null } },
 *   ORIGINAL_SYSTEM_MAPPING,
 * );
 * ```
 */
export function createPgMapping(patch: PgMappingPatch, base: PgMapping = LEVELSYNC_MAPPING): Result<PgMapping, ValidationError> {
  if (typeof patch !== 'object' || patch === null) return parsePgMapping(patch);
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if ((SECTIONS as readonly string[]).includes(key) && typeof value === 'object' && value !== null) {
      const section: Record<string, unknown> = { ...(base[key as (typeof SECTIONS)[number]] as object) };
      for (const [field, fieldValue] of Object.entries(value as Record<string, unknown>)) {
        if (fieldValue === null && field !== 'creationFromLevel') delete section[field];
        else if (fieldValue !== undefined) section[field] = fieldValue;
      }
      merged[key] = section;
    } else if (value !== undefined) {
      merged[key] = value;
    }
  }
  return parsePgMapping(merged);
}

/**
 * Options of levelsync's own schema (also `migrate()`'s options).
 *
 * ```ts
 * const options: LevelsyncSchemaOptions = { schema: 'sync', userIdType: 'text' };
 * await migrate(pool, options);
 * const mapping = createLevelsyncMapping(options); // a Result: `mapping.value` once `mapping.isOk()`
 * ```
 */
export interface LevelsyncSchemaOptions {
  /** Default `levelsync`. */
  readonly schema?: string;
  /** The type of user id columns. Default `bigint`. */
  readonly userIdType?: 'bigint' | 'text';
}

/**
 * The mapping of levelsync's own schema as `migrate()` creates it, in the given schema and with
 * the given user id type. Fails with a `ValidationError` naming `schema` for a hostile name.
 *
 * ```ts
 * const mapping = createLevelsyncMapping({ schema: 'sync', userIdType: 'text' });
 * if (mapping.isErr()) throw new Error(mapping.error.message);
 * const store = createPgSyncStore(pool, { mapping: mapping.value });
 * ```
 */
export function createLevelsyncMapping(options: LevelsyncSchemaOptions = {}): Result<PgMapping, ValidationError> {
  return parsePgMapping({
    schema: options.schema ?? 'levelsync',
    userIdType: options.userIdType ?? 'bigint',
    specializations: { table: 'specializations', id: 'id', maxLevel: 'max_level', name: 'name' },
    progress: {
      table: 'progress',
      id: 'id',
      userId: 'user_id',
      specializationId: 'specialization_id',
      level: 'level',
      xp: 'xp',
      sessions: 'sessions',
      createdAt: 'created_at',
      updatedAt: 'updated_at',
    },
    licenses: {
      table: 'licenses',
      id: 'id',
      userId: 'user_id',
      specializationId: 'specialization_id',
      level: 'level',
      maxAchievedLevel: 'max_achieved_level',
      startedAt: 'started_at',
      lastAdvancedAt: 'last_advanced_at',
      createdAt: 'created_at',
      updatedAt: 'updated_at',
    },
    progressions: {
      table: 'license_progressions',
      licenseId: 'license_id',
      fromLevel: 'from_level',
      toLevel: 'to_level',
      advancedBy: 'advanced_by',
      reason: 'reason',
      evidence: 'evidence',
      advancedAt: 'advanced_at',
      creationFromLevel: null,
    },
  });
}

function mustBuild(result: Result<PgMapping, ValidationError>): PgMapping {
  if (result.isErr()) throw new Error(result.error.message);
  return Object.freeze(result.value);
}

/**
 * levelsync's own schema as `migrate()` creates it with default options: schema `levelsync`,
 * `bigint` user ids, tables `specializations`, `progress`, `licenses`, `license_progressions`.
 *
 * ```ts
 * await migrate(pool);
 * const store = createPgSyncStore(pool, { mapping: LEVELSYNC_MAPPING });
 * ```
 */
export const LEVELSYNC_MAPPING: PgMapping = mustBuild(createLevelsyncMapping());

/**
 * The original system's tables (schema `public`, integer user ids):
 * `specialization_progress(student_id, specialization_id, current_level, total_xp,
 * completed_sessions, …)`, `user_licenses(user_id, specialization_type, current_level,
 * max_achieved_level, started_at NOT NULL, last_advanced_at, …)`,
 * `license_progressions(user_license_id, from_level NOT NULL, to_level, advanced_by,
 * advancement_reason, requirements_met, advanced_at)` and `specializations(id, max_levels)`.
 * A creation is recorded with `from_level = 0` (the column is NOT NULL).
 *
 * ```ts
 * const store = createPgSyncStore(pool, { mapping: ORIGINAL_SYSTEM_MAPPING });
 * const inAppSchema = createPgMapping({ schema: 'app' }, ORIGINAL_SYSTEM_MAPPING);
 * ```
 */
export const ORIGINAL_SYSTEM_MAPPING: PgMapping = mustBuild(
  parsePgMapping({
    schema: 'public',
    userIdType: 'integer',
    specializations: { table: 'specializations', id: 'id', maxLevel: 'max_levels', name: 'name' },
    progress: {
      table: 'specialization_progress',
      id: 'id',
      userId: 'student_id',
      specializationId: 'specialization_id',
      level: 'current_level',
      xp: 'total_xp',
      sessions: 'completed_sessions',
      createdAt: 'created_at',
      updatedAt: 'updated_at',
    },
    licenses: {
      table: 'user_licenses',
      id: 'id',
      userId: 'user_id',
      specializationId: 'specialization_type',
      level: 'current_level',
      maxAchievedLevel: 'max_achieved_level',
      startedAt: 'started_at',
      lastAdvancedAt: 'last_advanced_at',
      createdAt: 'created_at',
      updatedAt: 'updated_at',
    },
    progressions: {
      table: 'license_progressions',
      licenseId: 'user_license_id',
      fromLevel: 'from_level',
      toLevel: 'to_level',
      advancedBy: 'advanced_by',
      reason: 'advancement_reason',
      evidence: 'requirements_met',
      advancedAt: 'advanced_at',
      creationFromLevel: 0,
    },
  }),
);

/**
 * Validates a mapping given to a factory. An invalid mapping there is a programmer error
 * (validate untrusted input with {@link parsePgMapping} first): it throws a `TypeError` whose
 * `cause` is the `ValidationError` naming the field.
 *
 * ```ts
 * const mapping = requireMapping(untrusted); // throws TypeError (cause: ValidationError) when invalid
 * ```
 */
export function requireMapping(mapping: unknown): PgMapping {
  const parsed = parsePgMapping(mapping);
  if (parsed.isOk()) return parsed.value;
  throw new TypeError(parsed.error.message, { cause: parsed.error });
}

function stripUndefined<T>(value: T): T {
  if (Array.isArray(value) || typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) if (inner !== undefined) out[key] = stripUndefined(inner);
  return out as T;
}
