import { isLevel } from '../domain/level.js';
import type { Desync, DesyncBase, DesyncKind, Side } from './desync.js';
import { DESYNC_KINDS } from './desync.js';
import { comparePairKeys } from './pair-key.js';
import type { SyncPair } from './pair.js';

/** What the diff needs besides the pairs. */
export interface DiffContext {
  /** The maximum level of a canonical specialization id, or undefined when it is unknown. */
  readonly maxLevelOf: (canonicalId: string) => number | undefined;
  /**
   * Report a `LegacySpecializationId` per record stored under a legacy id (default false). Legacy
   * ids are otherwise reported once per stored id by the scan (`DesyncScan.legacyIds`), and a pair
   * stored under a legacy id whose levels agree is in sync.
   */
  readonly listLegacy?: boolean;
}

const KIND_ORDER = new Map<DesyncKind, number>(DESYNC_KINDS.map((kind, index) => [kind, index]));
const SIDE_ORDER: Record<Side, number> = { progress: 0, license: 1 };

function orderWithinPair(a: Desync, b: Desync): number {
  const byKind = (KIND_ORDER.get(a.kind) ?? 0) - (KIND_ORDER.get(b.kind) ?? 0);
  if (byKind !== 0) return byKind;
  const sideA = 'side' in a ? SIDE_ORDER[a.side] : 0;
  const sideB = 'side' in b ? SIDE_ORDER[b.side] : 0;
  if (sideA !== sideB) return sideA - sideB;
  const fieldA = a.kind === 'InvalidLevel' ? a.field : '';
  const fieldB = b.kind === 'InvalidLevel' ? b.field : '';
  return fieldA < fieldB ? -1 : fieldA > fieldB ? 1 : 0;
}

/**
 * A desync: the pair's common fields, then the kind's own. (Not `{ ...base, kind }`: V8 builds an
 * object literal that spreads another and adds members about 40 times slower than this, measured
 * at 3.5 µs per object on Node 20, the largest cost of a scan.)
 */
function desyncOf<const T extends { readonly kind: DesyncKind }>(base: DesyncBase, fields: T): DesyncBase & T {
  return Object.assign({ userId: base.userId, specializationId: base.specializationId, maxLevel: base.maxLevel, progress: base.progress, license: base.license }, fields);
}

/**
 * The desyncs of one pair, in the documented order (see {@link DESYNC_KINDS}); empty when the
 * pair is in sync. Pure.
 *
 * A pair is reported when: its specialization is unknown; a side has more than one record; a
 * level or maximum achieved level is null, below 1 or not an integer; a level is above the
 * maximum; a license's maximum achieved level is below its level; one side is missing; both
 * levels are valid and differ; a record could not be read (`UnreadableRecord`, from the store);
 * or, with `listLegacy`, a record is stored under a legacy alias (information only).
 * Level checks are skipped for unknown specializations and for duplicates (which row would
 * they be about?).
 */
