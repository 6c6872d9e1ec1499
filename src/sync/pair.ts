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
