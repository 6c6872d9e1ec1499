/**
 * The mapping's single source of truth: the zod schema of a {@link PgMapping}. Every public
 * mapping type is derived from it, so the schema and the types cannot drift apart.
 *
 * @module
 */
import { z } from 'zod';
import { IdentifierSchema, QualifiedIdentifierSchema } from '../identifier.js';

const column = IdentifierSchema;
const table = QualifiedIdentifierSchema;

const UserIdTypeSchema = z.enum(['integer', 'bigint', 'text', 'uuid'], { error: 'must be integer, bigint, text or uuid' });

const SpecializationsMappingSchema = z.strictObject({
  table,
  /** The specialization id column (text). */
  id: column,
  /** The maximum level column. */
  maxLevel: column,
  /** A display name column; written by `upsertSpecializations` when mapped. */
  name: column.optional(),
});

const ProgressMappingSchema = z.strictObject({
  table,
  /** A row id column, when there is one (used as a tie-breaker by the duplicate clean-up). */
  id: column.optional(),
  userId: column,
  specializationId: column,
  level: column,
  /** Total XP; read as 0 when unmapped or NULL, written 0 on created rows. */
  xp: column.optional(),
  /** Completed sessions; read as 0 when unmapped or NULL, written 0 on created rows. */
  sessions: column.optional(),
  createdAt: column.optional(),
  /** Set to the batch time on every write. */
  updatedAt: column.optional(),
});

const LicensesMappingSchema = z.strictObject({
  table,
  /** The row id column; required when progression rows reference licenses by id. */
  id: column.optional(),
  userId: column,
  specializationId: column,
  level: column,
  maxAchievedLevel: column,
  /** Set on created licenses. */
  startedAt: column.optional(),
  /** Set when a write changes the level. */
  lastAdvancedAt: column.optional(),
  createdAt: column.optional(),
  /** Set to the batch time on every write. */
  updatedAt: column.optional(),
});

const ProgressionsMappingSchema = z.strictObject({
  table,
  /** Foreign key to the license row (`licenses.id`); or map `userId` + `specializationId`. */
  licenseId: column.optional(),
  userId: column.optional(),
  specializationId: column.optional(),
  fromLevel: column,
  toLevel: column,
  advancedBy: column.optional(),
  reason: column.optional(),
  evidence: column.optional(),
  advancedAt: column.optional(),
  /**
   * The `fromLevel` written for a license creation: `null` where the column is nullable
   * (levelsync's schema), a sentinel such as `0` where it is NOT NULL (the original system).
   * Rows holding this value read back as creations.
   */
  creationFromLevel: z.number({ error: 'must be an integer or null' }).int({ error: 'must be an integer or null' }).nullable(),
});

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
    /** The schema of every table that is not itself schema-qualified. */
    schema: IdentifierSchema,
    userIdType: UserIdTypeSchema,
    specializations: SpecializationsMappingSchema,
    progress: ProgressMappingSchema,
    licenses: LicensesMappingSchema,
    progressions: ProgressionsMappingSchema,
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
 * A parsed value as levelsync hands it out: read-only, and an unmapped optional column is
 * absent (parsing strips `undefined`), never present as `undefined`.
 */
type Parsed<T> = T extends object ? { readonly [K in keyof T]: Parsed<Exclude<T[K], undefined>> } : T;

/**
 * Where levelsync finds progress, licenses, their history and the maximum levels: table and
 * column names, all validated as plain identifiers and always double-quoted in SQL. Build one
 * with {@link createPgMapping} (from a base and a patch) or {@link parsePgMapping}; use
 * {@link LEVELSYNC_MAPPING} for levelsync's own schema and {@link ORIGINAL_SYSTEM_MAPPING} for
 * the original system's tables. The type is derived from {@link PgMappingSchema}.
 *
 * ```ts
 * const mapping = createPgMapping({ schema: 'app' }, ORIGINAL_SYSTEM_MAPPING);
 * if (mapping.isErr()) throw new TypeError(mapping.error.message);
 * ```
 */
// An interface (not a type alias) so that signatures and the API report name it, and so that it
// can be extended; its members are derived from the schema all the same.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PgMapping extends Parsed<z.output<typeof PgMappingSchema>> {}

/**
 * The SQL type of the user id columns, which decides how ids are bound and read back.
 *
 * ```ts
 * const mapping = createPgMapping({ userIdType: 'uuid' }, ORIGINAL_SYSTEM_MAPPING);
 * ```
 */
export type PgUserIdType = z.output<typeof UserIdTypeSchema>;

/**
 * Where the maximum level of each specialization lives.
 *
 * ```ts
 * createPgMapping({ specializations: { table: 'spec_catalog', maxLevel: 'level_count' } }, ORIGINAL_SYSTEM_MAPPING);
 * ```
 */
export type PgSpecializationsMapping = PgMapping['specializations'];

/**
 * The progress table: one row per (user, specialization) when the schema has a unique key.
 *
 * ```ts
 * createPgMapping({ progress: { table: 'learner_progress', userId: 'learner_id', xp: null } }, ORIGINAL_SYSTEM_MAPPING);
 * ```
 */
export type PgProgressMapping = PgMapping['progress'];

/**
 * The license table.
 *
 * ```ts
 * createPgMapping({ licenses: { lastAdvancedAt: null, updatedAt: 'modified_at' } }, ORIGINAL_SYSTEM_MAPPING);
 * ```
 */
export type PgLicensesMapping = PgMapping['licenses'];

/**
 * The history table: one row per license level change.
 *
 * ```ts
 * // History keyed by user and specialization instead of a license id:
 * createPgMapping({ progressions: { licenseId: null, userId: 'user_id', specializationId: 'specialization_type' } }, ORIGINAL_SYSTEM_MAPPING);
 * ```
 */
export type PgProgressionsMapping = PgMapping['progressions'];
