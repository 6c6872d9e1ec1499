// The README's rules example, checked so the documentation cannot drift from the code.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG, applyProgressGain, validateAdvancement } from 'levelsync';

describe('README: level rules', () => {
  it('shows the rejections as the README says', () => {
    expect(validateAdvancement({ currentLevel: 1, targetLevel: 999, maxLevel: 8 })._unsafeUnwrapErr()).toMatchObject({
      _tag: 'AdvancementRejected',
      reason: 'SkipsLevels',
      message: 'Can only advance one level at a time',
    });
    expect(validateAdvancement({ currentLevel: 8, targetLevel: 9, maxLevel: 8 })._unsafeUnwrapErr()).toMatchObject({
      reason: 'AboveMaxLevel',
      message: 'Maximum level for this specialization is 8',
    });
  });

  it('levels an intern up twice in one call, as the README says', () => {
    const internship = DEFAULT_CATALOG.get('INTERNSHIP')!;
    const gain = applyProgressGain(
      { level: 1, xp: 9_000, sessions: 14, projects: 0, theoryHours: 60, practiceHours: 10 },
      { xp: 20_000, sessions: 10, practiceHours: 70 },
      internship.levels!,
    )._unsafeUnwrap();
    expect(gain).toMatchObject({ after: { level: 3 }, leveledUp: true, levelsGained: 2 });
  });
});
