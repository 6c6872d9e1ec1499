import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG } from 'levelsync';
import { DEFAULT_FALLBACK_MAX_LEVELS } from '../../src/domain/default-catalog.js';

describe('DEFAULT_CATALOG', () => {
  it('holds the four specializations of the original system with their maxima', () => {
    expect(DEFAULT_CATALOG.specializations.map((spec) => [spec.id, spec.maxLevel])).toEqual([
      ['GANCUJU_PLAYER', 8],
      ['LFA_FOOTBALL_PLAYER', 8],
      ['LFA_COACH', 8],
      ['INTERNSHIP', 3],
    ]);
    expect(DEFAULT_FALLBACK_MAX_LEVELS).toEqual({ GANCUJU_PLAYER: 8, LFA_FOOTBALL_PLAYER: 8, LFA_COACH: 8, INTERNSHIP: 3 });
  });

  it('defines every level of every specialization, numbered 1 to maxLevel', () => {
    for (const spec of DEFAULT_CATALOG.specializations) {
      expect(spec.levels?.map((def) => def.level)).toEqual(Array.from({ length: spec.maxLevel }, (_, index) => index + 1));
    }
  });

  it('names the internship levels Startup Explorer, Growth Hacker, Startup Leader', () => {
    expect(DEFAULT_CATALOG.get('INTERNSHIP')?.levels?.map((def) => def.name)).toEqual([
      'Startup Explorer',
      'Growth Hacker',
      'Startup Leader',
    ]);
  });

  it('keeps PLAYER and COACH as aliases deprecated after 2026-05-18', () => {
    expect(DEFAULT_CATALOG.lookup('PLAYER')).toEqual({ canonicalId: 'GANCUJU_PLAYER', alias: { id: 'PLAYER', deprecatedAfter: '2026-05-18' } });
    expect(DEFAULT_CATALOG.lookup('COACH')).toEqual({ canonicalId: 'LFA_COACH', alias: { id: 'COACH', deprecatedAfter: '2026-05-18' } });
    expect(Object.fromEntries(DEFAULT_CATALOG.aliasMap)).toEqual({ PLAYER: 'GANCUJU_PLAYER', COACH: 'LFA_COACH' });
  });

  it('gives LFA_COACH levels hour thresholds and the internship a total-hours threshold', () => {
    expect(DEFAULT_CATALOG.get('LFA_COACH')?.levels?.[0]?.thresholds).toEqual({ xp: 15_000, sessions: 15, theoryHours: 30, practiceHours: 50 });
    expect(DEFAULT_CATALOG.get('INTERNSHIP')?.levels?.[1]?.thresholds).toEqual({ xp: 18_000, sessions: 18, totalHours: 120 });
    expect(DEFAULT_CATALOG.get('GANCUJU_PLAYER')?.levels?.[7]).toMatchObject({ name: 'Dragon Wisdom', thresholds: { xp: 250_000, sessions: 30 } });
  });
});
