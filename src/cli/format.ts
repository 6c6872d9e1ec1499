import { describeCause, isInformational, type Desync, type DesyncKind } from '../index.js';
import { DESYNC_KINDS } from '../sync/desync.js';
import { describeLegacyIdSummary, type LegacyIdSummary } from '../sync/legacy-ids.js';
import { pairKeyId } from '../sync/pair-key.js';
import { emptyCounts } from '../_internal/counts.js';

/** 12345 → "12,345". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** 1234 → "1.2 s", 65000 → "1 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** What a desync is about, in a few words. */
export function describeDesync(d: Desync): string {
  const max = d.maxLevel === null ? '?' : String(d.maxLevel);
  switch (d.kind) {
    case 'LevelMismatch':
      return `progress ${d.progressLevel}, license ${d.licenseLevel}`;
    case 'MissingLicense':
      return `progress ${String(d.progressLevel)}, no license`;
    case 'MissingProgress':
      return `license ${String(d.licenseLevel)}, no progress record`;
    case 'AboveMaxLevel':
      return `${d.side} level ${d.level} is above the maximum ${max}`;
    case 'InvalidLevel':
      return `${d.side} ${d.field === 'level' ? 'level' : 'max achieved level'} is ${d.value === null ? 'NULL' : String(d.value)}`;
    case 'MaxAchievedBelowLevel':
      return `max achieved ${d.maxAchievedLevel} is below the license level ${d.licenseLevel}`;
    case 'UnreadableRecord':
      return `could not be read: ${d.reason}`;
    case 'UnknownSpecialization':
      return 'no repository or fallback knows its maximum level';
    case 'DuplicateRecord':
      return `${d.count} ${d.side} rows for one pair`;
    case 'LegacySpecializationId':
      return `${d.side} stored under the legacy id ${d.storedAs} (information only)`;
  }
}

/** Desyncs counted by kind, in the documented kind order, with the total. */
export function countByKind(desyncs: readonly Desync[]): Record<DesyncKind, number> & { total: number } {
  const counts = emptyCounts(DESYNC_KINDS);
  for (const d of desyncs) counts[d.kind]++;
  return { ...counts, total: desyncs.length };
}

/** Pairs with at least one desync that needs a repair or a review (legacy ids alone do not count). */
export function pairsNeedingWork(desyncs: readonly Desync[]): number {
  const keys = new Set<string>();
  for (const d of desyncs) if (!isInformational(d)) keys.add(pairKeyId(d));
  return keys.size;
}

/** A tagged error as plain JSON (`cause` reduced to a secret-free message). */
export function errorToJson(error: { readonly _tag: string; readonly message: string; readonly cause?: unknown }): Record<string, unknown> {
  const { cause, ...rest } = error as { cause?: unknown } & Record<string, unknown>;
  return cause === undefined ? { ...rest } : { ...rest, cause: describeCause(cause) };
}

/**
 * The legacy-id summary as lines for people: one per stored id, with rows, pairs, canonical id
 * and deprecation date (information only: such rows block nothing).
 */
export function legacyIdLines(legacyIds: readonly LegacyIdSummary[]): string[] {
  if (legacyIds.length === 0) return [];
  return [
    'Information: records stored under a legacy id, paired under the canonical id (they block nothing; migrate them when convenient):',
    ...legacyIds.map((entry) => `  ${describeLegacyIdSummary(entry, formatCount)}`),
  ];
}
