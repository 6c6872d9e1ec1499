import { describe, expect, it } from 'vitest';
import { applyProgressGain, DEFAULT_CATALOG, type LevelDefinition, type ProgressTotals, validateAdvancement } from 'levelsync';
import { meetsThresholds } from '../../src/domain/rules.js';

const levelsOf = (id: string): readonly LevelDefinition[] => {
  const levels = DEFAULT_CATALOG.get(id)?.levels;
  if (levels === undefined) throw new Error(`no levels for ${id}`);
  return levels;
};

const START: ProgressTotals = Object.freeze({ level: 1, xp: 0, sessions: 0, projects: 0, theoryHours: 0, practiceHours: 0 });

describe('validateAdvancement', () => {
  it('accepts a one-level step within the maximum', () => {
    expect(validateAdvancement({ currentLevel: 2, targetLevel: 3, maxLevel: 8 })._unsafeUnwrap()).toEqual({
      currentLevel: 2,
      targetLevel: 3,
      maxLevel: 8,
    });
    expect(validateAdvancement({ currentLevel: 7, targetLevel: 8, maxLevel: 8 }).isOk()).toBe(true);
  });

  it('rejects 3 → 3 as TargetNotHigher with the exact message', () => {
    expect(validateAdvancement({ currentLevel: 3, targetLevel: 3, maxLevel: 8 })._unsafeUnwrapErr()).toEqual({
      _tag: 'AdvancementRejected',
      reason: 'TargetNotHigher',
      message: 'Target level must be higher than current level',
      currentLevel: 3,
      targetLevel: 3,
      maxLevel: 8,
    });
  });

  it('rejects a demotion as TargetNotHigher', () => {
    expect(validateAdvancement({ currentLevel: 4, targetLevel: 2, maxLevel: 8 })._unsafeUnwrapErr()).toMatchObject({
      reason: 'TargetNotHigher',
    });
  });

  it('rejects 1 → 999 as SkipsLevels (checked before AboveMaxLevel) with the exact message', () => {
    expect(validateAdvancement({ currentLevel: 1, targetLevel: 999, maxLevel: 8 })._unsafeUnwrapErr()).toMatchObject({
      _tag: 'AdvancementRejected',
      reason: 'SkipsLevels',
      message: 'Can only advance one level at a time',
    });
  });

  it('rejects 8 → 9 with a maximum of 8 as AboveMaxLevel with the exact message', () => {
    expect(validateAdvancement({ currentLevel: 8, targetLevel: 9, maxLevel: 8 })._unsafeUnwrapErr()).toMatchObject({
      _tag: 'AdvancementRejected',
      reason: 'AboveMaxLevel',
      message: 'Maximum level for this specialization is 8',
    });
    expect(validateAdvancement({ currentLevel: 3, targetLevel: 4, maxLevel: 3 })._unsafeUnwrapErr().message).toBe(
      'Maximum level for this specialization is 3',
    );
  });

  it('checks TargetNotHigher before AboveMaxLevel (9 → 9 with a maximum of 8)', () => {
    expect(validateAdvancement({ currentLevel: 9, targetLevel: 9, maxLevel: 8 })._unsafeUnwrapErr()).toMatchObject({
      reason: 'TargetNotHigher',
    });
  });

  it.each([
    [{ currentLevel: 0, targetLevel: 1, maxLevel: 8 }, 'currentLevel'],
    [{ currentLevel: 1, targetLevel: 2.5, maxLevel: 8 }, 'targetLevel'],
    [{ currentLevel: 1, targetLevel: 2, maxLevel: 0 }, 'maxLevel'],
    [{ currentLevel: '1', targetLevel: 2, maxLevel: 8 }, 'currentLevel'],
  ])('rejects bad input %j as a ValidationError naming %s', (request, field) => {
    const error = validateAdvancement(request as never)._unsafeUnwrapErr();
    expect(error).toMatchObject({ _tag: 'ValidationError', field });
    expect(error.message).toContain(field);
  });
});

