import type { Result } from 'neverthrow';
import { z } from 'zod';
import type { ValidationError } from '../errors.js';
import { parseWith } from '../_internal/zod.js';
import { LevelSchema, MaxLevelSchema } from './level.js';
import { SpecializationIdSchema } from './specialization-id.js';

const count = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int({ error: `${what} must be an integer` })
    .min(0, { error: `${what} must not be negative` });

/**
 * Cumulative totals a learner needs to reach a level. `xp` and `sessions` always apply; the
 * others apply only where a level defines them (hours are not special to any specialization).
 */
export const LevelThresholdsSchema = z.strictObject({
  xp: count('xp'),
  sessions: count('sessions'),
  projects: count('projects').optional(),
  theoryHours: count('theoryHours').optional(),
  practiceHours: count('practiceHours').optional(),
  /** Theory plus practice hours together (the internship's `total_hours`). */
  totalHours: count('totalHours').optional(),
});
export type LevelThresholds = z.output<typeof LevelThresholdsSchema>;

/** One level of a specialization: its number, a stable code, a display name and its thresholds. */
export const LevelDefinitionSchema = z.strictObject({
  level: LevelSchema,
  code: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, { error: 'must be a lower-case code such as "growth_hacker"' }),
  name: z.string().trim().min(1, { error: 'must not be empty' }).max(200),
  thresholds: LevelThresholdsSchema,
});
export type LevelDefinition = z.output<typeof LevelDefinitionSchema>;

/** A legacy id that names the same specialization (PLAYER → GANCUJU_PLAYER). */
export const SpecializationAliasSchema = z.strictObject({
  id: SpecializationIdSchema,
  /** After this date (ISO `YYYY-MM-DD`) the alias is refused when used as input. */
  deprecatedAfter: z.iso.date({ error: 'must be a date such as 2026-05-18' }).optional(),
});
export type SpecializationAlias = z.output<typeof SpecializationAliasSchema>;

/**
 * A specialization: id, display name, maximum level, optional level definitions and aliases.
 * Level definitions, when present, are numbered 1, 2, 3… without gaps and never exceed `maxLevel`
 * (the original system shipped five internship levels against a maximum of three).
 */
export const SpecializationSchema = z
  .strictObject({
    id: SpecializationIdSchema,
    name: z.string().trim().min(1, { error: 'must not be empty' }).max(200),
    maxLevel: MaxLevelSchema,
    levels: z.array(LevelDefinitionSchema).optional(),
    aliases: z.array(SpecializationAliasSchema).optional(),
  })
  .superRefine((spec, ctx) => {
    const levels = spec.levels ?? [];
    levels.forEach((def, index) => {
      if (def.level !== index + 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels', index, 'level'],
          message: `must be ${index + 1}: levels are numbered 1, 2, 3… in order`,
        });
      }
    });
    if (levels.length > spec.maxLevel) {
      ctx.addIssue({
        code: 'custom',
        path: ['levels'],
        message: `defines ${levels.length} levels but maxLevel is ${spec.maxLevel}`,
      });
    }
    (spec.aliases ?? []).forEach((alias, index) => {
      if (alias.id === spec.id) {
        ctx.addIssue({ code: 'custom', path: ['aliases', index, 'id'], message: 'must differ from the specialization id' });
      }
    });
  });
export type Specialization = z.output<typeof SpecializationSchema>;
export type SpecializationInput = z.input<typeof SpecializationSchema>;

/** Validates a specialization definition. */
export function parseSpecialization(input: unknown): Result<Specialization, ValidationError> {
  return parseWith(SpecializationSchema, input, 'specialization');
}
