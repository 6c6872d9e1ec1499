import { describe, expect, it } from 'vitest';
import { diff, type SyncPair } from 'levelsync';
import { DESYNC_KINDS } from '../../src/sync/desync.js';
import { diffPair } from '../../src/sync/diff.js';

const max = (id: string) => ({ GANCUJU_PLAYER: 8, LFA_COACH: 8, INTERNSHIP: 3 } as Record<string, number>)[id];
const pair = (over: Partial<SyncPair> = {}): SyncPair => ({
  userId: 1,
  specializationId: 'LFA_COACH',
  progress: [{ specializationId: 'LFA_COACH', level: 3, xp: 60_000, sessions: 20 }],
  licenses: [{ specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 }],
  ...over,
});
const kinds = (p: SyncPair) => diffPair(p, { maxLevelOf: max }).map((d) => d.kind);

describe('diffPair', () => {
  it('reports nothing for a pair in sync', () => {
    expect(diffPair(pair(), { maxLevelOf: max })).toEqual([]);
  });

  it('reports a level mismatch with both levels, the maximum and the difference', () => {
    const [d] = diffPair(pair({ licenses: [{ specializationId: 'LFA_COACH', level: 5, maxAchievedLevel: 5 }] }), { maxLevelOf: max });
    expect(d).toMatchObject({ kind: 'LevelMismatch', progressLevel: 3, licenseLevel: 5, difference: -2, maxLevel: 8, userId: 1, specializationId: 'LFA_COACH' });
    expect(d?.progress?.xp).toBe(60_000);
  });

  it('reports orphans on both sides', () => {
    expect(kinds(pair({ licenses: [] }))).toEqual(['MissingLicense']);
    expect(kinds(pair({ progress: [] }))).toEqual(['MissingProgress']);
  });

  it('reports levels above the maximum, with the side', () => {
    const ds = diffPair(
      pair({
        specializationId: 'INTERNSHIP',
        progress: [{ specializationId: 'INTERNSHIP', level: 4, xp: 0, sessions: 0 }],
        licenses: [{ specializationId: 'INTERNSHIP', level: 5, maxAchievedLevel: 5 }],
      }),
      { maxLevelOf: max },
    );
    expect(ds.map((d) => [d.kind, 'side' in d ? d.side : null])).toEqual([
      ['AboveMaxLevel', 'progress'],
      ['AboveMaxLevel', 'license'],
      ['LevelMismatch', null],
    ]);
  });

  it.each([null, 0, -1, 2.5])('reports an invalid level %s', (level) => {
    const ds = diffPair(pair({ progress: [{ specializationId: 'LFA_COACH', level, xp: 0, sessions: 0 }] }), { maxLevelOf: max });
    expect(ds).toEqual([expect.objectContaining({ kind: 'InvalidLevel', side: 'progress', field: 'level', value: level })]);
  });

  it('reports an invalid or too low maximum achieved level', () => {
    expect(kinds(pair({ licenses: [{ specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: null }] }))).toEqual(['InvalidLevel']);
    expect(kinds(pair({ licenses: [{ specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 2 }] }))).toEqual(['MaxAchievedBelowLevel']);
  });

  it('reports an unknown specialization and skips the level checks', () => {
    expect(kinds(pair({ specializationId: 'MYSTERY', progress: [{ specializationId: 'MYSTERY', level: 99, xp: 0, sessions: 0 }], licenses: [] }))).toEqual([
      'UnknownSpecialization',
    ]);
  });

  it('reports duplicates per side and skips the level checks', () => {
    const p = pair({
      progress: [
        { specializationId: 'LFA_COACH', level: 3, xp: 0, sessions: 0 },
        { specializationId: 'LFA_COACH', level: 9, xp: 0, sessions: 0 },
      ],
    });
    expect(diffPair(p, { maxLevelOf: max })).toEqual([expect.objectContaining({ kind: 'DuplicateRecord', side: 'progress', count: 2 })]);
  });

  it('treats a pair stored under a legacy id whose levels agree as in sync, and lists legacy rows only when asked', () => {
    const legacy = pair({
      specializationId: 'GANCUJU_PLAYER',
      progress: [{ specializationId: 'PLAYER', level: 4, xp: 0, sessions: 0 }],
      licenses: [{ specializationId: 'GANCUJU_PLAYER', level: 4, maxAchievedLevel: 4 }],
    });
    expect(diffPair(legacy, { maxLevelOf: max })).toEqual([]);
    expect(diffPair(legacy, { maxLevelOf: max, listLegacy: true })).toEqual([expect.objectContaining({ kind: 'LegacySpecializationId', side: 'progress', storedAs: 'PLAYER' })]);
    const bothLegacy = pair({
      specializationId: 'GANCUJU_PLAYER',
      progress: [{ specializationId: 'PLAYER', level: 4, xp: 0, sessions: 0 }],
      licenses: [{ specializationId: 'PLAYER', level: 3, maxAchievedLevel: 4 }],
    });
    expect(diffPair(bothLegacy, { maxLevelOf: max }).map((d) => d.kind)).toEqual(['LevelMismatch']);
    expect(diffPair(bothLegacy, { maxLevelOf: max, listLegacy: true }).map((d) => d.kind)).toEqual(['LevelMismatch', 'LegacySpecializationId', 'LegacySpecializationId']);
  });

  it('reports a pair the store could not read as UnreadableRecord with the reason, and nothing else', () => {
    const unreadable = { ...pair({ specializationId: 'INTERNSHIP', progress: [], licenses: [] }), unreadable: 'user_licenses.current_level: must be a number' };
    expect(diffPair(unreadable, { maxLevelOf: max })).toEqual([expect.objectContaining({ kind: 'UnreadableRecord', reason: 'user_licenses.current_level: must be a number' })]);
  });

  it('orders kinds as DESYNC_KINDS lists them', () => {
    const ds = diffPair(
      pair({
        specializationId: 'INTERNSHIP',
        progress: [{ specializationId: 'INTERNSHIP', level: 2, xp: 0, sessions: 0 }],
        licenses: [{ specializationId: 'INTERNSHIP', level: 4, maxAchievedLevel: 1 }],
      }),
      { maxLevelOf: max },
    );
    const order = ds.map((d) => DESYNC_KINDS.indexOf(d.kind));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(ds.map((d) => d.kind)).toEqual(['AboveMaxLevel', 'MaxAchievedBelowLevel', 'LevelMismatch']);
  });
});

describe('diff', () => {
  it('orders desyncs by user id, then specialization id, whatever the input order', () => {
    const mk = (userId: number | string, specializationId: string) =>
      pair({ userId, specializationId, progress: [{ specializationId, level: 1, xp: 0, sessions: 0 }], licenses: [] });
    const pairs = [mk(10, 'LFA_COACH'), mk('b', 'INTERNSHIP'), mk(2, 'LFA_COACH'), mk(2, 'INTERNSHIP'), mk('a', 'LFA_COACH')];
    const keys = diff(pairs, { maxLevelOf: max }).map((d) => `${String(d.userId)}/${d.specializationId}`);
    expect(keys).toEqual(['2/INTERNSHIP', '2/LFA_COACH', '10/LFA_COACH', 'a/LFA_COACH', 'b/INTERNSHIP']);
  });

  it('is deterministic: the same pairs give deeply equal desyncs', () => {
    const pairs = [pair({ licenses: [] }), pair({ userId: 2, progress: [] })];
    expect(diff(pairs, { maxLevelOf: max })).toEqual(diff([...pairs].reverse(), { maxLevelOf: max }));
  });
});
