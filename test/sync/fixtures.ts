import { createMaxLevelResolver, type MaxLevelResolver } from 'levelsync';
import { createInMemoryMaxLevelRepository, createInMemorySyncStore, type InMemorySyncStore, type SyncStoreSeed } from 'levelsync/testing';

/** The specializations the core tests use: the default catalog's, plus the legacy PLAYER id. */
export const SPECIALIZATIONS = [
  { id: 'GANCUJU_PLAYER', maxLevel: 8 },
  { id: 'PLAYER', maxLevel: 8 },
  { id: 'LFA_FOOTBALL_PLAYER', maxLevel: 8 },
  { id: 'LFA_COACH', maxLevel: 8 },
  { id: 'INTERNSHIP', maxLevel: 3 },
  { id: 'MYSTERY', maxLevel: 4 },
] as const;

/** A resolver backed by an in-memory "database" that knows the default maxima (not MYSTERY). */
export function testResolver(values: Record<string, number | null> = { GANCUJU_PLAYER: 8, LFA_FOOTBALL_PLAYER: 8, LFA_COACH: 8, INTERNSHIP: 3 }): MaxLevelResolver {
  return createMaxLevelResolver({ repositories: [createInMemoryMaxLevelRepository({ name: 'db', values })], fallback: false });
}

export function store(seed: Partial<SyncStoreSeed>): InMemorySyncStore {
  return createInMemorySyncStore({ specializations: SPECIALIZATIONS, progress: [], licenses: [], ...seed });
}
