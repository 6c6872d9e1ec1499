// cold_resolves_repository_calls: 1 000 concurrent `resolve` of one id on a cold resolver over
// the PostgreSQL max-level repository, with the repository wrapped in a call counter.
import type pg from 'pg';
import { createMaxLevelResolver, type MaxLevelRepository } from 'levelsync';
import { createPgMaxLevelRepository, ORIGINAL_SYSTEM_MAPPING } from 'levelsync/pg';
import { secondsSince } from './support.js';

export interface ColdResolves {
  readonly concurrent: number;
  readonly repositoryCalls: number;
  readonly resolved: number;
  readonly sources: Record<string, number>;
  readonly maxLevel: number | null;
  readonly seconds: number;
}

/** A repository that counts every call it forwards. */
function countingRepository(inner: MaxLevelRepository): { repository: MaxLevelRepository; calls: () => number } {
  let calls = 0;
  const repository: MaxLevelRepository = {
    name: inner.name,
    findMaxLevel(id) {
      calls++;
      return inner.findMaxLevel(id);
    },
    ...(inner.findAll
      ? {
          findAll() {
            calls++;
            return inner.findAll!();
          },
        }
      : {}),
  };
  return { repository, calls: () => calls };
}

export async function measureColdResolves(pool: pg.Pool, id = 'LFA_COACH', concurrent = 1_000): Promise<ColdResolves> {
  const counted = countingRepository(createPgMaxLevelRepository(pool, { mapping: ORIGINAL_SYSTEM_MAPPING }));
  const resolver = createMaxLevelResolver({ repositories: [counted.repository] });
  const started = process.hrtime.bigint();
  const results = await Promise.all(Array.from({ length: concurrent }, () => resolver.resolve(id)));
  const seconds = secondsSince(started);
  const sources: Record<string, number> = {};
  let maxLevel: number | null = null;
  let resolved = 0;
  for (const result of results) {
    if (result.isErr()) continue;
    resolved++;
    maxLevel = result.value.maxLevel;
    sources[result.value.source] = (sources[result.value.source] ?? 0) + 1;
  }
  return { concurrent, repositoryCalls: counted.calls(), resolved, sources, maxLevel, seconds };
}
