import { err, ok, type Result } from 'neverthrow';
import { z } from 'zod';
import { advancementRejected, validationError, type AdvancementRejected, type ValidationError } from '../errors.js';
import { parseWith } from '../_internal/zod.js';
import { LevelSchema } from './level.js';
import type { LevelDefinition, LevelThresholds } from './specialization.js';

// ---------------------------------------------------------------------------------------------
// License advancement
// ---------------------------------------------------------------------------------------------

/** A request to move a license from `currentLevel` to `targetLevel`. */
export interface AdvancementRequest {
  readonly currentLevel: number;
  readonly targetLevel: number;
  readonly maxLevel: number;
}

const AdvancementRequestSchema = z.object({
  currentLevel: LevelSchema,
  targetLevel: z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }),
  maxLevel: LevelSchema,
});

/**
 * Checks a license advancement against the level rules, in this order (the first failure wins):
 *
 * 1. `TargetNotHigher`: "Target level must be higher than current level"
 * 2. `SkipsLevels`: "Can only advance one level at a time"
 * 3. `AboveMaxLevel`: "Maximum level for this specialization is N"
 *
 * So 1 → 999 is a skip, not an above-max; 8 → 9 with a maximum of 8 is an above-max.
 *
 * ```ts
 * validateAdvancement({ currentLevel: 2, targetLevel: 3, maxLevel: 8 }).isOk(); // true
 * ```
 */
export function validateAdvancement(
  request: AdvancementRequest,
): Result<AdvancementRequest, AdvancementRejected | ValidationError> {
  const parsed = parseWith(AdvancementRequestSchema, request, 'advancement');
  if (parsed.isErr()) return err(parsed.error);
  const { currentLevel, targetLevel, maxLevel } = parsed.value;
  const reject = (reason: AdvancementRejected['reason'], message: string): Result<never, AdvancementRejected> =>
    err(advancementRejected(reason, message, { currentLevel, targetLevel, maxLevel }));
  if (targetLevel <= currentLevel) return reject('TargetNotHigher', 'Target level must be higher than current level');
  if (targetLevel > currentLevel + 1) return reject('SkipsLevels', 'Can only advance one level at a time');
  if (targetLevel > maxLevel) return reject('AboveMaxLevel', `Maximum level for this specialization is ${maxLevel}`);
  return ok({ currentLevel, targetLevel, maxLevel });
}

// ---------------------------------------------------------------------------------------------
// Progress level-up
// ---------------------------------------------------------------------------------------------

/** Cumulative totals of a progress record. */
export interface ProgressTotals {
  readonly level: number;
  readonly xp: number;
  readonly sessions: number;
  readonly projects: number;
  readonly theoryHours: number;
  readonly practiceHours: number;
}

/** What a learner gained in one step. Every field is a non-negative integer; missing means 0. */
export interface ProgressGain {
  readonly xp?: number;
  readonly sessions?: number;
  readonly projects?: number;
  readonly theoryHours?: number;
  readonly practiceHours?: number;
}

const gainField = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be an integer' })
  .min(0, { error: 'must not be negative' })
  .optional();
const ProgressGainSchema = z.strictObject({
  xp: gainField,
  sessions: gainField,
  projects: gainField,
  theoryHours: gainField,
  practiceHours: gainField,
});
const totalField = z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(0, { error: 'must not be negative' });
const ProgressTotalsSchema = z.object({
  level: LevelSchema,
  xp: totalField,
  sessions: totalField,
  projects: totalField,
  theoryHours: totalField,
  practiceHours: totalField,
});

/** The outcome of {@link applyProgressGain}. */
export interface ProgressLevelUp {
  readonly before: ProgressTotals;
  readonly after: ProgressTotals;
  readonly leveledUp: boolean;
  readonly levelsGained: number;
}

/** True when cumulative `totals` meet every threshold the level defines. */
export function meetsThresholds(totals: Omit<ProgressTotals, 'level'>, thresholds: LevelThresholds): boolean {
  return (
    totals.xp >= thresholds.xp &&
    totals.sessions >= thresholds.sessions &&
    (thresholds.projects === undefined || totals.projects >= thresholds.projects) &&
    (thresholds.theoryHours === undefined || totals.theoryHours >= thresholds.theoryHours) &&
    (thresholds.practiceHours === undefined || totals.practiceHours >= thresholds.practiceHours) &&
    (thresholds.totalHours === undefined || totals.theoryHours + totals.practiceHours >= thresholds.totalHours)
  );
}

/**
 * Adds a gain to cumulative totals and raises the level while the next level's thresholds are
 * met: several levels in one call when earned, never past the last defined level. Which
 * thresholds apply comes from the level definitions only. Negative or fractional gains are
 * rejected with a `ValidationError` naming the field.
 *
 * ```ts
 * const levels = DEFAULT_CATALOG.get('INTERNSHIP')!.levels!;
 * applyProgressGain({ level: 1, xp: 0, sessions: 0, projects: 0, theoryHours: 0, practiceHours: 0 },
 *   { xp: 20_000, sessions: 20, theoryHours: 130 }, levels); // → level 2
 * ```
 */
export function applyProgressGain(
  current: ProgressTotals,
  gain: ProgressGain,
  levels: readonly LevelDefinition[],
): Result<ProgressLevelUp, ValidationError> {
  const totals = parseWith(ProgressTotalsSchema, current, 'progress totals');
  if (totals.isErr()) return err(totals.error);
  const parsedGain = parseWith(ProgressGainSchema, gain, 'progress gain');
  if (parsedGain.isErr()) return err(parsedGain.error);
  const g = parsedGain.value;
  const before = totals.value;
  let after: ProgressTotals = {
    level: before.level,
    xp: before.xp + (g.xp ?? 0),
    sessions: before.sessions + (g.sessions ?? 0),
    projects: before.projects + (g.projects ?? 0),
    theoryHours: before.theoryHours + (g.theoryHours ?? 0),
    practiceHours: before.practiceHours + (g.practiceHours ?? 0),
  };
  for (const [field, value] of Object.entries(after)) {
    if (!Number.isSafeInteger(value)) {
      return err(validationError('progress gain', [{ field, message: 'the total would exceed the safe integer range' }]));
    }
  }
  for (;;) {
    const next = levels[after.level]; // levels[i] defines level i + 1
    if (next === undefined || !meetsThresholds(after, next.thresholds)) break;
    after = { ...after, level: after.level + 1 };
  }
  return ok({ before, after, leveledUp: after.level > before.level, levelsGained: after.level - before.level });
}
