// The demo's generated learners and every kind of drift planted among them, seeded and
// reproducible. Slightly over 300 lines: one generator per kind of drift, in one place.
import { DEFAULT_CATALOG, type LevelDefinition } from '../../index.js';
import { emptyCounts } from '../../_internal/counts.js';
import { createPrng, type Prng } from './prng.js';

/** A progress row as the original system stored it (`specialization_progress`). */
export interface DemoProgressRow {
  readonly userId: number;
  readonly specializationId: string;
  readonly level: number | null;
  readonly xp: number;
  readonly sessions: number;
  readonly projects: number;
  readonly theoryHours: number;
  readonly practiceHours: number;
  readonly lastActivity: string;
  readonly createdAt: string;
}

/** A license row (`user_licenses`). */
export interface DemoLicenseRow {
  readonly userId: number;
  readonly specializationId: string;
  readonly level: number;
  readonly maxAchievedLevel: number;
  readonly startedAt: string;
  readonly lastAdvancedAt: string | null;
}

/** A history row (`license_progressions`) for a license advanced by staff. */
export interface DemoProgressionRow {
  readonly userId: number;
  readonly specializationId: string;
  readonly fromLevel: number;
  readonly toLevel: number;
  readonly advancedBy: number | null;
  readonly reason: string;
  readonly evidence: string;
  readonly advancedAt: string;
}

/** A specialization row; `maxLevel` null stands for the original's dropped `max_levels` value. */
export interface DemoSpecializationRow {
  readonly id: string;
  readonly name: string;
  readonly maxLevel: number | null;
}

/**
 * The situations the demo plants, each the way it happened in the original system:
 * - `hookFailed`: a progress level-up whose license hook failed (progress ahead of the license);
 * - `adminAdvanced`: staff advanced the license, the license→progress hook failed (license
 *   ahead); the original's 6-hour progress→license job lowered these licenses back;
 * - `importSkippedLicense`: a bulk import created progress without a license;
 * - `licenseWithoutProgress`: a failed advancement left a license without progress;
 * - `duplicateProgress`: a migration duplicated progress rows (no unique key);
 * - `aboveMax`: internship licenses at 4 or 5, from the old five-level internship ladder;
 * - `legacyId`: rows still stored under PLAYER after the rename to GANCUJU_PLAYER (information);
 * - `unknownSpecialization`: rows under a semester-only id no catalog or table gives a maximum;
 * - `nullLevel`: progress whose nullable `current_level` is NULL;
 * - `maxAchievedBelow`: a license whose highest achieved level is below its current level.
 */
export const DEMO_STORIES = [
  'hookFailed',
  'adminAdvanced',
  'importSkippedLicense',
  'licenseWithoutProgress',
  'duplicateProgress',
  'aboveMax',
  'legacyId',
  'unknownSpecialization',
  'nullLevel',
  'maxAchievedBelow',
] as const;
export type DemoStory = (typeof DEMO_STORIES)[number];

export interface DemoData {
  readonly seed: number;
  readonly learners: number;
  readonly specializations: readonly DemoSpecializationRow[];
  readonly progress: readonly DemoProgressRow[];
  readonly licenses: readonly DemoLicenseRow[];
  readonly progressions: readonly DemoProgressionRow[];
  /** Pairs planted per story. */
  readonly planted: Readonly<Record<DemoStory, number>>;
  /** The id of the staff member who advanced licenses by hand. */
  readonly adminId: number;
}

/** The semester-only id the original never meant to put in licenses; nobody knows its maximum. */
export const DEMO_UNKNOWN_SPECIALIZATION = 'LFA_PLAYER_PRO';
export const DEMO_ADMIN_ID = 1;
const FIRST_LEARNER = 1001;
const BASE_TIME = Date.UTC(2025, 8, 1); // 2025-09-01, the term the original system went live
const DAY = 86_400_000;

const SPECIALIZATION_WEIGHTS: readonly (readonly [string, number])[] = [
  ['GANCUJU_PLAYER', 35],
  ['LFA_FOOTBALL_PLAYER', 30],
  ['LFA_COACH', 20],
  ['INTERNSHIP', 15],
];
/** Most learners are at the first levels. */
const LEVEL_WEIGHTS = [30, 22, 16, 11, 8, 6, 4, 3];

/** How many pairs of each story per learner (at least one of each). */
const STORY_RATES: Readonly<Record<DemoStory, number>> = {
  hookFailed: 0.03,
  adminAdvanced: 0.01,
  importSkippedLicense: 0.015,
  licenseWithoutProgress: 0.006,
  duplicateProgress: 0.00075,
  aboveMax: 0.001,
  legacyId: 0.01,
  unknownSpecialization: 0.0005,
  nullLevel: 0.0005,
  maxAchievedBelow: 0.00075,
};

