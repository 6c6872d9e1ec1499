/**
 * Every expected failure in levelsync is a plain, readonly value with a PascalCase `_tag`.
 * Errors travel inside neverthrow `Result`s; only programmer errors are thrown.
 * A driver error, when there is one, is kept on `cause` (never its connection string).
 *
 * @module
 */

import { redactSecrets } from './_internal/redact-secrets.js';

/** One problem found while validating an input, with the path of the offending field. */
export interface ValidationIssue {
  /** Dotted path of the field, e.g. `actions[3].expected.license.level`; `(root)` for the whole input. */
  readonly field: string;
  readonly message: string;
}

/** A boundary input (row, plan file, argument, request body) did not have the expected shape. */
export interface ValidationError {
  readonly _tag: 'ValidationError';
  /** What was being validated, e.g. `plan`, `progress row`, `specialization id`. */
  readonly subject: string;
  /** The first offending field (the same as `issues[0].field`). */
  readonly field: string;
  /** One-line message naming the field, suitable for a terminal. */
  readonly message: string;
  readonly issues: readonly ValidationIssue[];
}

/** Why an advancement was rejected, in the order the rules check them. */
export type AdvancementRejectionReason = 'TargetNotHigher' | 'SkipsLevels' | 'AboveMaxLevel';

/** A license advancement broke one of the level rules. */
export interface AdvancementRejected {
  readonly _tag: 'AdvancementRejected';
  readonly reason: AdvancementRejectionReason;
  readonly message: string;
  readonly currentLevel: number;
  readonly targetLevel: number;
  readonly maxLevel: number;
}

/** A repository returned a maximum level that is not an integer ≥ 1 (0, NULL, negative, 3.5…). */
export interface InvalidMaxLevel {
  readonly _tag: 'InvalidMaxLevel';
  readonly specializationId: string;
  readonly repository: string;
  readonly value: unknown;
  readonly message: string;
}

/** A repository could not answer (connection refused, missing table, timeout…). */
export interface RepositoryUnavailable {
  readonly _tag: 'RepositoryUnavailable';
  readonly repository: string;
  readonly message: string;
  readonly cause?: unknown;
}

/** No repository and no fallback constant knows this specialization. */
export interface UnknownSpecialization {
  readonly _tag: 'UnknownSpecialization';
  readonly specializationId: string;
  readonly message: string;
  /** Repository failures met on the way, if any (they may be why the id is unknown). */
  readonly errors: readonly (RepositoryUnavailable | InvalidMaxLevel)[];
}

/** A legacy specialization id used after its deprecation date. */
export interface DeprecatedSpecializationId {
  readonly _tag: 'DeprecatedSpecializationId';
  readonly specializationId: string;
  readonly canonicalId: string;
  readonly deprecatedAfter: string;
  readonly message: string;
}

/** What a max-level resolution can fail with. */
export type ResolveError = UnknownSpecialization | DeprecatedSpecializationId | ValidationError;

/** A storage backend failed; any transaction it had open was rolled back. */
export interface StoreUnavailable {
  readonly _tag: 'StoreUnavailable';
  readonly store: string;
  readonly message: string;
  /**
   * True when the store says a retry can cure the failure: the PostgreSQL store sets it when the
   * database rolled the transaction back for a deadlock or a serialization failure (SQLSTATE
   * class 40), or a lock wait that hit `lock_timeout` (55P03). `applyPlan` retries such batches.
   */
  readonly transient: boolean;
  readonly cause?: unknown;
}

/** Another bulk run holds the run lock for the same scope. */
export interface RunInProgress {
  readonly _tag: 'RunInProgress';
  /** The scope that is locked: `all`, or a shard such as `shard 2/8`. */
  readonly scope: string;
  readonly message: string;
}

/** Errors a `SyncStore` may return. */
export type StoreError = StoreUnavailable | RunInProgress | ValidationError;

/** A saved plan's content no longer matches its fingerprint (edited or corrupted). */
export interface PlanFingerprintMismatch {
  readonly _tag: 'PlanFingerprintMismatch';
  readonly expected: string;
  readonly actual: string;
  readonly message: string;
}

/** A saved plan has a format version this release cannot read. */
export interface UnsupportedPlanVersion {
  readonly _tag: 'UnsupportedPlanVersion';
  readonly formatVersion: unknown;
  readonly message: string;
}