describe('applyProgressGain', () => {
  it('raises several levels in one call when they are earned', () => {
    const result = applyProgressGain(START, { xp: 70_000, sessions: 18 }, levelsOf('GANCUJU_PLAYER'))._unsafeUnwrap();

    expect(result.after).toEqual({ level: 4, xp: 70_000, sessions: 18, projects: 0, theoryHours: 0, practiceHours: 0 });
    expect(result).toMatchObject({ before: START, leveledUp: true, levelsGained: 3 });
  });

  it('adds the gain to the totals without leveling up when the next threshold is not met', () => {
    const result = applyProgressGain({ ...START, xp: 20_000 }, { xp: 4_999, sessions: 12 }, levelsOf('GANCUJU_PLAYER'))._unsafeUnwrap();

    expect(result.after).toMatchObject({ level: 1, xp: 24_999, sessions: 12 });
    expect(result).toMatchObject({ leveledUp: false, levelsGained: 0 });
  });

  it('never goes past the last defined level', () => {
    const huge = { xp: 10_000_000, sessions: 10_000, projects: 100, theoryHours: 10_000, practiceHours: 10_000 };

    expect(applyProgressGain(START, huge, levelsOf('GANCUJU_PLAYER'))._unsafeUnwrap().after.level).toBe(8);
    expect(applyProgressGain(START, huge, levelsOf('INTERNSHIP'))._unsafeUnwrap().after.level).toBe(3);
    expect(applyProgressGain({ ...START, level: 3 }, huge, levelsOf('INTERNSHIP'))._unsafeUnwrap().levelsGained).toBe(0);
  });

  it('keeps the level when no levels are defined', () => {
    expect(applyProgressGain(START, { xp: 1_000_000 }, [])._unsafeUnwrap().after.level).toBe(1);
  });

  it('checks hours wherever a level defines them: LFA_COACH progress without hours stays put', () => {
    const levels = levelsOf('LFA_COACH');

    const withoutHours = applyProgressGain(START, { xp: 40_000, sessions: 20 }, levels)._unsafeUnwrap();
    expect(withoutHours.after.level).toBe(1);

    const theoryOnly = applyProgressGain(START, { xp: 40_000, sessions: 20, theoryHours: 40 }, levels)._unsafeUnwrap();
    expect(theoryOnly.after.level).toBe(1);

    const withHours = applyProgressGain(START, { xp: 40_000, sessions: 20, theoryHours: 40, practiceHours: 60 }, levels)._unsafeUnwrap();
    expect(withHours.after.level).toBe(2);
  });

  it('applies the INTERNSHIP totalHours threshold to theory and practice hours together', () => {
    const levels = levelsOf('INTERNSHIP');
    const base = { ...START, xp: 18_000, sessions: 18, theoryHours: 60, practiceHours: 59 };

    expect(applyProgressGain(base, {}, levels)._unsafeUnwrap().after.level).toBe(1); // 119 hours < 120
    expect(applyProgressGain(base, { practiceHours: 1 }, levels)._unsafeUnwrap().after.level).toBe(2); // 120 hours
  });

  it('reaches INTERNSHIP level 2 as documented', () => {
    const result = applyProgressGain(START, { xp: 20_000, sessions: 20, theoryHours: 130 }, levelsOf('INTERNSHIP'))._unsafeUnwrap();

    expect(result.after.level).toBe(2);
  });

  it.each([
    [{ xp: -5 }, 'xp', 'must not be negative'],
    [{ sessions: -1 }, 'sessions', 'must not be negative'],
    [{ theoryHours: 1.5 }, 'theoryHours', 'must be an integer'],
    [{ practiceHours: Number.NaN }, 'practiceHours', ''],
  ])('rejects the gain %j as a ValidationError naming %s, totals unchanged', (gain, field, message) => {
    const current = Object.freeze({ ...START, xp: 100 });

    const error = applyProgressGain(current, gain, levelsOf('LFA_COACH'))._unsafeUnwrapErr();

    expect(error).toMatchObject({ _tag: 'ValidationError', subject: 'progress gain', field });
    expect(error.message).toContain(field);
    expect(error.message).toContain(message);
    expect(current).toEqual({ ...START, xp: 100 });
  });

  it('rejects invalid current totals naming the field', () => {
    const error = applyProgressGain({ ...START, level: 0 }, { xp: 1 }, [])._unsafeUnwrapErr();

    expect(error).toMatchObject({ _tag: 'ValidationError', field: 'level' });
  });

  it('rejects a gain whose total would leave the safe integer range', () => {
    const error = applyProgressGain({ ...START, xp: Number.MAX_SAFE_INTEGER }, { xp: 1 }, [])._unsafeUnwrapErr();

    expect(error).toMatchObject({ _tag: 'ValidationError', field: 'xp' });
  });
});

describe('meetsThresholds', () => {
  const totals = { xp: 100, sessions: 5, projects: 1, theoryHours: 10, practiceHours: 10 };

  it('checks xp and sessions always, the others only when defined', () => {
    expect(meetsThresholds(totals, { xp: 100, sessions: 5 })).toBe(true);
    expect(meetsThresholds(totals, { xp: 101, sessions: 5 })).toBe(false);
    expect(meetsThresholds(totals, { xp: 0, sessions: 0, projects: 2 })).toBe(false);
    expect(meetsThresholds(totals, { xp: 0, sessions: 0, totalHours: 20 })).toBe(true);
    expect(meetsThresholds(totals, { xp: 0, sessions: 0, totalHours: 21 })).toBe(false);
  });
});
