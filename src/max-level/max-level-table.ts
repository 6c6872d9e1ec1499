import { err, ok, type Result } from 'neverthrow';
import type { Catalog } from '../domain/catalog.js';
import type { ResolveError, UnknownSpecialization } from '../errors.js';
import type { Outcome } from './lookup-chain.js';
import { unknownSpecialization } from './max-level-errors.js';
import type { Request } from './resolution-request.js';
import type { MaxLevelTable, Resolution } from './resolution.js';

/** Shapes how a canonical id was settled for the id as asked: a frozen `Resolution`, or `UnknownSpecialization`. */
export function toResolution(outcome: Outcome, request: Request): Result<Resolution, UnknownSpecialization> {
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

/** Assembles a frozen {@link MaxLevelTable}: both maps sorted by canonical id, `maxLevelOf` accepting aliases. */
export function createTable(
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

/** Settled requests as a table: resolved ones in `resolutions`, the others added to `unresolved`. */
export function tableOf(
  settled: readonly (readonly [Request, Outcome])[],
  unresolved: Map<string, ResolveError>,
  catalog: Catalog,
): MaxLevelTable {
  const resolutions = new Map<string, Resolution>();
  for (const [request, outcome] of settled) {
    const result = toResolution(outcome, request);
    if (result.isOk()) resolutions.set(request.canonicalId, result.value);
    else unresolved.set(request.canonicalId, result.error);
  }
  return createTable(resolutions, unresolved, catalog);
}