/** What `parsePlan` can fail with. */
export type PlanParseError = ValidationError | PlanFingerprintMismatch | UnsupportedPlanVersion;

/** Every error levelsync returns. */
export type LevelsyncError =
  | ValidationError
  | AdvancementRejected
  | InvalidMaxLevel
  | RepositoryUnavailable
  | UnknownSpecialization
  | DeprecatedSpecializationId
  | StoreUnavailable
  | RunInProgress
  | PlanFingerprintMismatch
  | UnsupportedPlanVersion;

/** Every `_tag` levelsync uses, derived from the union. */
export type LevelsyncErrorTag = LevelsyncError['_tag'];

// ---------------------------------------------------------------------------------------------
// Constructors
// ---------------------------------------------------------------------------------------------

export function validationError(subject: string, issues: readonly ValidationIssue[]): ValidationError {
  const first = issues[0] ?? { field: '(root)', message: 'is invalid' };
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return Object.freeze({
    _tag: 'ValidationError',
    subject,
    field: first.field,
    message: `Invalid ${subject}: ${first.field}: ${first.message}${more}`,
    issues: Object.freeze([...issues]),
  });
}

export function repositoryUnavailable(repository: string, cause: unknown): RepositoryUnavailable {
  return Object.freeze({
    _tag: 'RepositoryUnavailable',
    repository,
    message: `Repository "${repository}" is unavailable: ${describeCause(cause)}`,
    cause,
  });
}

/**
 * A store failure. `transient` is the store's verdict (the PostgreSQL adapter's: a deadlock, a
 * serialization failure or a lock timeout); without it the failure is lasting.
 */
export function storeUnavailable(store: string, cause: unknown, what = 'failed', options: { readonly transient?: boolean } = {}): StoreUnavailable {
  return Object.freeze({
    _tag: 'StoreUnavailable',
    store,
    message: `Store "${store}" ${what}: ${describeCause(cause)}`,
    transient: options.transient ?? false,
    cause,
  });
}

/** A saved plan whose content does not match its fingerprint. */
export function planFingerprintMismatch(expected: string, actual: string): PlanFingerprintMismatch {
  return Object.freeze({
    _tag: 'PlanFingerprintMismatch',
    expected,
    actual,
    message: 'The plan does not match its fingerprint: it was edited or corrupted after it was made. Make a new plan.',
  });
}

/** A saved plan of format `version`, where this release reads `readable`; version 1 gets the way to re-plan. */
export function unsupportedPlanVersion(version: unknown, readable: number): UnsupportedPlanVersion {
  const replan =
    version === 1
      ? ': version 1 plans (one JSON document) came from development builds before plans were streamed; make a new plan (`levelsync plan --out <file>`, or createPlan/createPlanStream) from the current data, which is what applying it would need anyway'
      : '';
  return Object.freeze({
    _tag: 'UnsupportedPlanVersion',
    formatVersion: version,
    message: `Unsupported plan format version ${JSON.stringify(version)}: this release reads version ${readable}${replan}`,
  });
}

/** A license advancement that broke the level rule `reason`. */
export function advancementRejected(
  reason: AdvancementRejectionReason,
  message: string,
  levels: { readonly currentLevel: number; readonly targetLevel: number; readonly maxLevel: number },
): AdvancementRejected {
  return Object.freeze({ _tag: 'AdvancementRejected', reason, message, currentLevel: levels.currentLevel, targetLevel: levels.targetLevel, maxLevel: levels.maxLevel });
}

export function runInProgress(scope: string): RunInProgress {
  return Object.freeze({
    _tag: 'RunInProgress',
    scope,
    message: `Another levelsync run holds the lock for ${scope}; try again when it has finished`,
  });
}

/**
 * A short, secret-free description of a thrown value: the message of an Error (with any
 * `postgres://user:password@` credentials masked), or its string form.
 */
export function describeCause(cause: unknown): string {
  let text: string;
  if (cause instanceof Error) text = cause.message;
  else if (typeof cause === 'object' && cause !== null && '_tag' in cause && 'message' in cause) {
    text = String((cause as { message: unknown }).message);
  } else text = String(cause);
  return redactSecrets(text);
}
