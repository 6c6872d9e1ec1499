import { err, ResultAsync } from 'neverthrow';
import { parseSpecializationId } from '../domain/specialization-id.js';
import type { ResolveError } from '../errors.js';
import { bulkReader, guardRepository, singleReader, type GuardedRepository, type Reader, type RowsAnswer } from './guarded-repository.js';
import { freshHit, lookup, type LookupContext, type Outcome } from './lookup-chain.js';
import { createMaxLevelCache } from './max-level-cache.js';
import { tableOf, toResolution } from './max-level-table.js';
import { canonicalRequest, collectRequests, toRequest, type Request, type RequestContext } from './resolution-request.js';
import type { MaxLevelResolver, MaxLevelTable } from './resolution.js';
import { readResolverOptions, type MaxLevelResolverOptions } from './resolver-options.js';
import { createSingleFlight } from './single-flight.js';

export { MAX_LEVEL_CACHE_DEFAULTS } from './resolver-options.js';
export type { MaxLevelCacheOptions, MaxLevelResolverOptions } from './resolver-options.js';

// The resolver composes: its options (resolver-options), repositories behind the port's contract
// (guarded-repository), the lookup chain (lookup-chain), single-flight with epochs
// (single-flight) and the table assembly (max-level-table).

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
 * if (result.isOk()) console.log(result.value.maxLevel, result.value.source); // 8 'repository'
 * const table = await resolver.resolveAll();
 * table.maxLevelOf('INTERNSHIP'); // 3
 * ```
 */
export function createMaxLevelResolver(options: MaxLevelResolverOptions): MaxLevelResolver {
  const settings = readResolverOptions(options);
  const { catalog, fallback, logger } = settings;
  const now = settings.now;
  const cache = settings.cache === undefined ? undefined : createMaxLevelCache({ ...settings.cache, now });
  const repositories: readonly GuardedRepository[] = settings.repositories.map((repository) => guardRepository(repository, logger));
  const requestContext: RequestContext = { catalog, now, refuseDeprecatedAliases: settings.refuseDeprecatedAliases, logger };
  const lookupContext: LookupContext = { catalog, cache, fallback, logger };

  /** Lookups in progress by canonical id, shared by every caller asking meanwhile. */
  const lookups = createSingleFlight<Outcome>();
  /** A `resolveAll()` without ids in progress, shared the same way. */
  const discovery = createSingleFlight<MaxLevelTable>();
  const singleReaders: readonly Reader[] = repositories.map(singleReader);

  /** A cached answer, the lookup in progress, or a new lookup; decided synchronously. */
  const outcomeOf = (canonicalId: string, readers: readonly Reader[]): Outcome | Promise<Outcome> =>
    freshHit(canonicalId, lookupContext) ??
    lookups.join(canonicalId) ??
    lookups.start(canonicalId, (isCurrent) => lookup(canonicalId, readers, isCurrent, lookupContext));

  const resolveRequests = async (
    requests: ReadonlyMap<string, Request>,
    unresolved: Map<string, ResolveError>,
    prefetched: ReadonlyMap<GuardedRepository, Promise<RowsAnswer>>,
  ): Promise<MaxLevelTable> => {
    const readers = repositories.map((repository) => bulkReader(repository, prefetched.get(repository)));
    const settled = await Promise.all(
      [...requests.values()].map(async (request) => [request, await outcomeOf(request.canonicalId, readers)] as const),
    );
    return tableOf(settled, unresolved, catalog);
  };

  const resolveListed = (ids: readonly string[]): Promise<MaxLevelTable> => {
    const { requests, unresolved } = collectRequests(ids, requestContext);
    return resolveRequests(requests, unresolved, new Map());
  };

  /** Every id the catalog, the fallback constants and the repositories' `findAll()` know. */
  const resolveDiscovered = async (): Promise<MaxLevelTable> => {
    const prefetched = new Map<GuardedRepository, Promise<RowsAnswer>>();
    for (const repository of repositories) {
      if (repository.findAll !== undefined) prefetched.set(repository, repository.findAll());
    }
    const ids = new Set<string>([...catalog.specializations.map((spec) => spec.id), ...fallback.keys()]);
    for (const rows of await Promise.all(prefetched.values())) {
      if (rows.isErr()) continue;
      for (const id of rows.value.keys()) {
        const parsed = parseSpecializationId(id);
        if (parsed.isOk()) ids.add(catalog.canonicalId(parsed.value));
        else logger.warn({ specializationId: id }, 'repository row with an invalid specialization id ignored');
      }
    }
    const requests = new Map<string, Request>();
    for (const id of ids) requests.set(id, canonicalRequest(id));
    return resolveRequests(requests, new Map(), prefetched);
  };

  const resolver: MaxLevelResolver = {
    catalog,
    resolve(specializationId) {
      const request = toRequest(specializationId, requestContext);
      if (request.isErr()) return new ResultAsync(Promise.resolve(err(request.error)));
      const outcome = outcomeOf(request.value.canonicalId, singleReaders);
      return new ResultAsync(Promise.resolve(outcome).then((settled) => toResolution(settled, request.value)));
    },
    resolveAll(specializationIds) {
      if (specializationIds !== undefined) return resolveListed(specializationIds);
      return discovery.join('') ?? discovery.start('', resolveDiscovered);
    },
    invalidate(specializationId) {
      discovery.forget();
      if (specializationId === undefined) {
        cache?.clear();
        lookups.forget();
        return;
      }
      const parsed = parseSpecializationId(specializationId);
      if (parsed.isErr()) {
        lookups.expire(); // an invalid id is never cached
        return;
      }
      const canonicalId = catalog.canonicalId(parsed.value);
      cache?.delete(canonicalId);
      lookups.forget(canonicalId);
    },
  };
  return Object.freeze(resolver);
}
