import { defineCatalog, type Catalog } from './catalog.js';
import type { SpecializationInput } from './specialization.js';

type Row = readonly [code: string, name: string, xp: number, sessions: number, ...extra: number[]];

const levels = (rows: readonly Row[], extra: (values: number[]) => Record<string, number> = () => ({})) =>
  rows.map(([code, name, xp, sessions, ...rest], index) => ({
    level: index + 1,
    code,
    name,
    thresholds: { xp, sessions, ...extra(rest) },
  }));

/**
 * The specializations of the system levelsync grew from, as its database seeded them (level
 * names translated to English). GanCuju Player, LFA Coach and Internship thresholds come from
 * the level tables; LFA Football Player, which only ever existed in the JSON configuration,
 * from that file.
 */
export const DEFAULT_SPECIALIZATIONS: readonly SpecializationInput[] = Object.freeze([
  {
    id: 'GANCUJU_PLAYER',
    name: 'GanCuju Player',
    maxLevel: 8,
    aliases: [{ id: 'PLAYER', deprecatedAfter: '2026-05-18' }],
    levels: levels([
      ['player_bamboo_student', 'Bamboo Student', 12_000, 10],
      ['player_morning_dew', 'Morning Dew', 25_000, 12],
      ['player_flexible_reed', 'Flexible Reed', 45_000, 15],
      ['player_sky_river', 'Sky River', 70_000, 18],
      ['player_strong_root', 'Strong Root', 100_000, 20],
      ['player_winter_moon', 'Winter Moon', 140_000, 22],
      ['player_midnight_guardian', 'Midnight Guardian', 190_000, 25],
      ['player_dragon_wisdom', 'Dragon Wisdom', 250_000, 30],
    ]),
  },
  {
    id: 'LFA_FOOTBALL_PLAYER',
    name: 'LFA Football Player',
    maxLevel: 8,
    levels: levels([
      ['lfa_pre_football_player', 'LFA Pre Football Player', 0, 0],
      ['lfa_pre_football_advanced_player', 'LFA Pre Football Advanced Player', 1_000, 10],
      ['lfa_youth_football_player', 'LFA Youth Football Player', 2_500, 20],
      ['lfa_youth_football_advanced_player', 'LFA Youth Football Advanced Player', 5_000, 40],
      ['lfa_amateur_football_player', 'LFA Amateur Football Player', 10_000, 60],
      ['lfa_amateur_football_advanced_player', 'LFA Amateur Football Advanced Player', 20_000, 90],
      ['lfa_pro_football_player', 'LFA Pro Football Player', 40_000, 120],
      ['lfa_pro_football_elite_player', 'LFA Pro Football Elite Player', 80_000, 150],
    ]),
  },
  {
    id: 'LFA_COACH',
    name: 'LFA Football Coach',
    maxLevel: 8,
    aliases: [{ id: 'COACH', deprecatedAfter: '2026-05-18' }],
    levels: levels(
      [
        ['coach_lfa_pre_assistant', 'LFA Pre Football Assistant Coach', 15_000, 15, 30, 50],
        ['coach_lfa_pre_head', 'LFA Pre Football Head Coach', 35_000, 18, 40, 60],
        ['coach_lfa_youth_assistant', 'LFA Youth Football Assistant Coach', 60_000, 20, 35, 55],
        ['coach_lfa_youth_head', 'LFA Youth Football Head Coach', 90_000, 22, 45, 65],
        ['coach_lfa_amateur_assistant', 'LFA Amateur Football Assistant Coach', 130_000, 25, 40, 60],
        ['coach_lfa_amateur_head', 'LFA Amateur Football Head Coach', 180_000, 28, 35, 55],
        ['coach_lfa_pro_assistant', 'LFA PRO Football Assistant Coach', 240_000, 30, 50, 70],
        ['coach_lfa_pro_head', 'LFA PRO Football Head Coach', 320_000, 35, 60, 80],
      ],
      ([theoryHours = 0, practiceHours = 0]) => ({ theoryHours, practiceHours }),
    ),
  },
  {
    id: 'INTERNSHIP',
    name: 'Startup Spirit Internship',
    maxLevel: 3,
    levels: levels(
      [
        ['startup_explorer', 'Startup Explorer', 10_000, 15, 80],
        ['growth_hacker', 'Growth Hacker', 18_000, 18, 120],
        ['startup_leader', 'Startup Leader', 28_000, 22, 130],
      ],
      ([totalHours = 0]) => ({ totalHours }),
    ),
  },
]);

/**
 * The default catalog: GANCUJU_PLAYER (8), LFA_FOOTBALL_PLAYER (8), LFA_COACH (8),
 * INTERNSHIP (3), with the legacy aliases PLAYER → GANCUJU_PLAYER and COACH → LFA_COACH.
 * Its maxima are the resolver's default fallback constants.
 */
export const DEFAULT_CATALOG: Catalog = /* @__PURE__ */ defineCatalog(DEFAULT_SPECIALIZATIONS);

/** The fallback maximum levels of the default catalog, by canonical id. */
export const DEFAULT_FALLBACK_MAX_LEVELS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(DEFAULT_CATALOG.specializations.map((spec) => [spec.id, spec.maxLevel])),
);