export function diffPair(pair: SyncPair, context: DiffContext): Desync[] {
  const maxLevel = context.maxLevelOf(pair.specializationId);
  // The in-sync pair, by far the most common, costs no allocation but the empty result: the
  // conditions below are exactly those under which none of the checks further down reports.
  const listLegacy = context.listLegacy === true;
  if (pair.unreadable !== undefined) {
    const base: DesyncBase = { userId: pair.userId, specializationId: pair.specializationId, maxLevel: maxLevel ?? null, progress: pair.progress[0] ?? null, license: pair.licenses[0] ?? null };
    return [desyncOf(base, { kind: 'UnreadableRecord', reason: pair.unreadable })];
  }
  if (maxLevel !== undefined && pair.progress.length === 1 && pair.licenses.length === 1) {
    const p = pair.progress[0]!;
    const l = pair.licenses[0]!;
    if (
      (!listLegacy || (p.specializationId === pair.specializationId && l.specializationId === pair.specializationId)) &&
      isLevel(p.level) &&
      p.level === l.level &&
      p.level <= maxLevel &&
      isLevel(l.maxAchievedLevel) &&
      l.maxAchievedLevel >= p.level
    ) {
      return [];
    }
  }
  const progress = pair.progress[0] ?? null;
  const license = pair.licenses[0] ?? null;
  const base: DesyncBase = {
    userId: pair.userId,
    specializationId: pair.specializationId,
    maxLevel: maxLevel ?? null,
    progress,
    license,
  };
  const out: Desync[] = [];

  const legacyProgress = listLegacy && pair.progress.find((row) => row.specializationId !== pair.specializationId);
  if (legacyProgress) out.push(desyncOf(base, { kind: 'LegacySpecializationId', side: 'progress', storedAs: legacyProgress.specializationId }));
  const legacyLicense = listLegacy && pair.licenses.find((row) => row.specializationId !== pair.specializationId);
  if (legacyLicense) out.push(desyncOf(base, { kind: 'LegacySpecializationId', side: 'license', storedAs: legacyLicense.specializationId }));

  if (maxLevel === undefined) {
    out.push(desyncOf(base, { kind: 'UnknownSpecialization' }));
  }
  if (pair.progress.length > 1) out.push(desyncOf(base, { kind: 'DuplicateRecord', side: 'progress', count: pair.progress.length }));
  if (pair.licenses.length > 1) out.push(desyncOf(base, { kind: 'DuplicateRecord', side: 'license', count: pair.licenses.length }));
  if (maxLevel === undefined || pair.progress.length > 1 || pair.licenses.length > 1) {
    return out.length > 1 ? out.sort(orderWithinPair) : out;
  }

  const progressLevel = progress?.level ?? null;
  const licenseLevel = license?.level ?? null;
  if (progress) {
    if (!isLevel(progressLevel)) out.push(desyncOf(base, { kind: 'InvalidLevel', side: 'progress', field: 'level', value: progressLevel }));
    else if (progressLevel > maxLevel) out.push(desyncOf(base, { kind: 'AboveMaxLevel', side: 'progress', level: progressLevel }));
  }
  if (license) {
    if (!isLevel(licenseLevel)) out.push(desyncOf(base, { kind: 'InvalidLevel', side: 'license', field: 'level', value: licenseLevel }));
    else if (licenseLevel > maxLevel) out.push(desyncOf(base, { kind: 'AboveMaxLevel', side: 'license', level: licenseLevel }));
    const maxAchieved = license.maxAchievedLevel;
    if (!isLevel(maxAchieved)) {
      out.push(desyncOf(base, { kind: 'InvalidLevel', side: 'license', field: 'maxAchievedLevel', value: maxAchieved }));
    } else if (isLevel(licenseLevel) && maxAchieved < licenseLevel) {
      out.push(desyncOf(base, { kind: 'MaxAchievedBelowLevel', licenseLevel, maxAchievedLevel: maxAchieved }));
    }
  }
  if (progress && !license) out.push(desyncOf(base, { kind: 'MissingLicense', progressLevel }));
  if (license && !progress) out.push(desyncOf(base, { kind: 'MissingProgress', licenseLevel }));
  if (isLevel(progressLevel) && isLevel(licenseLevel) && progressLevel !== licenseLevel) {
    out.push(desyncOf(base, { kind: 'LevelMismatch', progressLevel, licenseLevel, difference: progressLevel - licenseLevel }));
  }
  return out.length > 1 ? out.sort(orderWithinPair) : out;
}

/**
 * Every desync of the given pairs, ordered by user id, then specialization id, then kind. Pure.
 * Pairs may come in any order; stores deliver them in key order, which makes this linear.
 *
 * ```ts
 * const desyncs = diff(pairs, { maxLevelOf: (id) => table.maxLevelOf(id) });
 * ```
 */
export function diff(pairs: Iterable<SyncPair>, context: DiffContext): Desync[] {
  const list = Array.isArray(pairs) ? (pairs as readonly SyncPair[]) : [...pairs];
  let sorted = true;
  for (let i = 1; i < list.length && sorted; i++) {
    if (comparePairKeys(list[i - 1]!, list[i]!) > 0) sorted = false;
  }
  const ordered = sorted ? list : [...list].sort(comparePairKeys);
  const out: Desync[] = [];
  for (const pair of ordered) {
    for (const desync of diffPair(pair, context)) out.push(desync);
  }
  return out;
}
