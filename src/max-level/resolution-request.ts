import { err, ok, type Result } from 'neverthrow';
import { isAliasDeprecated, type Catalog } from '../domain/catalog.js';
import { parseSpecializationId } from '../domain/specialization-id.js';
import type { DeprecatedSpecializationId, ResolveError, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { deprecatedSpecializationId } from './max-level-errors.js';
import type { AliasUse } from './resolution.js';

/** One id as asked, once normalised and mapped to its canonical id. */
export interface Request {
  readonly requestedId: string;
  readonly canonicalId: string;
  readonly alias: AliasUse | null;
}

/** What turning ids into requests needs from the resolver. */
export interface RequestContext {
  readonly catalog: Catalog;
  readonly now: () => Date;
  readonly refuseDeprecatedAliases: boolean;
  readonly logger: Logger;
}

/**
 * Normalises an id as asked and maps it to its canonical id: an invalid id is a
 * `ValidationError`; a deprecated alias is logged, or refused with `refuseDeprecatedAliases`.
 */
export function toRequest(input: unknown, ctx: RequestContext): Result<Request, ValidationError | DeprecatedSpecializationId> {
  const parsed = parseSpecializationId(input);
  if (parsed.isErr()) return err(parsed.error);
  const requestedId = parsed.value;
  const { canonicalId, alias } = ctx.catalog.lookup(requestedId);
  if (alias === null) return ok({ requestedId, canonicalId, alias: null });
  const deprecated = isAliasDeprecated(alias, ctx.now());
  if (deprecated && ctx.refuseDeprecatedAliases) {
    return err(deprecatedSpecializationId(requestedId, canonicalId, alias.deprecatedAfter ?? ''));
  }
  if (deprecated) {
    ctx.logger.warn({ specializationId: requestedId, canonicalId, deprecatedAfter: alias.deprecatedAfter }, 'deprecated specialization alias used');
  }
  return ok({ requestedId, canonicalId, alias: Object.freeze({ id: requestedId, deprecatedAfter: alias.deprecatedAfter ?? null, deprecated }) });
}

/**
 * The requests of a `resolveAll(ids)`, one per canonical id, and the ids refused before any
 * lookup (invalid, or a refused alias whose canonical id was not also asked).
 */
export function collectRequests(
  ids: readonly string[],
  ctx: RequestContext,
): { readonly requests: Map<string, Request>; readonly unresolved: Map<string, ResolveError> } {
  const requests = new Map<string, Request>();
  const unresolved = new Map<string, ResolveError>();
  const refused = new Map<string, ResolveError>();
  for (const input of ids) {
    const request = toRequest(input, ctx);
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
  return { requests, unresolved };
}

/** The request of a canonical id the resolver found itself (`resolveAll()` without ids). */
export function canonicalRequest(canonicalId: string): Request {
  return { requestedId: canonicalId, canonicalId, alias: null };
}
