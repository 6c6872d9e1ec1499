import { describe, expect, it } from 'vitest';
import { isLevel, isLevelWithin, LevelSchema } from '../../src/domain/level.js';
import { LicenseRecordSchema, ProgressRecordSchema } from '../../src/domain/records.js';

describe('isLevel / isLevelWithin', () => {
  it('accepts integers ≥ 1 only', () => {
    expect([1, 8, 3].every(isLevel)).toBe(true);
    expect([0, -1, 3.5, Number.NaN, Number.POSITIVE_INFINITY, null, '3'].some(isLevel)).toBe(false);
  });

  it('bounds a level by a maximum', () => {
    expect(isLevelWithin(8, 8)).toBe(true);
    expect(isLevelWithin(9, 8)).toBe(false);
    expect(isLevelWithin(0, 8)).toBe(false);
  });

  it('LevelSchema rejects values that do not fit a 32-bit integer', () => {
    expect(LevelSchema.safeParse(2_147_483_647).success).toBe(true);
    expect(LevelSchema.safeParse(2_147_483_648).success).toBe(false);
  });
});

describe('record schemas', () => {
  it('normalises the specialization id of a progress row and rejects negative totals', () => {
    const row = { userId: 7, specializationId: 'internship', level: 2, xp: 0, sessions: 0, projects: 0, theoryHours: 0, practiceHours: 0 };
    expect(ProgressRecordSchema.parse(row).specializationId).toBe('INTERNSHIP');
    const failed = ProgressRecordSchema.safeParse({ ...row, xp: -1 });
    expect(failed.success).toBe(false);
    expect(failed.error?.issues[0]?.path).toEqual(['xp']);
  });

  it('rejects a license whose maxAchievedLevel is below its level, on that field', () => {
    const license = { userId: 'u1', specializationId: 'LFA_COACH', level: 4, maxAchievedLevel: 3, startedAt: '2026-01-01', lastAdvancedAt: null };
    const failed = LicenseRecordSchema.safeParse(license);
    expect(failed.success).toBe(false);
    expect(failed.error?.issues[0]?.path).toEqual(['maxAchievedLevel']);
    expect(LicenseRecordSchema.safeParse({ ...license, maxAchievedLevel: 4 }).success).toBe(true);
  });
});
