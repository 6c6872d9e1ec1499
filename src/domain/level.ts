import { z } from 'zod';

/** A level: an integer from 1 upwards (the upper bound is the specialization's maximum). */
export const LevelSchema = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be an integer' })
  .min(1, { error: 'must be at least 1' })
  .max(2_147_483_647, { error: 'must fit a 32-bit integer' });

export type Level = z.output<typeof LevelSchema>;

/** A maximum level: an integer ≥ 1. */
export const MaxLevelSchema = LevelSchema;

/** True when `value` is an integer ≥ 1 (a usable level or maximum). */
export function isLevel(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

/** True when `level` is a level and at most `maxLevel`. */
export function isLevelWithin(level: unknown, maxLevel: number): level is number {
  return isLevel(level) && level <= maxLevel;
}
