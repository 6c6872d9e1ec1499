import type { Catalog } from '../domain/catalog.js';
import { MaxLevelSchema } from '../domain/level.js';
import type { Logger } from '../logger.js';
import type { Reader } from './guarded-repository.js';
import type { MaxLevelCache } from './max-level-cache.js';
import { formatValue, invalidMaxLevel } from './max-level-errors.js';
import type { Resolution, ResolutionIssue } from './resolution.js';

/** How a canonical id was settled, before it is shaped for the id as asked. */
export type Outcome =
  | {
      readonly kind: 'resolved';
      readonly maxLevel: number;
      readonly source: Resolution['source'];
      readonly repository?: string;
      readonly errors: readonly ResolutionIssue[];
    }
  | { readonly kind: 'unknown'; readonly errors: readonly ResolutionIssue[] };

/** What the lookup chain consults besides the repositories. */
export interface LookupContext {
  readonly catalog: Catalog;
  /** Undefined when the cache is disabled. */
  readonly cache: MaxLevelCache | undefined;
  readonly fallback: ReadonlyMap<string, number>;
  readonly logger: Logger;
}

/** A fresh cached answer for a canonical id, if the cache holds one. */
export function freshHit(canonicalId: string, ctx: LookupContext): Outcome | undefined {
  const hit = ctx.cache?.get(canonicalId);
  if (hit === undefined || !hit.fresh) return undefined;
  return { kind: 'resolved', maxLevel: hit.entry.maxLevel, source: 'cache', repository: hit.entry.repository, errors: [] };
}

/**
 * The lookup chain: each repository in order, under the canonical id then its aliases (the first
 * valid answer wins, and is cached when `isCurrent()`); then, when a repository failed, the last
 * known good cached value; then the fallback constant; else `unknown`. Invalid stored values are
 * skipped and reported.
 */
export async function lookup(canonicalId: string, readers: readonly Reader[], isCurrent: () => boolean, ctx: LookupContext): Promise<Outcome> {
  const { cache, logger } = ctx;
  const ids = [canonicalId, ...ctx.catalog.aliasesOf(canonicalId)];
  const errors: ResolutionIssue[] = [];
  for (const reader of readers) {
    for (const id of ids) {
      const answer = await reader.read(id);
      if (answer.isErr()) {
        errors.push(answer.error);
        break; // an unavailable repository is not asked again under the aliases
      }
      if (answer.value === null || answer.value === undefined) continue;
      const value: unknown = answer.value.maxLevel;
      if (MaxLevelSchema.safeParse(value).success) {
        const maxLevel = value as number;
        if (isCurrent()) cache?.set(canonicalId, maxLevel, reader.name);
        return { kind: 'resolved', maxLevel, source: 'repository', repository: reader.name, errors };
      }
      const issue = invalidMaxLevel(id, reader.name, value);
      logger.warn({ repository: reader.name, specializationId: id, value: formatValue(value) }, 'invalid maximum level ignored');
      errors.push(issue);
    }
  }
  if (errors.length > 0) {
    // A repository failed, so its silence proves nothing: the last known good value wins.
    const hit = cache?.get(canonicalId);
    if (hit !== undefined) {
      logger.info({ specializationId: canonicalId, maxLevel: hit.entry.maxLevel, errors: errors.length }, 'max level from stale cache');
      return { kind: 'resolved', maxLevel: hit.entry.maxLevel, source: 'stale-cache', repository: hit.entry.repository, errors };
    }
  }
  const constant = ctx.fallback.get(canonicalId);
  if (constant !== undefined) {
    logger.info({ specializationId: canonicalId, maxLevel: constant, errors: errors.length }, 'max level from fallback constant');
    return { kind: 'resolved', maxLevel: constant, source: 'fallback', errors };
  }
  return { kind: 'unknown', errors };
}
