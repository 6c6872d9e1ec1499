import { err, ok, type Result } from 'neverthrow';
import { validationError, type ValidationError, type ValidationIssue } from '../errors.js';
import { toIssues } from '../_internal/zod.js';
import { SpecializationSchema, type Specialization, type SpecializationAlias, type SpecializationInput } from './specialization.js';

/** Where an id stands in a catalog. */
export interface CanonicalIdLookup {
  /** The canonical id (the id itself when it is not an alias). */
  readonly canonicalId: string;
  /** The alias used, when `id` was a legacy alias. */
  readonly alias: SpecializationAlias | null;
}

/**
 * A validated set of specializations with their legacy aliases. Which ids are aliases is a
 * property of the catalog in use: a database that still names its specializations PLAYER/COACH
 * can use a catalog where those are the canonical ids.
 */
export interface Catalog {
  readonly specializations: readonly Specialization[];
  /** The specialization named by a canonical id or an alias (case-insensitive). */
  get(id: string): Specialization | undefined;
  /** Maps an alias to its canonical id; any other id maps to itself (upper-cased). */
  lookup(id: string): CanonicalIdLookup;
  /** `lookup(id).canonicalId`. */
  canonicalId(id: string): string;
  /** The legacy ids of a canonical id (empty when it has none). */
  aliasesOf(canonicalId: string): readonly string[];
  /** Every alias → canonical id pair, for stores that group rows by canonical id. */
  readonly aliasMap: ReadonlyMap<string, string>;
}

/**
 * Builds a catalog from specialization definitions, validating each one and refusing an id or
 * alias that names two specializations.
 */
export function createCatalog(input: readonly SpecializationInput[]): Result<Catalog, ValidationError> {
  const issues: ValidationIssue[] = [];
  const specializations: Specialization[] = [];
  input.forEach((raw, index) => {
    const parsed = SpecializationSchema.safeParse(raw);
    if (parsed.success) specializations.push(parsed.data);
    else issues.push(...toIssues(parsed.error, `specializations[${index}]`));
  });
  if (issues.length > 0) return err(validationError('catalog', issues));

  const byId = new Map<string, Specialization>();
  const aliasMap = new Map<string, string>();
  const aliasInfo = new Map<string, SpecializationAlias>();
  specializations.forEach((spec, index) => {
    if (byId.has(spec.id) || aliasMap.has(spec.id)) {
      issues.push({ field: `specializations[${index}].id`, message: `"${spec.id}" is defined twice` });
    }
    byId.set(spec.id, spec);
  });
  specializations.forEach((spec, index) => {
    (spec.aliases ?? []).forEach((alias, aliasIndex) => {
      if (byId.has(alias.id) || aliasMap.has(alias.id)) {
        issues.push({
          field: `specializations[${index}].aliases[${aliasIndex}].id`,
          message: `"${alias.id}" already names another specialization`,
        });
        return;
      }
      aliasMap.set(alias.id, spec.id);
      aliasInfo.set(alias.id, alias);
    });
  });
  if (issues.length > 0) return err(validationError('catalog', issues));

  const lookup = (id: string): CanonicalIdLookup => {
    const upper = id.trim().toUpperCase();
    const canonical = aliasMap.get(upper);
    if (canonical !== undefined) return { canonicalId: canonical, alias: aliasInfo.get(upper) ?? null };
    return { canonicalId: upper, alias: null };
  };
  const aliasesByCanonical = new Map<string, string[]>();
  for (const [alias, canonical] of aliasMap) {
    const list = aliasesByCanonical.get(canonical) ?? [];
    list.push(alias);
    aliasesByCanonical.set(canonical, list);
  }

  return ok(
    Object.freeze({
      specializations: Object.freeze(specializations),
      get: (id: string) => byId.get(lookup(id).canonicalId),
      lookup,
      canonicalId: (id: string) => lookup(id).canonicalId,
      aliasesOf: (canonicalId: string) => aliasesByCanonical.get(canonicalId.trim().toUpperCase()) ?? [],
      aliasMap,
    }),
  );
}

/** Like {@link createCatalog}, for definitions written in code: throws on an invalid definition. */
export function defineCatalog(input: readonly SpecializationInput[]): Catalog {
  const result = createCatalog(input);
  if (result.isErr()) throw new TypeError(result.error.message);
  return result.value;
}

/** True when an alias's deprecation date has passed at `now`. */
export function isAliasDeprecated(alias: SpecializationAlias, now: Date): boolean {
  if (alias.deprecatedAfter === undefined) return false;
  return now.toISOString().slice(0, 10) > alias.deprecatedAfter;
}
