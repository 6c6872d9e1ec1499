import type { UserId } from '../domain/records.js';

/** A progress row as seeded into, or read back from, a store under test. */
export interface ProgressRowData {
  readonly userId: UserId;
  readonly specializationId: string;
  readonly level: number | null;
  readonly xp?: number;
  readonly sessions?: number;
}

/** A license row as seeded into, or read back from, a store under test. */
export interface LicenseRowData {
  readonly userId: UserId;
  readonly specializationId: string;
  readonly level: number | null;
  readonly maxAchievedLevel: number | null;
}

/** A progression (history) row as read back from a store under test. */
export interface ProgressionRowData {
  readonly userId: UserId;
  readonly specializationId: string;
  readonly fromLevel: number | null;
  readonly toLevel: number;
  readonly advancedBy: UserId | null;
  readonly reason: string;
  readonly evidence: string | null;
}

/** The data a conformance test starts from. */
export interface SyncStoreSeed {
  /** Specializations the store knows (rows written under another id violate a foreign key). */
  readonly specializations: readonly { readonly id: string; readonly maxLevel: number }[];
  readonly progress: readonly ProgressRowData[];
  readonly licenses: readonly LicenseRowData[];
}

/** Everything a store holds, in a canonical order, for assertions. */
export interface StoreSnapshot {
  /** Ordered by user id, then stored specialization id. `xp`/`sessions` always present. */
  readonly progress: readonly Required<ProgressRowData>[];
  /** Ordered by user id, then stored specialization id. */
  readonly licenses: readonly LicenseRowData[];
  /** In insertion order. */
  readonly progressions: readonly ProgressionRowData[];
}
