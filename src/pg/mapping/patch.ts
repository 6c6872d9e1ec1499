/**
 * The merge builder: a variant of a mapping from a base and a patch, validated.
 *
 * @module
 */
import type { Result } from 'neverthrow';
import type { ValidationError } from '../../errors.js';
import { parsePgMapping } from './parse.js';
import { LEVELSYNC_MAPPING } from './presets.js';
import type { PgLicensesMapping, PgMapping, PgProgressionsMapping, PgProgressMapping, PgSpecializationsMapping, PgUserIdType } from './schema.js';

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
