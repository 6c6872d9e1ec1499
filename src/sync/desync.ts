import type { UserId } from '../domain/records.js';
import type { LicenseState, ProgressState } from './pair.js';

/** Which record of a pair a desync is about. */
export type Side = 'progress' | 'license';

/** The kinds of desynchronisation, in the order they are reported within a pair. */
export const DESYNC_KINDS = [
  'UnreadableRecord',
  'UnknownSpecialization',
  'DuplicateRecord',
  'InvalidLevel',
  'AboveMaxLevel',
  'MaxAchievedBelowLevel',
  'MissingLicense',
  'MissingProgress',
  'LevelMismatch',
  'LegacySpecializationId',
] as const;
export type DesyncKind = (typeof DESYNC_KINDS)[number];

/** What every desync carries: the pair's key, its maximum level and the state of both records. */
export interface DesyncBase {
  readonly userId: UserId;
  /** Canonical specialization id. */
  readonly specializationId: string;
  /** The resolved maximum level, or null when the specialization is unknown. */
  readonly maxLevel: number | null;
  /** The progress record (the first one when there are duplicates), or null when missing. */
  readonly progress: ProgressState | null;
  /** The license record (the first one when there are duplicates), or null when missing. */
  readonly license: LicenseState | null;
}

/** Progress and license levels differ. `difference` is progress minus license. */
export interface LevelMismatch extends DesyncBase {
  readonly kind: 'LevelMismatch';
  readonly progressLevel: number;
  readonly licenseLevel: number;
  readonly difference: number;
}
/** A progress record has no license. */
export interface MissingLicense extends DesyncBase {
  readonly kind: 'MissingLicense';
  readonly progressLevel: number | null;
}
/** A license has no progress record. */
export interface MissingProgress extends DesyncBase {
  readonly kind: 'MissingProgress';
  readonly licenseLevel: number | null;
}
/** A level is above the specialization's maximum. */
export interface AboveMaxLevel extends DesyncBase {
  readonly kind: 'AboveMaxLevel';
  readonly side: Side;
  readonly level: number;
}
/** A level is null, below 1 or not an integer. */
export interface InvalidLevel extends DesyncBase {
  readonly kind: 'InvalidLevel';
  readonly side: Side;
  readonly field: 'level' | 'maxAchievedLevel';
  readonly value: number | null;
}
/** A license's highest achieved level is below its current level. */
export interface MaxAchievedBelowLevel extends DesyncBase {
  readonly kind: 'MaxAchievedBelowLevel';
  readonly licenseLevel: number;
  readonly maxAchievedLevel: number;
}
/**
 * A record the store could not read into levelsync's types (a value of an unexpected type, a
 * user id beyond what the mapping can carry): flagged for review with the reason, never guessed
 * at; the rest of the scan goes on.
 */
export interface UnreadableRecord extends DesyncBase {
  readonly kind: 'UnreadableRecord';
  /** What could not be read, naming the column. */
  readonly reason: string;
}
/** No repository and no fallback knows the specialization. */
export interface UnknownSpecializationDesync extends DesyncBase {
  readonly kind: 'UnknownSpecialization';
}
/** More than one record of one side for the same (user, specialization). */
export interface DuplicateRecord extends DesyncBase {
  readonly kind: 'DuplicateRecord';
  readonly side: Side;
  readonly count: number;
}
/**
 * A record is stored under a legacy alias; reported per pair only when asked for
 * (`listLegacy`), otherwise summarised per stored id (`DesyncScan.legacyIds`). Information only: it blocks no repair and writes
 * keep the id a row is stored under; migrate such rows when convenient.
 */
export interface LegacySpecializationId extends DesyncBase {
  readonly kind: 'LegacySpecializationId';
  readonly side: Side;
  readonly storedAs: string;
}

/** A desynchronisation between a learner's progress and license for one specialization. */
export type Desync =
  | LevelMismatch
  | MissingLicense
  | MissingProgress
  | AboveMaxLevel
  | InvalidLevel
  | MaxAchievedBelowLevel
  | UnknownSpecializationDesync
  | UnreadableRecord
  | DuplicateRecord
  | LegacySpecializationId;

/** True for desyncs that only inform (legacy ids) and need no repair. */
export function isInformational(desync: Desync): boolean {
  return desync.kind === 'LegacySpecializationId';
}
