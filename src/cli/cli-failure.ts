/**
 * Exit codes of the `levelsync` command (the table in docs/cli.md, one test per row):
 * - 0: in sync, or the command did what it was asked (flagged-for-review actions alone do not
 *   change that in `apply`, `sync` or `sync --apply`);
 * - 1: work remains: desyncs found, actions stale or failed or not attempted, health not
 *   healthy, another run holds the run lock or the embedded database, the run lock was lost;
 * - 2: bad usage or configuration, nothing written: an unknown command or option, a bad value, a
 *   malformed, edited or unapproved plan file, an unknown specialization, a bad or unreachable
 *   database URL, missing tables (also when they are found missing during `apply`), a schema
 *   newer than this release;
 * - 70: an internal error (a bug in levelsync: EX_SOFTWARE of sysexits.h);
 * - 130 / 143: stopped by SIGINT / SIGTERM (128 + the signal number) after printing its report.
 */
export const EXIT = Object.freeze({ ok: 0, attention: 1, usage: 2, internal: 70, sigint: 130, sigterm: 143 });
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Why a command stopped before doing its job, as a value. */
export interface CliFailure {
  readonly _tag: 'CliFailure';
  /**
   * `usage` (bad arguments), `config` (database, files), `failed` (the work itself failed),
   * `busy` (another process holds the lock), `interrupted` (a signal stopped it).
   */
  readonly kind: 'usage' | 'config' | 'failed' | 'busy' | 'interrupted';
  readonly exitCode: ExitCode;
  /** One line that says what is wrong and what to do. */
  readonly message: string;
}

export function usageFailure(message: string): CliFailure {
  return Object.freeze({ _tag: 'CliFailure', kind: 'usage', exitCode: EXIT.usage, message });
}

export function configFailure(message: string): CliFailure {
  return Object.freeze({ _tag: 'CliFailure', kind: 'config', exitCode: EXIT.usage, message });
}

export function workFailure(message: string): CliFailure {
  return Object.freeze({ _tag: 'CliFailure', kind: 'failed', exitCode: EXIT.attention, message });
}

/** Another process holds what this one needs (the run lock, the embedded database): exit 1, try later. */
export function busyFailure(message: string): CliFailure {
  return Object.freeze({ _tag: 'CliFailure', kind: 'busy', exitCode: EXIT.attention, message });
}

/** The exit code of a run stopped by a signal (the `AbortSignal`'s reason names it). */
export function interruptedExitCode(signal: AbortSignal): ExitCode {
  return signal.reason === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
}

/** Stopped by a signal before the work began or while scanning: nothing was written. */
export function interruptedFailure(signal: AbortSignal, what: string): CliFailure {
  const name = typeof signal.reason === 'string' ? signal.reason : 'SIGINT';
  return Object.freeze({ _tag: 'CliFailure', kind: 'interrupted', exitCode: interruptedExitCode(signal), message: `stopped by ${name} ${what}; nothing was written` });
}

/** The cause of a store error made by the CLI when a signal stopped a scan. */
export class Interrupted extends Error {
  constructor(readonly signal: AbortSignal) {
    super(`stopped by ${typeof signal.reason === 'string' ? signal.reason : 'SIGINT'}`);
  }
}

export function isCliFailure(value: unknown): value is CliFailure {
  return typeof value === 'object' && value !== null && (value as { _tag?: unknown })._tag === 'CliFailure';
}
