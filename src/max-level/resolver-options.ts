import type { Catalog } from '../domain/catalog.js';
import { DEFAULT_CATALOG } from '../domain/default-catalog.js';
import { MaxLevelSchema } from '../domain/level.js';
import { parseSpecializationId } from '../domain/specialization-id.js';
import { safeLogger, type Logger } from '../logger.js';
import { formatValue } from './max-level-errors.js';
import type { MaxLevelRepository } from './max-level-repository.js';

/** Cache settings of a max-level resolver. */
export interface MaxLevelCacheOptions {
  /** How long a repository answer is served from the cache. Defaults to 60 000 ms. */
  readonly ttlMs?: number;
  /** How many ids the cache holds before evicting the least recently used. Defaults to 1 000. */
  readonly maxEntries?: number;
}

/**
 * The cache settings a resolver uses when none are given.
 *
 * ```ts
 * createMaxLevelResolver({ repositories, cache: { ...MAX_LEVEL_CACHE_DEFAULTS, ttlMs: 5_000 } });
 * ```
 */
export const MAX_LEVEL_CACHE_DEFAULTS: Readonly<Required<MaxLevelCacheOptions>> = Object.freeze({
  ttlMs: 60_000,
  maxEntries: 1_000,
});

/**
 * Options of {@link createMaxLevelResolver}.
 *
 * ```ts
 * const options: MaxLevelResolverOptions = { repositories: [postgres], cache: { ttlMs: 30_000 } };
 * ```
 */
export interface MaxLevelResolverOptions {
  /** Asked in order, the database first. */
  readonly repositories: readonly MaxLevelRepository[];
  /** Gives aliases and, unless `fallback` says otherwise, the fallback constants. Defaults to `DEFAULT_CATALOG`. */
  readonly catalog?: Catalog;
  /**
   * Fallback maximum levels by canonical id. Defaults to each catalog specialization's `maxLevel`;
   * `false` means none. A value that is not an integer ≥ 1 throws a `TypeError` at construction.
   */
  readonly fallback?: Readonly<Record<string, number>> | false;
  /** Cache settings; `false` disables the cache (and therefore the stale-cache answer). */
  readonly cache?: MaxLevelCacheOptions | false;
  /**
   * The wall clock: cache ages and alias deprecation dates are read from it. Defaults to
   * `() => new Date()`; tests pass a fake clock. (Replaces `clock: () => number`.)
   */
  readonly now?: () => Date;
  /**
   * When true, an alias used after its `deprecatedAfter` date is refused with
   * `DeprecatedSpecializationId`. Defaults to false: the resolution succeeds and reports the alias.
   */
  readonly refuseDeprecatedAliases?: boolean;
  /** Repository failures are logged at warn, fallbacks at info. Silent by default; a logger that throws is ignored. */
  readonly logger?: Logger;
}

/** The options of a resolver once checked, with their defaults. */
export interface ResolverSettings {
  readonly repositories: readonly MaxLevelRepository[];
  readonly catalog: Catalog;
  /** Fallback constants by canonical id. */
  readonly fallback: ReadonlyMap<string, number>;
  /** Cache settings, or undefined when the cache is disabled. */
  readonly cache: Required<MaxLevelCacheOptions> | undefined;
  readonly now: () => Date;
  readonly refuseDeprecatedAliases: boolean;
  /** The user's logger behind a safe wrapper. */
  readonly logger: Logger;
}

/** Checks the options of {@link createMaxLevelResolver} and fills in the defaults; throws a `TypeError` for an invalid one. */
export function readResolverOptions(options: MaxLevelResolverOptions): ResolverSettings {
  const repositories = validateRepositories(options.repositories);
  const catalog = options.catalog ?? DEFAULT_CATALOG;
  if ((options as { clock?: unknown }).clock !== undefined) {
    throw new TypeError('createMaxLevelResolver: the clock option is now `now: () => Date` (e.g. now: () => new Date(clock()))');
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError(`createMaxLevelResolver: now must be a function returning a Date (got ${formatValue(options.now)})`);
  }
  return {
    repositories,
    catalog,
    fallback: buildFallback(catalog, options.fallback),
    cache: options.cache === false ? undefined : validateCacheOptions(options.cache ?? {}),
    now: options.now ?? (() => new Date()),
    refuseDeprecatedAliases: options.refuseDeprecatedAliases ?? false,
    logger: safeLogger(options.logger),
  };
}

function validateRepositories(repositories: readonly MaxLevelRepository[]): readonly MaxLevelRepository[] {
  if (!Array.isArray(repositories)) throw new TypeError('createMaxLevelResolver: repositories must be an array');
  repositories.forEach((repository: unknown, index) => {
    const candidate = repository as Partial<MaxLevelRepository> | null;
    if (typeof candidate?.name !== 'string' || typeof candidate.findMaxLevel !== 'function') {
      throw new TypeError(`createMaxLevelResolver: repositories[${index}] must have a name and a findMaxLevel() method`);
    }
  });
  return [...repositories];
}

function validateCacheOptions(options: MaxLevelCacheOptions): Required<MaxLevelCacheOptions> {
  const { ttlMs, maxEntries } = { ...MAX_LEVEL_CACHE_DEFAULTS, ...options };
  if (typeof ttlMs !== 'number' || Number.isNaN(ttlMs) || ttlMs < 0) {
    throw new TypeError(`createMaxLevelResolver: cache.ttlMs must be a number ≥ 0 (got ${formatValue(ttlMs)})`);
  }
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError(`createMaxLevelResolver: cache.maxEntries must be an integer ≥ 1 (got ${formatValue(maxEntries)})`);
  }
  return { ttlMs, maxEntries };
}

function buildFallback(catalog: Catalog, fallback: Readonly<Record<string, number>> | false | undefined): ReadonlyMap<string, number> {
  if (fallback === false) return new Map();
  if (fallback === undefined) return new Map(catalog.specializations.map((spec) => [spec.id, spec.maxLevel]));
  const constants = new Map<string, number>();
  for (const [key, value] of Object.entries(fallback)) {
    const id = parseSpecializationId(key, `fallback.${key}`);
    if (id.isErr()) throw new TypeError(`createMaxLevelResolver: ${id.error.message}`);
    const { canonicalId, alias } = catalog.lookup(id.value);
    if (alias !== null) {
      throw new TypeError(`createMaxLevelResolver: fallback.${key} names an alias; use the canonical id '${canonicalId}'`);
    }
    if (!MaxLevelSchema.safeParse(value).success) {
      throw new TypeError(`createMaxLevelResolver: fallback.${key} must be an integer ≥ 1 (got ${formatValue(value)})`);
    }
    constants.set(id.value, value);
  }
  return constants;
}
