import { err, ok, ResultAsync, type Result } from 'neverthrow';
import { isAliasDeprecated, type Catalog } from '../domain/catalog.js';
import { DEFAULT_CATALOG } from '../domain/default-catalog.js';
import { MaxLevelSchema } from '../domain/level.js';
import { parseSpecializationId } from '../domain/specialization-id.js';
import {
  redactSecrets,
  repositoryUnavailable,
  type DeprecatedSpecializationId,
  type InvalidMaxLevel,
  type RepositoryUnavailable,
  type ResolveError,
  type UnknownSpecialization,
  type ValidationError,
} from '../errors.js';
import { SILENT_LOGGER, type Logger } from '../sync/logger.js';
import { createMaxLevelCache, type MaxLevelCache } from './max-level-cache.js';
import type { MaxLevelRecord, MaxLevelRepository } from './max-level-repository.js';
import type { AliasUse, MaxLevelResolver, MaxLevelTable, Resolution, ResolutionIssue } from './resolution.js';

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
  /** Milliseconds since the epoch. Defaults to `Date.now`; tests pass a fake clock. */
  readonly clock?: () => number;
  /**
   * When true, an alias used after its `deprecatedAfter` date is refused with
   * `DeprecatedSpecializationId`. Defaults to false: the resolution succeeds and reports the alias.
   */
  readonly refuseDeprecatedAliases?: boolean;
  /** Repository failures are logged at warn, fallbacks at info. Silent by default. */
  readonly logger?: Logger;
}

/** How a canonical id was settled, before it is shaped for the id as asked. */
type Outcome =
  | {
      readonly kind: 'resolved';
      readonly maxLevel: number;
      readonly source: Resolution['source'];
      readonly repository?: string;
      readonly errors: readonly ResolutionIssue[];
    }
  | { readonly kind: 'unknown'; readonly errors: readonly ResolutionIssue[] };

/** One id as asked, once normalised and mapped to its canonical id. */
interface Request {
  readonly requestedId: string;
  readonly canonicalId: string;
  readonly alias: AliasUse | null;
}

type Answer = Result<MaxLevelRecord | null, RepositoryUnavailable>;

/** How one repository is asked for one exact id during a lookup. */
interface Reader {
  readonly name: string;
  read(id: string): Promise<Answer>;
}

type RowsAnswer = Result<ReadonlyMap<string, MaxLevelRecord>, RepositoryUnavailable>;

/**
 * Creates a max-level resolver: repositories in order (each asked under the canonical id, then
 * under every legacy alias of it), then the last known good cached value when a repository
 * failed, then the fallback constants. Every resolution says where its value came from; an id
 * nobody knows is an `UnknownSpecialization` error, never a silent default. Throws a
 * `TypeError` only for invalid options.
 *
 * ```ts
 * const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(pool)] });
 * const result = await resolver.resolve('PLAYER');
 * // ok({ specializationId: 'GANCUJU_PLAYER', requestedId: 'PLAYER', maxLevel: 8, source: 'repository', … })
 * const table = await resolver.resolveAll();
 * if (table.isOk()) table.value.maxLevelOf('INTERNSHIP'); // 3
 * ```
 */
