// Builders for the write actions the conformance suite applies, so that each test states only
// what matters to it (the pair, the state it expects, what it writes) instead of repeating the
// whole action literal. An omitted `reason` is 'r', an omitted `evidence` 'e'.
import type { UserId } from '../domain/records.js';
import type { CreateLicense, CreateProgress, ExpectedState, SetLicenseLevel, SetProgressLevel } from '../sync/action.js';

/** The pair an action is for and the state it expects to find. */
export interface ActionTarget {
  readonly userId: UserId;
  /** Canonical specialization id of the pair. */
  readonly specializationId: string;
  readonly expected: ExpectedState;
}

/**
 * The expected state of a pair whose rows are all stored under `specializationId`: a progress
 * level (`null`: no progress record) and a license level with its maximum achieved level
 * (default: the level; `null` license level: no license).
 */
export function pairState(specializationId: string, progress: number | null, license: number | null, maxAchievedLevel: number | null = license): ExpectedState {
  return {
    progress: progress === null ? null : { specializationId, level: progress },
    license: license === null ? null : { specializationId, level: license, maxAchievedLevel },
  };
}

/** A pair whose rows are all stored under its canonical id, in the given state (see {@link pairState}). */
export function pairAt(
  userId: UserId,
  specializationId: string,
  progress: number | null,
  license: number | null,
  maxAchievedLevel: number | null = license,
): ActionTarget {
  return { userId, specializationId, expected: pairState(specializationId, progress, license, maxAchievedLevel) };
}

/** An LFA_COACH pair in the given state (see {@link pairState}). */
export const coach = (userId: UserId, progress: number | null, license: number | null, maxAchievedLevel: number | null = license): ActionTarget =>
  pairAt(userId, 'LFA_COACH', progress, license, maxAchievedLevel);

/** `SetProgressLevel` of the target to `level`. */
export function setProgressLevel(a: ActionTarget & { readonly level: number; readonly reason?: string }): SetProgressLevel {
  return { ...target(a), kind: 'SetProgressLevel', write: { level: a.level }, reason: a.reason ?? 'r' };
}

/** `SetLicenseLevel` of the target to `level` and `maxAchievedLevel`. */
export function setLicenseLevel(
  a: ActionTarget & { readonly level: number; readonly maxAchievedLevel: number; readonly reason?: string; readonly evidence?: string },
): SetLicenseLevel {
  return { ...target(a), kind: 'SetLicenseLevel', write: { level: a.level, maxAchievedLevel: a.maxAchievedLevel }, reason: a.reason ?? 'r', evidence: a.evidence ?? 'e' };
}

/** `CreateProgress` at `level`, stored under `storedId` (default: the pair's specialization id). */
export function createProgress(a: ActionTarget & { readonly level: number; readonly storedId?: string; readonly reason?: string }): CreateProgress {
  return { ...target(a), kind: 'CreateProgress', write: { specializationId: a.storedId ?? a.specializationId, level: a.level }, reason: a.reason ?? 'r' };
}

/** `CreateLicense` at `level` (maximum achieved default: the level), stored under `storedId` (default: the pair's id). */
export function createLicense(
  a: ActionTarget & { readonly level: number; readonly maxAchievedLevel?: number; readonly storedId?: string; readonly reason?: string; readonly evidence?: string },
): CreateLicense {
  return {
    ...target(a),
    kind: 'CreateLicense',
    write: { specializationId: a.storedId ?? a.specializationId, level: a.level, maxAchievedLevel: a.maxAchievedLevel ?? a.level },
    reason: a.reason ?? 'r',
    evidence: a.evidence ?? 'e',
  };
}

const target = (a: ActionTarget): ActionTarget => ({ userId: a.userId, specializationId: a.specializationId, expected: a.expected });
