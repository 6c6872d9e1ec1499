import { describe, expect, it } from 'vitest';
import type { SyncAction } from 'levelsync';
import { actionVisibility, hasTrail, historyProblems, indexSnapshot, lostUpdates, maxAchievedProblems, newDuplicates, type LevelChange } from './support/invariants.js';
import { printFigures } from './support/reliability.js';
import type { HistoryRow, LicenseRow, ProgressRow, Snapshot } from './support/world.js';

// The reliability suite's checks must be able to fail: each is shown a lost update, a doubled
// or missing history row, a lowered max achieved level, a new duplicate, a partial write. (No
// database needed: these run everywhere.)

function snap(progress: ProgressRow[], licenses: LicenseRow[], history: HistoryRow[] = []): Snapshot {
  return { progress, licenses, history, licenseById: new Map(licenses.map((l) => [l.id, l])) };
}
const p = (level: number | null, id = 1, userId = 7, specializationId = 'LFA_COACH'): ProgressRow => ({ id, userId, specializationId, level });
const l = (level: number | null, maxAchievedLevel: number | null = level, id = 1, userId = 7, specializationId = 'LFA_COACH'): LicenseRow => ({
  id,
  userId,
  specializationId,
  level,
  maxAchievedLevel,
});
const h = (id: number, fromLevel: number | null, toLevel: number, licenseId = 1): HistoryRow => ({ id, licenseId, fromLevel, toLevel, reason: 'r', advancedBy: null });
const change = (side: 'progress' | 'license', from: number | null, to: number, source = 'writer-0'): LevelChange => ({ side, userId: 7, specializationId: 'LFA_COACH', from, to, source });

describe('reliability checks detect what they look for', () => {
  it('hasTrail: changes that chain from the first value to the last, in some order', () => {
    expect(hasTrail('3', '3', [])).toBe(true);
    expect(hasTrail('3', '5', [['4', '5'], ['3', '4']])).toBe(true);
    expect(hasTrail('absent', '2', [['absent', '1'], ['1', '2']])).toBe(true);
    expect(hasTrail('3', '4', [['3', '5'], ['5', '3'], ['3', '4']])).toBe(true);
    expect(hasTrail('3', '5', [['3', '4'], ['3', '5']])).toBe(false); // a blind overwrite
    expect(hasTrail('3', '5', [])).toBe(false); // an unexplained change
    expect(hasTrail('3', '3', [['3', '4']])).toBe(false); // a logged change that never landed
    expect(hasTrail('1', '1', [['2', '3'], ['3', '2']])).toBe(false); // a cycle not reachable from the start
    printFigures('checks/hasTrail', { cases: 8 });
  });

  it('lostUpdates: a writer change overwritten by a write computed from an older state', () => {
    expect(lostUpdates('progress', [p(3)], [p(5)], [change('progress', 3, 4), change('progress', 4, 5, 'bulk')]).problems).toEqual([]);
    expect(lostUpdates('progress', [p(3)], [p(5)], [change('progress', 3, 4), change('progress', 3, 5, 'bulk')]).problems).toHaveLength(1);
    expect(lostUpdates('license', [l(3)], [l(5)], []).problems).toHaveLength(1);
    expect(lostUpdates('progress', [], [p(1)], []).problems).toHaveLength(1); // a row nobody created
    printFigures('checks/lostUpdates', { cases: 4 });
  });

  it('historyProblems: one row per observed license change, chained, none doubled or missing', () => {
    const before = snap([], [l(3)]);
    expect(historyProblems(before, snap([], [l(5)], [h(1, 3, 4), h(2, 4, 5)]), [change('license', 3, 4), change('license', 4, 5, 'bulk')]).problems).toEqual([]);
    // A doubled row.
    expect(historyProblems(before, snap([], [l(4)], [h(1, 3, 4), h(2, 3, 4)]), [change('license', 3, 4)]).problems.length).toBeGreaterThan(0);
    // A change without its row.
    expect(historyProblems(before, snap([], [l(4)]), [change('license', 3, 4)]).problems.length).toBeGreaterThan(0);
    // A creation: from null.
    expect(historyProblems(snap([], []), snap([], [l(2)], [h(1, null, 2)]), [change('license', null, 2, 'bulk')]).problems).toEqual([]);
    printFigures('checks/historyProblems', { cases: 4 });
  });

  it('maxAchievedProblems and newDuplicates', () => {
    expect(maxAchievedProblems(snap([], [l(3, 5)]), snap([], [l(3, 4)]))).toHaveLength(1);
    expect(maxAchievedProblems(snap([], [l(3, 3)]), snap([], [l(4, 3)]))).toHaveLength(1);
    expect(maxAchievedProblems(snap([], [l(4, 3)]), snap([], [l(4, 3)]))).toEqual([]); // seeded that way, untouched
    expect(newDuplicates(snap([p(3)], [l(3)]), snap([p(3)], [l(3), l(3, 3, 2, 7, 'COACH')]))).toHaveLength(1);
    expect(newDuplicates(snap([p(3), p(3, 2, 7, 'COACH')], []), snap([p(3), p(3, 2, 7, 'COACH')], []))).toEqual([]);
    printFigures('checks/maxAchievedProblems and newDuplicates', { cases: 5 });
  });

  it('actionVisibility: written, untouched, or neither', () => {
    const action: SyncAction = {
      kind: 'SetLicenseLevel',
      userId: 7,
      specializationId: 'LFA_COACH',
      expected: { progress: { specializationId: 'LFA_COACH', level: 4 }, license: { specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 } },
      write: { level: 4, maxAchievedLevel: 4 },
      reason: 'r',
      evidence: 'e',
    };
    expect(actionVisibility(action, indexSnapshot(snap([p(4)], [l(4)], [h(9, 3, 4)]), 0))).toBe('written');
    expect(actionVisibility(action, indexSnapshot(snap([p(4)], [l(3)]), 0))).toBe('untouched');
    expect(actionVisibility(action, indexSnapshot(snap([p(4)], [l(4)]), 0))).toBe('other'); // written without its history row
    expect(actionVisibility(action, indexSnapshot(snap([p(4)], [l(3)], [h(9, 3, 4)]), 0))).toBe('other'); // history without the write
    printFigures('checks/actionVisibility', { cases: 4 });
  });
});