interface Enrollment {
  readonly userId: number;
  readonly specializationId: string;
  level: number;
  story: DemoStory | null;
}

/**
 * Generates the demo's data: `learners` users over the four default specializations, with
 * realistic totals for each level, and every kind of desync planted on distinct pairs.
 * Deterministic: the same seed and size give the same rows.
 */
export function generateDemoData(options: { readonly learners: number; readonly seed: number }): DemoData {
  const rng = createPrng(options.seed);
  const learners = Math.max(20, Math.floor(options.learners));
  const enrollments: Enrollment[] = [];
  for (let i = 0; i < learners; i++) {
    const userId = FIRST_LEARNER + i;
    const count = rng.weighted([70, 25, 5]) + 1;
    const chosen = new Set<string>();
    while (chosen.size < count) chosen.add(SPECIALIZATION_WEIGHTS[rng.weighted(SPECIALIZATION_WEIGHTS.map(([, w]) => w))]![0]);
    for (const specializationId of [...chosen].sort()) {
      const max = DEFAULT_CATALOG.get(specializationId)!.maxLevel;
      enrollments.push({ userId, specializationId, level: rng.weighted(LEVEL_WEIGHTS.slice(0, max)) + 1, story: null });
    }
  }

  // Plant the stories on distinct pairs, in a random but reproducible choice.
  const planted = emptyCounts(DEMO_STORIES);
  const want = (story: DemoStory) => Math.max(1, Math.round(learners * STORY_RATES[story]));
  const pool = rng.shuffle(enrollments);
  const take = (story: DemoStory, fits: (e: Enrollment) => boolean) => {
    let n = want(story);
    for (const e of pool) {
      if (n === 0) break;
      if (e.story !== null || !fits(e)) continue;
      e.story = story;
      planted[story]++;
      n--;
    }
  };
  const maxOf = (e: Enrollment) => DEFAULT_CATALOG.get(e.specializationId)!.maxLevel;
  take('aboveMax', (e) => e.specializationId === 'INTERNSHIP' && e.level === 3);
  take('legacyId', (e) => e.specializationId === 'GANCUJU_PLAYER');
  take('hookFailed', (e) => e.level >= 2);
  take('adminAdvanced', (e) => e.level < maxOf(e));
  take('importSkippedLicense', () => true);
  take('licenseWithoutProgress', () => true);
  take('duplicateProgress', () => true);
  take('nullLevel', () => true);
  take('maxAchievedBelow', (e) => e.level >= 3);

  const progress: DemoProgressRow[] = [];
  const licenses: DemoLicenseRow[] = [];
  const progressions: DemoProgressionRow[] = [];
  const at = (days: number) => new Date(BASE_TIME + days * DAY + rng.int(0, DAY - 1)).toISOString();

  const addProgress = (userId: number, specializationId: string, level: number | null, totalsLevel: number, createdDay: number) => {
    const totals = totalsFor(rng, specializationId, totalsLevel);
    progress.push({ userId, specializationId, level, ...totals, createdAt: at(createdDay), lastActivity: at(createdDay + rng.int(1, 60)) });
  };
  const addLicense = (userId: number, specializationId: string, level: number, maxAchievedLevel: number, startedDay: number, advanced: boolean) => {
    licenses.push({
      userId,
      specializationId,
      level,
      maxAchievedLevel,
      startedAt: at(startedDay),
      lastAdvancedAt: advanced || level > 1 ? at(startedDay + rng.int(5, 70)) : null,
    });
  };

  let legacyMismatch = 0;
  for (const e of enrollments) {
    const { userId, level } = e;
    const day = rng.int(0, 120);
    let spec = e.specializationId;
    switch (e.story) {
      case null:
        addProgress(userId, spec, level, level, day);
        addLicense(userId, spec, level, level, day, false);
        break;
      case 'legacyId': {
        spec = 'PLAYER';
        // Most legacy rows are in sync; every fourth one also lags a level behind.
        const licenseLevel = legacyMismatch++ % 4 === 3 && level > 1 ? level - 1 : level;
        addProgress(userId, spec, level, level, day);
        addLicense(userId, spec, licenseLevel, licenseLevel, day, false);
        break;
      }
      case 'hookFailed': {
        const behind = level >= 3 && rng.chance(0.2) ? 2 : 1;
        addProgress(userId, spec, level, level, day);
        addLicense(userId, spec, level - behind, level - behind, day, false);
        break;
      }
      case 'adminAdvanced': {
        addProgress(userId, spec, level, level, day);
        addLicense(userId, spec, level + 1, level + 1, day, true);
        progressions.push({
          userId,
          specializationId: spec,
          fromLevel: level,
          toLevel: level + 1,
          advancedBy: DEMO_ADMIN_ID,
          reason: 'Passed the practical assessment',
          evidence: 'Assessed in person by the head coach',
          advancedAt: at(day + 90),
        });
        break;
      }
      case 'importSkippedLicense':
        addProgress(userId, spec, level, level, day);
        break;
      case 'licenseWithoutProgress':
        addLicense(userId, spec, level, level, day, false);
        break;
      case 'duplicateProgress':
        addProgress(userId, spec, level, level, day);
        addProgress(userId, spec, Math.max(1, level - 1), Math.max(1, level - 1), day);
        addLicense(userId, spec, level, level, day, false);
        break;
      case 'aboveMax': {
        const old = rng.int(4, 5);
        addProgress(userId, spec, level, level, day);
        addLicense(userId, spec, old, old, day, true);
        break;
      }
      case 'nullLevel':
        addProgress(userId, spec, null, level, day);
        addLicense(userId, spec, level, level, day, false);
        break;
      case 'maxAchievedBelow':
        addProgress(userId, spec, level, level, day);
        addLicense(userId, spec, level, level - 1, day, false);
        break;
      case 'unknownSpecialization':
        break; // planted below, on top of the learner's own enrollments
    }
  }
  // A semester-only specialization that slipped into both tables for a few learners.
  for (let n = 0; n < want('unknownSpecialization'); n++) {
    const userId = FIRST_LEARNER + rng.int(0, learners - 1);
    if (progress.some((p) => p.userId === userId && p.specializationId === DEMO_UNKNOWN_SPECIALIZATION)) continue;
    const level = rng.int(1, 4);
    const day = rng.int(0, 120);
    progress.push({ userId, specializationId: DEMO_UNKNOWN_SPECIALIZATION, level, xp: level * 700, sessions: level * 6, projects: 0, theoryHours: 0, practiceHours: 0, createdAt: at(day), lastActivity: at(day + 10) });
    licenses.push({ userId, specializationId: DEMO_UNKNOWN_SPECIALIZATION, level, maxAchievedLevel: level, startedAt: at(day), lastAdvancedAt: null });
    planted.unknownSpecialization++;
  }

  const byKey = <T extends { userId: number; specializationId: string }>(a: T, b: T) =>
    a.userId - b.userId || (a.specializationId < b.specializationId ? -1 : a.specializationId > b.specializationId ? 1 : 0);
  return {
    seed: options.seed,
    learners,
    specializations: [
      ...DEFAULT_CATALOG.specializations.map((s) => ({ id: s.id, name: s.name, maxLevel: s.maxLevel })),
      { id: 'PLAYER', name: 'GanCuju Player (legacy id)', maxLevel: 8 },
      { id: DEMO_UNKNOWN_SPECIALIZATION, name: 'LFA Player Pro (semester type)', maxLevel: null },
    ],
    progress: progress.sort(byKey),
    licenses: licenses.sort(byKey),
    progressions,
    planted,
    adminId: DEMO_ADMIN_ID,
  };
}

/** Totals that fit a level: at least that level's thresholds, below the next level's. */
function totalsFor(rng: Prng, specializationId: string, level: number) {
  const levels: readonly LevelDefinition[] = DEFAULT_CATALOG.get(specializationId)?.levels ?? [];
  const here = levels[level - 1]?.thresholds;
  const next = levels[level]?.thresholds;
  const between = (low: number, high: number | undefined) => (high === undefined || high <= low ? low + rng.int(0, Math.max(10, Math.round(low * 0.2))) : rng.int(low, high - 1));
  const xp = between(here?.xp ?? 0, next?.xp);
  const sessions = between(here?.sessions ?? 0, next?.sessions);
  const theoryHours = here?.theoryHours !== undefined ? between(here.theoryHours, next?.theoryHours) : 0;
  const practiceHours = here?.practiceHours !== undefined ? between(here.practiceHours, next?.practiceHours) : 0;
  const hours = here?.totalHours !== undefined ? between(here.totalHours, next?.totalHours) : 0;
  return {
    xp,
    sessions,
    projects: rng.int(0, level),
    theoryHours: theoryHours + Math.ceil(hours / 2),
    practiceHours: practiceHours + Math.floor(hours / 2),
  };
}
