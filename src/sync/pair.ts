import type { UserId } from '../domain/records.js';

/**
 * One progress row as the sync engine sees it. `level` is whatever the store holds (it may be
 * null, below 1 or fractional: the diff reports such values as `InvalidLevel`).
 */
export interface ProgressState {
  /** The specialization id the row is stored under (may be a legacy alias). */
  readonly specializationId: string;
  readonly level: number | null;
  readonly xp: number;
  readonly sessions: number;
}

/** One license row as the sync engine sees it. */
export interface LicenseState {
  /** The specialization id the row is stored under (may be a legacy alias). */
  readonly specializationId: string;
  readonly level: number | null;
  readonly maxAchievedLevel: number | null;
}

/**
 * Everything a store holds for one (user, canonical specialization): zero or more progress rows
 * and zero or more license rows (more than one is a duplicate). Rows stored under a legacy alias
 * are grouped under the canonical id.
 */
export interface SyncPair {
  readonly userId: UserId;
  /** Canonical specialization id. */
  readonly specializationId: string;
  readonly progress: readonly ProgressState[];
  readonly licenses: readonly LicenseState[];
  /**
   * Set by a store for a pair it could not read whole (a value of an unexpected type): the
   * reason, naming the column. The diff reports it as `UnreadableRecord`, the plan flags it.
   */
  readonly unreadable?: string;
}

/** The key of a pair. */
export interface PairKey {
  readonly userId: UserId;
  readonly specializationId: string;
}

/**
 * Orders user ids: numbers before strings, numbers numerically, strings by Unicode code point
 * (the order of PostgreSQL's `COLLATE "C"` on UTF-8 text).
 */
export function compareUserIds(a: UserId, b: UserId): number {
  if (typeof a === 'number') {
    if (typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
    return -1;
  }
  if (typeof b === 'number') return 1;
  return compareCodePoints(a, b);
}

/** Compares two strings by Unicode code point (not UTF-16 code unit). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after every BMP character in code point order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Orders pair keys by user id, then specialization id. */
export function comparePairKeys(a: PairKey, b: PairKey): number {
  return compareUserIds(a.userId, b.userId) || compareCodePoints(a.specializationId, b.specializationId);
}

/** A printable form of a key: `42/LFA_COACH`. */
export function formatPairKey(key: PairKey): string {
  return `${String(key.userId)}/${key.specializationId}`;
}
