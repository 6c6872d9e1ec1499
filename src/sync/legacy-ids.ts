import type { Catalog } from '../domain/catalog.js';
import type { SyncPair } from './pair.js';

/** How much data a store holds under one legacy (alias) id, as a store counts it. */
export interface LegacyIdUsage {
  /** The id the rows are stored under, e.g. `PLAYER`. */
  readonly storedId: string;
  /** The canonical id those rows belong to, e.g. `GANCUJU_PLAYER`. */
  readonly canonicalId: string;
  /** Progress rows stored under `storedId`. */
  readonly progressRows: number;
  /** License rows stored under `storedId`. */
  readonly licenseRows: number;
  /** Pairs (user, canonical id) with at least one row stored under `storedId`. */
  readonly pairs: number;
}

/**
 * The legacy-id summary of a scan: one entry per stored legacy id, with the alias's deprecation
 * date from the catalog. Information only: rows under a legacy id are paired under the canonical
 * id, nothing needs them migrated, and writes keep the id a row is stored under.
 */
export interface LegacyIdSummary extends LegacyIdUsage {
  /** The alias's deprecation date (`YYYY-MM-DD`), or null when the catalog gives none. */
  readonly deprecatedAfter: string | null;
}

/** Counts legacy-id use in pairs already read (for stores without `summarizeLegacyIds`). */
export function countLegacyIdUse(pairs: Iterable<SyncPair>, aliases: ReadonlyMap<string, string>): LegacyIdUsage[] {
  const byId = new Map<string, { canonicalId: string; progressRows: number; licenseRows: number; pairs: number }>();
  const entry = (storedId: string, canonicalId: string) => {
    let e = byId.get(storedId);
    if (!e) byId.set(storedId, (e = { canonicalId, progressRows: 0, licenseRows: 0, pairs: 0 }));
    return e;
  };
  for (const pair of pairs) {
    const seen = new Set<string>();
    for (const row of pair.progress) {
      const canonical = aliases.get(row.specializationId);
      if (canonical === undefined) continue;
      entry(row.specializationId, canonical).progressRows++;
      seen.add(row.specializationId);
    }
    for (const row of pair.licenses) {
      const canonical = aliases.get(row.specializationId);
      if (canonical === undefined) continue;
      entry(row.specializationId, canonical).licenseRows++;
      seen.add(row.specializationId);
    }
    for (const id of seen) byId.get(id)!.pairs++;
  }
  return sortUsage([...byId].map(([storedId, e]) => ({ storedId, ...e })));
}

/** Adds merged counts per stored id (pages of one scan, for instance). */
export function mergeLegacyIdUse(a: readonly LegacyIdUsage[], b: readonly LegacyIdUsage[]): LegacyIdUsage[] {
  const out = new Map<string, LegacyIdUsage>();
  for (const u of [...a, ...b]) {
    const prev = out.get(u.storedId);
    out.set(
      u.storedId,
      prev
        ? { ...prev, progressRows: prev.progressRows + u.progressRows, licenseRows: prev.licenseRows + u.licenseRows, pairs: prev.pairs + u.pairs }
        : u,
    );
  }
  return sortUsage([...out.values()]);
}

/** The usage with each alias's deprecation date from `catalog`, ordered by stored id. */
export function legacyIdSummary(usage: readonly LegacyIdUsage[], catalog: Catalog): LegacyIdSummary[] {
  return sortUsage(usage)
    .filter((u) => u.progressRows + u.licenseRows > 0)
    .map((u) => ({
      storedId: u.storedId,
      canonicalId: u.canonicalId,
      progressRows: u.progressRows,
      licenseRows: u.licenseRows,
      pairs: u.pairs,
      deprecatedAfter: catalog.lookup(u.storedId).alias?.deprecatedAfter ?? null,
    }));
}

/**
 * One line per stored id, e.g. `PLAYER → GANCUJU_PLAYER: 2004 pair(s) with 1990 progress row(s)
 * and 1938 license row(s) stored under PLAYER (deprecated after 2026-05-18)`.
 */
export function describeLegacyIdSummary(entry: LegacyIdSummary, formatCount: (n: number) => string = String): string {
  const deprecated = entry.deprecatedAfter ? ` (deprecated after ${entry.deprecatedAfter})` : '';
  return `${entry.storedId} → ${entry.canonicalId}: ${formatCount(entry.pairs)} pair(s) with ${formatCount(entry.progressRows)} progress row(s) and ${formatCount(entry.licenseRows)} license row(s) stored under ${entry.storedId}${deprecated}`;
}

function sortUsage<T extends LegacyIdUsage>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => (a.storedId < b.storedId ? -1 : a.storedId > b.storedId ? 1 : 0));
}
