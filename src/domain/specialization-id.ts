import type { Result } from 'neverthrow';
import { z } from 'zod';
import type { ValidationError } from '../errors.js';
import { parseWith } from '../_internal/zod.js';

/** The shape of a specialization id once normalised: upper case, letter first, at most 50 characters. */
export const SPECIALIZATION_ID_PATTERN = /^[A-Z][A-Z0-9_]{0,49}$/;

/**
 * A specialization id. Input is trimmed and upper-cased (`"lfa_coach"` → `"LFA_COACH"`), then
 * must match {@link SPECIALIZATION_ID_PATTERN}.
 */
export const SpecializationIdSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .toUpperCase()
  .regex(SPECIALIZATION_ID_PATTERN, {
    error: 'must start with a letter and contain only letters, digits and underscores (at most 50)',
  });

export type SpecializationId = z.output<typeof SpecializationIdSchema>;

/** Normalises and validates a specialization id. */
export function parseSpecializationId(input: unknown, field = 'specializationId'): Result<SpecializationId, ValidationError> {
  return parseWith(SpecializationIdSchema, input, 'specialization id', field);
}
