/**
 * The two mappings levelsync ships: its own schema (as `migrate()` creates it) and the original
 * system's tables.
 *
 * @module
 */
import type { Result } from 'neverthrow';
import type { ValidationError } from '../../errors.js';
import { parsePgMapping } from './parse.js';
import type { PgMapping } from './schema.js';

/**
 * Options of levelsync's own schema (also `migrate()`'s options).
 *
 * ```ts
 * const options: LevelsyncSchemaOptions = { schema: 'sync', userIdType: 'text' };
 * await migrate(pool, options);
 * const mapping = createLevelsyncMapping(options);
 * if (mapping.isErr()) throw new TypeError(mapping.error.message);
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
 * if (mapping.isErr()) console.error(mapping.error.message); // names `schema` for a hostile name
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