export function createMaxLevelResolver(options: MaxLevelResolverOptions): MaxLevelResolver {
  const repositories = validateRepositories(options.repositories);
  const catalog = options.catalog ?? DEFAULT_CATALOG;
  const fallback = buildFallback(catalog, options.fallback);
  const clock = options.clock ?? Date.now;
  const refuseDeprecatedAliases = options.refuseDeprecatedAliases ?? false;
  const logger = options.logger ?? SILENT_LOGGER;
  const cache = options.cache === false ? undefined : createMaxLevelCache({ ...validateCacheOptions(options.cache ?? {}), clock });

  /** Lookups in progress by canonical id, shared by every caller asking meanwhile (single-flight). */
  const inflight = new Map<string, Promise<Outcome>>();
  /** A `resolveAll()` without ids in progress, shared the same way. */
  let discovery: Promise<MaxLevelTable> | undefined;
  // Bumped by every invalidate(): a lookup that started before it must not write its (possibly
  // outdated) answer into the cache afterwards.
  let epoch = 0;

  const log = (level: keyof Logger, context: object, message: string): void => {
    try {
      logger[level](context, message);
    } catch {
      // A broken logger must not break resolution.
    }
  };

  const callRepository = async <T>(
    repository: MaxLevelRepository,
    what: string,
    call: () => unknown,
  ): Promise<Result<T, RepositoryUnavailable>> => {
    let result: Result<T, RepositoryUnavailable>;
    try {
      const answer: unknown = await call();
      result = isResult(answer)
        ? (answer.mapErr((error) => asRepositoryUnavailable(repository.name, error)) as Result<T, RepositoryUnavailable>)
        : err(repositoryUnavailable(repository.name, new TypeError(`${what} did not return a Result`)));
    } catch (cause) {
      // The port forbids throwing; a repository that throws anyway is treated as unavailable.
      result = err(repositoryUnavailable(repository.name, cause));
    }
    if (result.isErr()) {
      log('warn', { repository: repository.name, call: what, error: redactSecrets(result.error.message) }, 'max-level repository unavailable');
    }
    return result;
  };

  const findOne = (repository: MaxLevelRepository, id: string): Promise<Answer> =>
    callRepository<MaxLevelRecord | null>(repository, `findMaxLevel(${id})`, () => repository.findMaxLevel(id));

  const findAllRows = async (repository: MaxLevelRepository): Promise<RowsAnswer> => {
    const rows = await callRepository<unknown>(repository, 'findAll()', () => repository.findAll!());
    return rows.andThen((value) => {
      if (!Array.isArray(value)) {
        return err(repositoryUnavailable(repository.name, new TypeError('findAll() did not return an array')));
      }
      const byId = new Map<string, MaxLevelRecord>();
      for (const row of value as unknown[]) {
        if (isRecord(row) && !byId.has(row.specializationId)) byId.set(row.specializationId, row);
      }
      return ok(byId);
    });
  };

  const singleReaders: readonly Reader[] = repositories.map((repository) => ({
    name: repository.name,
    read: (id) => findOne(repository, id),
  }));

  /** Readers for a bulk lookup: one `findAll()` per repository that has it, made on first use. */
  const bulkReaders = (prefetched: ReadonlyMap<MaxLevelRepository, Promise<RowsAnswer>>): Reader[] =>
    repositories.map((repository) => {
      if (typeof repository.findAll !== 'function') return { name: repository.name, read: (id) => findOne(repository, id) };
      let rows = prefetched.get(repository);
      return {
        name: repository.name,
        read: async (id) => {
          rows ??= findAllRows(repository);
          return (await rows).map((byId) => byId.get(id) ?? null);
        },
      };
    });

  const toRequest = (input: unknown): Result<Request, ValidationError | DeprecatedSpecializationId> => {
    const parsed = parseSpecializationId(input);
    if (parsed.isErr()) return err(parsed.error);
    const requestedId = parsed.value;
    const { canonicalId, alias } = catalog.lookup(requestedId);
    if (alias === null) return ok({ requestedId, canonicalId, alias: null });
    const deprecated = isAliasDeprecated(alias, new Date(clock()));
    if (deprecated && refuseDeprecatedAliases) {
      return err(deprecatedSpecializationId(requestedId, canonicalId, alias.deprecatedAfter ?? ''));
    }
    if (deprecated) {
      log('warn', { specializationId: requestedId, canonicalId, deprecatedAfter: alias.deprecatedAfter }, 'deprecated specialization alias used');
    }
    return ok({ requestedId, canonicalId, alias: Object.freeze({ id: requestedId, deprecatedAfter: alias.deprecatedAfter ?? null, deprecated }) });
  };

  const freshHit = (canonicalId: string): Outcome | undefined => {
    const hit = cache?.get(canonicalId);
    if (hit === undefined || !hit.fresh) return undefined;
    return { kind: 'resolved', maxLevel: hit.entry.maxLevel, source: 'cache', repository: hit.entry.repository, errors: [] };
  };

  /** Asks each repository in order, under the canonical id then its aliases; the first valid answer wins. */
  const lookup = async (canonicalId: string, readers: readonly Reader[], startedAt: number): Promise<Outcome> => {
    const ids = [canonicalId, ...catalog.aliasesOf(canonicalId)];
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
          if (startedAt === epoch) cache?.set(canonicalId, maxLevel, reader.name);
          return { kind: 'resolved', maxLevel, source: 'repository', repository: reader.name, errors };
        }
        const issue = invalidMaxLevel(id, reader.name, value);
        log('warn', { repository: reader.name, specializationId: id, value: formatValue(value) }, 'invalid maximum level ignored');
        errors.push(issue);
      }
    }
    if (errors.length > 0) {
      // A repository failed, so its silence proves nothing: the last known good value wins.
      const hit = cache?.get(canonicalId);
      if (hit !== undefined) {
        log('info', { specializationId: canonicalId, maxLevel: hit.entry.maxLevel, errors: errors.length }, 'max level from stale cache');
        return { kind: 'resolved', maxLevel: hit.entry.maxLevel, source: 'stale-cache', repository: hit.entry.repository, errors };
      }
    }
    const constant = fallback.get(canonicalId);
    if (constant !== undefined) {
      log('info', { specializationId: canonicalId, maxLevel: constant, errors: errors.length }, 'max level from fallback constant');
      return { kind: 'resolved', maxLevel: constant, source: 'fallback', errors };
    }
    return { kind: 'unknown', errors };
  };

  const startLookup = (canonicalId: string, readers: readonly Reader[]): Promise<Outcome> => {
    const flight: Promise<Outcome> = lookup(canonicalId, readers, epoch).finally(() => {
      if (inflight.get(canonicalId) === flight) inflight.delete(canonicalId);
    });
    inflight.set(canonicalId, flight);
    return flight;
  };

  /** A cached answer, the lookup in progress, or a new lookup; decided synchronously. */
  const outcomeOf = (canonicalId: string, readers: readonly Reader[]): Outcome | Promise<Outcome> =>
    freshHit(canonicalId) ?? inflight.get(canonicalId) ?? startLookup(canonicalId, readers);

  const resolveRequests = async (
    requests: ReadonlyMap<string, Request>,
    unresolved: Map<string, ResolveError>,
    prefetched: ReadonlyMap<MaxLevelRepository, Promise<RowsAnswer>>,
  ): Promise<MaxLevelTable> => {
    const readers = bulkReaders(prefetched);
    const settled = await Promise.all(
      [...requests.values()].map(async (request) => [request, await outcomeOf(request.canonicalId, readers)] as const),
    );
    const resolutions = new Map<string, Resolution>();
    for (const [request, outcome] of settled) {
      const result = toResolution(outcome, request);
      if (result.isOk()) resolutions.set(request.canonicalId, result.value);
      else unresolved.set(request.canonicalId, result.error);
    }
    return createTable(resolutions, unresolved, catalog);
  };

  const resolveListed = (ids: readonly string[]): Promise<MaxLevelTable> => {
    const requests = new Map<string, Request>();
    const unresolved = new Map<string, ResolveError>();
    const refused = new Map<string, ResolveError>();
    for (const input of ids) {
      const request = toRequest(input);
      if (request.isErr()) {
        if (request.error._tag === 'ValidationError') unresolved.set(String(input).trim(), request.error);
        else refused.set(request.error.canonicalId, request.error);
        continue;
      }
      const known = requests.get(request.value.canonicalId);
      // Asked both ways: report the canonical request, which carries no alias warning.
      if (known === undefined || (known.alias !== null && request.value.alias === null)) {
        requests.set(request.value.canonicalId, request.value);
      }
    }
    for (const [canonicalId, error] of refused) if (!requests.has(canonicalId)) unresolved.set(canonicalId, error);
    return resolveRequests(requests, unresolved, new Map());
  };

  const resolveDiscovered = async (): Promise<MaxLevelTable> => {
    const prefetched = new Map<MaxLevelRepository, Promise<RowsAnswer>>();
    for (const repository of repositories) {
      if (typeof repository.findAll === 'function') prefetched.set(repository, findAllRows(repository));
    }
    const ids = new Set<string>([...catalog.specializations.map((spec) => spec.id), ...fallback.keys()]);
    for (const rows of await Promise.all(prefetched.values())) {
      if (rows.isErr()) continue;
      for (const id of rows.value.keys()) {
        const parsed = parseSpecializationId(id);
        if (parsed.isOk()) ids.add(catalog.canonicalId(parsed.value));
        else log('warn', { specializationId: id }, 'repository row with an invalid specialization id ignored');
      }
    }
    const requests = new Map<string, Request>();
    for (const id of ids) requests.set(id, { requestedId: id, canonicalId: id, alias: null });
    return resolveRequests(requests, new Map(), prefetched);
  };

  const resolver: MaxLevelResolver = {
    catalog,
    resolve(specializationId) {
      const request = toRequest(specializationId);
      if (request.isErr()) return new ResultAsync(Promise.resolve(err(request.error)));
      const outcome = outcomeOf(request.value.canonicalId, singleReaders);
      return new ResultAsync(Promise.resolve(outcome).then((settled) => toResolution(settled, request.value)));
    },
    resolveAll(specializationIds) {
      if (specializationIds !== undefined) return new ResultAsync(resolveListed(specializationIds).then((table) => ok(table)));
      if (discovery === undefined) {
        const flight: Promise<MaxLevelTable> = resolveDiscovered().finally(() => {
          if (discovery === flight) discovery = undefined;
        });
        discovery = flight;
      }
      return new ResultAsync(discovery.then((table) => ok(table)));
    },
    invalidate(specializationId) {
      epoch += 1;
      discovery = undefined;
      if (specializationId === undefined) {
        cache?.clear();
        inflight.clear();
        return;
      }
      const parsed = parseSpecializationId(specializationId);
      if (parsed.isErr()) return; // an invalid id is never cached
      const canonicalId = catalog.canonicalId(parsed.value);
      cache?.delete(canonicalId);
      inflight.delete(canonicalId);
    },
  };
  return Object.freeze(resolver);
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function toResolution(outcome: Outcome, request: Request): Result<Resolution, UnknownSpecialization> {
  if (outcome.kind === 'unknown') return err(unknownSpecialization(request.canonicalId, outcome.errors));
  return ok(
    Object.freeze({
      specializationId: request.canonicalId,
      requestedId: request.requestedId,
      alias: request.alias,
      maxLevel: outcome.maxLevel,
      source: outcome.source,
      ...(outcome.repository === undefined ? {} : { repository: outcome.repository }),
      errors: Object.freeze([...outcome.errors]),
    }),
  );
}

