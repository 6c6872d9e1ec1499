/**
 * Validation of a whole mapping: as a `Result` for untrusted input, or throwing for a factory's
 * argument (a programmer error).
 *
 * @module
 */
import type { Result } from 'neverthrow';
import type { ValidationError } from '../../errors.js';
import { parseWith } from '../../_internal/zod.js';
import { PgMappingSchema, type PgMapping } from './schema.js';

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
