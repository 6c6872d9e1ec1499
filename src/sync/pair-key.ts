import type { UserId } from '../domain/records.js';

/**
 * The key of a pair (user, canonical specialization), in one place: its order, its printed form
 * and its identity (the string that tells two keys apart in a `Set` or `Map`).
 *
 * @module
 */

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

/**
 * A printable form of a key: `42/LFA_COACH`. For reading, not for telling keys apart: the user
 * ids `42` and `"42"` print the same (use {@link pairKeyId} for a `Set` or `Map`).
 */
export function formatPairKey(key: PairKey): string {
  return `${String(key.userId)}/${key.specializationId}`;
}

/**
 * The identity of a user id as a string: `number:42` and `string:42` differ, as the ids `42`
 * and `"42"` do.
 */
export function userIdKey(userId: UserId): string {
  return `${typeof userId}:${String(userId)}`;
}

/**
 * The identity of a pair key as a string, for a `Set` or `Map`: two keys have the same identity
 * exactly when their user ids (number or string alike) and specialization ids are equal.
 * Stable across releases: the PostgreSQL store derives its advisory pair-lock keys from it.
 */
export function pairKeyId(key: PairKey): string {
  return `${userIdKey(key.userId)}\u0000${key.specializationId}`;
}
