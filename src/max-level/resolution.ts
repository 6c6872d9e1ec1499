import type { ResultAsync } from 'neverthrow';
import type { Catalog } from '../domain/catalog.js';
import type { InvalidMaxLevel, RepositoryUnavailable, ResolveError } from '../errors.js';

/**
 * Where a resolved maximum level came from:
 * - `repository`: a repository answered just now;
 * - `cache`: a fresh cached repository answer (within the TTL);
 * - `stale-cache`: every repository failed, so the last known good (expired) answer was used;
 * - `fallback`: no repository knew the id (or all failed and nothing was cached), so the
 *   fallback constant was used.
 */
export type ResolutionSource = 'repository' | 'cache' | 'stale-cache' | 'fallback';

/** A legacy alias used to ask for a specialization. */
export interface AliasUse {
  /** The legacy id as asked. */
  readonly id: string;
  readonly deprecatedAfter: string | null;
  /** True when the deprecation date has passed. */
  readonly deprecated: boolean;
}

/** A problem met while resolving that did not stop the resolution. */
export type ResolutionIssue = RepositoryUnavailable | InvalidMaxLevel;

/** A maximum level and where it came from. */
export interface Resolution {
  /** Canonical specialization id. */
  readonly specializationId: string;
  /** The id as asked (upper-cased); differs from `specializationId` when an alias was used. */
  readonly requestedId: string;
  readonly alias: AliasUse | null;
  readonly maxLevel: number;
  readonly source: ResolutionSource;
  /** The repository that supplied the value (for `repository`, `cache` and `stale-cache`). */
  readonly repository?: string;
  /** Repository failures and rejected values met on the way, in the order met. */
  readonly errors: readonly ResolutionIssue[];
}

/** The result of a bulk resolution, used by the sync engine. */
export interface MaxLevelTable {
  /** Resolutions by canonical id. */
  readonly resolutions: ReadonlyMap<string, Resolution>;
  /** Ids that could not be resolved, by canonical id. */
  readonly unresolved: ReadonlyMap<string, ResolveError>;
  /** The maximum level of a canonical id, or undefined when it is unknown. */
  maxLevelOf(canonicalId: string): number | undefined;
}

/** Resolves maximum levels from repositories, a cache and fallback constants. */
export interface MaxLevelResolver {
  /** The catalog whose aliases and fallback constants the resolver uses. */
  readonly catalog: Catalog;
  /** Resolves one id (an alias resolves to its canonical id and says so). */
  resolve(specializationId: string): ResultAsync<Resolution, ResolveError>;
  /**
   * Resolves many ids at once: the given ones, or every id the catalog and the repositories
   * know. Uses each repository's `findAll` when it has one (one call instead of one per id).
   * Never fails as a whole, so it returns the table itself (not a `Result`): ids that cannot be
   * resolved are listed in `unresolved` with their error, repository failures met on the way are
   * on each resolution's `errors`.
   *
   * ```ts
   * const table = await resolver.resolveAll(['INTERNSHIP', 'PLAYER']);
   * table.maxLevelOf('INTERNSHIP'); // 3
   * for (const [id, error] of table.unresolved) console.warn(id, error.message);
   * ```
   */
  resolveAll(specializationIds?: readonly string[]): Promise<MaxLevelTable>;
  /** Drops the cached value of one id (canonical or alias), or of every id. */
  invalidate(specializationId?: string): void;
}
