import type { DeprecatedSpecializationId, InvalidMaxLevel, UnknownSpecialization } from '../errors.js';
import type { ResolutionIssue } from './resolution.js';

// The errors of the max-level port, built beside it (their types live in `errors.ts` with every
// other levelsync error).

/** A stored maximum level that is not an integer ≥ 1: ignored, and reported on the resolution. */
export function invalidMaxLevel(specializationId: string, repository: string, value: unknown): InvalidMaxLevel {
  return Object.freeze({
    _tag: 'InvalidMaxLevel',
    specializationId,
    repository,
    value,
    message: `Repository "${repository}" holds an invalid maximum level for '${specializationId}': ${formatValue(value)} (must be an integer ≥ 1)`,
  });
}

/** An id no repository and no fallback constant knows, with the problems met on the way. */
export function unknownSpecialization(specializationId: string, errors: readonly ResolutionIssue[]): UnknownSpecialization {
  const why = errors.length === 0 ? '' : ` (${errors.length} repository problem${errors.length === 1 ? '' : 's'} met; first: ${errors[0]?.message})`;
  return Object.freeze({
    _tag: 'UnknownSpecialization',
    specializationId,
    message: `Unknown specialization '${specializationId}': no repository and no fallback constant knows it${why}`,
    errors: Object.freeze([...errors]),
  });
}

/** A legacy alias used after its deprecation date, refused (`refuseDeprecatedAliases`). */
export function deprecatedSpecializationId(specializationId: string, canonicalId: string, deprecatedAfter: string): DeprecatedSpecializationId {
  return Object.freeze({
    _tag: 'DeprecatedSpecializationId',
    specializationId,
    canonicalId,
    deprecatedAfter,
    message: `Specialization ID '${specializationId}' is no longer supported. Use '${canonicalId}' instead.`,
  });
}

/** A value as it reads in a message: strings and objects as JSON, the rest as `String()` gives it. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}
