import type { UserId } from '../domain/records.js';
import { DESYNC_KINDS, type DesyncKind } from './desync.js';

/** The state an action expects to find; `null` means "no record". */
export interface ExpectedState {
  readonly progress: { readonly specializationId: string; readonly level: number | null } | null;
  readonly license: {
    readonly specializationId: string;
    readonly level: number | null;
    readonly maxAchievedLevel: number | null;
  } | null;
}

interface ActionBase {
  readonly userId: UserId;
  /** Canonical specialization id of the pair. */
  readonly specializationId: string;
  /**
   * The state of the whole pair when the plan was made. Apply writes only if both records are
   * still exactly in this state (compare-and-set); otherwise the action is `Stale`.
   */
  readonly expected: ExpectedState;
}

/** Create the missing license from the progress record (writes one progression row). */
export interface CreateLicense extends ActionBase {
  readonly kind: 'CreateLicense';
  readonly write: { readonly specializationId: string; readonly level: number; readonly maxAchievedLevel: number };
  readonly reason: string;
  readonly evidence: string;
}
/** Change a license's level and/or raise its maximum achieved level (a level change writes one progression row). */
export interface SetLicenseLevel extends ActionBase {
  readonly kind: 'SetLicenseLevel';
  readonly write: { readonly level: number; readonly maxAchievedLevel: number };
  readonly reason: string;
  readonly evidence: string;
}
/** Create the missing progress record from the license (no XP history: totals start at 0). */
export interface CreateProgress extends ActionBase {
  readonly kind: 'CreateProgress';
  readonly write: { readonly specializationId: string; readonly level: number };
  readonly reason: string;
}
/** Change a progress record's level (totals are left untouched). */
export interface SetProgressLevel extends ActionBase {
  readonly kind: 'SetProgressLevel';
  readonly write: { readonly level: number };
  readonly reason: string;
}
/**
 * Why a pair is flagged for review: the kinds of desync that stop a machine from repairing it,
 * or `SpecializationRowMissing` (the repair would create a record under a specialization id with
 * no row in the store's specializations table, which its foreign key refuses).
 */
export type FlagReason = DesyncKind | 'SpecializationRowMissing';
/** Every {@link FlagReason}. */
export const FLAG_REASONS = [...DESYNC_KINDS, 'SpecializationRowMissing'] as const satisfies readonly FlagReason[];

/** Nothing is written: a person must decide. */
export interface FlagForReview extends ActionBase {
  readonly kind: 'FlagForReview';
  readonly write: null;
  readonly reasons: readonly FlagReason[];
  readonly message: string;
}

/** One step of a plan. */
export type SyncAction = CreateLicense | SetLicenseLevel | CreateProgress | SetProgressLevel | FlagForReview;
/** Actions that write. */
export type WriteAction = Exclude<SyncAction, FlagForReview>;
export type ActionKind = SyncAction['kind'];
export const ACTION_KINDS = ['CreateLicense', 'SetLicenseLevel', 'CreateProgress', 'SetProgressLevel', 'FlagForReview'] as const satisfies readonly ActionKind[];

/** True for actions that write. */
export function isWriteAction(action: SyncAction): action is WriteAction {
  return action.kind !== 'FlagForReview';
}
