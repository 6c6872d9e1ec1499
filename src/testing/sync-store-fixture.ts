// The data every SyncStore conformance concern starts from: the seed (one pair for each situation
// the diff knows), the catalog it implies, and the means to open a store on it and read it back.
import type { UserId } from '../domain/records.js';
import type { SyncPair } from '../sync/pair.js';
import type { ApplyContext, PairQuery, SyncStore } from '../sync/sync-store.js';
import type { SyncStoreSeed } from './store-snapshot.js';
import type { SyncStoreCapabilities, SyncStoreHarness } from './sync-store-conformance.js';

export const ALIASES: ReadonlyMap<string, string> = new Map([['PLAYER', 'GANCUJU_PLAYER']]);
export const MAX_LEVELS: ReadonlyMap<string, number> = new Map([
  ['GANCUJU_PLAYER', 8],
  ['LFA_COACH', 8],
  ['INTERNSHIP', 3],
]);
const SPECIALIZATIONS = [
  { id: 'GANCUJU_PLAYER', maxLevel: 8 },
  { id: 'PLAYER', maxLevel: 8 },
  { id: 'LFA_COACH', maxLevel: 8 },
  { id: 'INTERNSHIP', maxLevel: 3 },
  { id: 'MYSTERY', maxLevel: 4 },
];

/** The context of every batch the suite applies: a fixed time and the catalog's aliases. */
export const context = (actor: UserId | null = null): ApplyContext => ({ actor, now: new Date('2026-01-02T03:04:05Z'), aliases: ALIASES });

/** Every page of a scan, in order; a failed page fails the test. */
export async function collect(pages: AsyncIterable<{ isErr(): boolean; isOk(): boolean; value?: unknown; error?: unknown }>): Promise<SyncPair[][]> {
  const out: SyncPair[][] = [];
  for await (const page of pages) {
    if (page.isErr()) throw new Error(`page failed: ${JSON.stringify((page as { error: unknown }).error)}`);
    out.push([...(page as { value: readonly SyncPair[] }).value]);
  }
  return out;
}

/** What the tests of every concern share. */
export interface SyncStoreFixture {
  readonly settings: SyncStoreCapabilities;
  /** User ids 0…12 of the kind the store holds. */
  readonly u: readonly UserId[];
  /** One pair for each situation the diff knows, plus in-sync pairs. */
  readonly seed: SyncStoreSeed;
  /** The keys of every pair of the seed, in key order. */
  readonly everyPairKey: readonly (readonly [UserId | undefined, string])[];
  /** Opens a store holding `seed` (default: the fixture's); it is closed after the test. */
  open(seed?: SyncStoreSeed): Promise<SyncStoreHarness>;
  /** Every pair of a scan with the fixture's aliases, flattened. */
  scan(store: SyncStore, query?: PairQuery): Promise<SyncPair[]>;
}

/** The fixture for one implementation; `open` is called by the tests at run time only. */
export function createSyncStoreFixture(settings: SyncStoreCapabilities, open: (seed: SyncStoreSeed) => Promise<SyncStoreHarness>): SyncStoreFixture {
  const id = (n: number): UserId => (settings.userIds === 'string' ? `u-${String(n).padStart(3, '0')}` : n);
  const u = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(id);
  const seed: SyncStoreSeed = {
    specializations: SPECIALIZATIONS,
    progress: [
      { userId: u[1]!, specializationId: 'LFA_COACH', level: 3, xp: 60_000, sessions: 20 }, // in sync
      { userId: u[1]!, specializationId: 'INTERNSHIP', level: 2, xp: 18_000, sessions: 18 }, // progress > license
      { userId: u[2]!, specializationId: 'LFA_COACH', level: 2, xp: 35_000, sessions: 18 }, // license > progress
      { userId: u[3]!, specializationId: 'INTERNSHIP', level: 1, xp: 0, sessions: 0 }, // missing license
      { userId: u[5]!, specializationId: 'INTERNSHIP', level: 3 }, // license above max
      { userId: u[6]!, specializationId: 'PLAYER', level: 4 }, // legacy id, in sync with canonical license
      { userId: u[7]!, specializationId: 'MYSTERY', level: 2 }, // unknown specialization
      { userId: u[8]!, specializationId: 'GANCUJU_PLAYER', level: 5 }, // max achieved below level
      { userId: u[10]!, specializationId: 'GANCUJU_PLAYER', level: 1 }, // in sync
      { userId: u[11]!, specializationId: 'LFA_COACH', level: 6 }, // in sync
    ],
    licenses: [
      { userId: u[1]!, specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 },
      { userId: u[1]!, specializationId: 'INTERNSHIP', level: 1, maxAchievedLevel: 1 },
      { userId: u[2]!, specializationId: 'LFA_COACH', level: 4, maxAchievedLevel: 4 },
      { userId: u[4]!, specializationId: 'LFA_COACH', level: 5, maxAchievedLevel: 6 }, // missing progress
      { userId: u[5]!, specializationId: 'INTERNSHIP', level: 5, maxAchievedLevel: 5 },
      { userId: u[6]!, specializationId: 'GANCUJU_PLAYER', level: 4, maxAchievedLevel: 4 },
      { userId: u[7]!, specializationId: 'MYSTERY', level: 2, maxAchievedLevel: 2 },
      { userId: u[8]!, specializationId: 'GANCUJU_PLAYER', level: 5, maxAchievedLevel: 3 },
      { userId: u[10]!, specializationId: 'GANCUJU_PLAYER', level: 1, maxAchievedLevel: 1 },
      { userId: u[11]!, specializationId: 'LFA_COACH', level: 6, maxAchievedLevel: 8 },
    ],
  };
  const everyPairKey = [
    [u[1], 'INTERNSHIP'],
    [u[1], 'LFA_COACH'],
    [u[2], 'LFA_COACH'],
    [u[3], 'INTERNSHIP'],
    [u[4], 'LFA_COACH'],
    [u[5], 'INTERNSHIP'],
    [u[6], 'GANCUJU_PLAYER'],
    [u[7], 'MYSTERY'],
    [u[8], 'GANCUJU_PLAYER'],
    [u[10], 'GANCUJU_PLAYER'],
    [u[11], 'LFA_COACH'],
  ] as const;
  return {
    settings,
    u,
    seed,
    everyPairKey,
    open: (s = seed) => open(s),
    scan: async (store, query = {}) => (await collect(store.scanPairs({ aliases: ALIASES, ...query }))).flat(),
  };
}