function createTable(
  resolutions: ReadonlyMap<string, Resolution>,
  unresolved: ReadonlyMap<string, ResolveError>,
  catalog: Catalog,
): MaxLevelTable {
  const sorted = <V>(map: ReadonlyMap<string, V>): ReadonlyMap<string, V> =>
    new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const byId = sorted(resolutions);
  return Object.freeze({
    resolutions: byId,
    unresolved: sorted(unresolved),
    maxLevelOf: (canonicalId: string) => byId.get(catalog.canonicalId(canonicalId))?.maxLevel,
  });
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

function isResult(value: unknown): value is Result<unknown, unknown> {
  const candidate = value as { isOk?: unknown; isErr?: unknown; mapErr?: unknown } | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.isOk === 'function' && typeof candidate.mapErr === 'function';
}

/** A repository's error as a `RepositoryUnavailable` whose message holds no credentials. */
function asRepositoryUnavailable(repository: string, error: unknown): RepositoryUnavailable {
  const tagged = typeof error === 'object' && error !== null && (error as { _tag?: unknown })._tag === 'RepositoryUnavailable';
  if (!tagged) return repositoryUnavailable(repository, error);
  const unavailable = error as RepositoryUnavailable;
  const message = redactSecrets(String(unavailable.message));
  return message === unavailable.message ? unavailable : Object.freeze({ ...unavailable, message });
}

function isRecord(row: unknown): row is MaxLevelRecord {
  return typeof row === 'object' && row !== null && typeof (row as { specializationId?: unknown }).specializationId === 'string';
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

function invalidMaxLevel(specializationId: string, repository: string, value: unknown): InvalidMaxLevel {
  return Object.freeze({
    _tag: 'InvalidMaxLevel',
    specializationId,
    repository,
    value,
    message: `Repository "${repository}" holds an invalid maximum level for '${specializationId}': ${formatValue(value)} (must be an integer ≥ 1)`,
  });
}

function unknownSpecialization(specializationId: string, errors: readonly ResolutionIssue[]): UnknownSpecialization {
  const why = errors.length === 0 ? '' : ` (${errors.length} repository problem${errors.length === 1 ? '' : 's'} met; first: ${errors[0]?.message})`;
  return Object.freeze({
    _tag: 'UnknownSpecialization',
    specializationId,
    message: `Unknown specialization '${specializationId}': no repository and no fallback constant knows it${why}`,
    errors: Object.freeze([...errors]),
  });
}

function deprecatedSpecializationId(specializationId: string, canonicalId: string, deprecatedAfter: string): DeprecatedSpecializationId {
  return Object.freeze({
    _tag: 'DeprecatedSpecializationId',
    specializationId,
    canonicalId,
    deprecatedAfter,
    message: `Specialization ID '${specializationId}' is no longer supported. Use '${canonicalId}' instead.`,
  });
}
