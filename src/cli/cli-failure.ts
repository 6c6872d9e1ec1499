/**
 * Exit codes of the `levelsync` command:
 * - 0: in sync, or the command did what it was asked;
 * - 1: desyncs found, or actions failed or went stale (or another run holds the lock);
 * - 2: bad usage or configuration: an unknown command or option, a bad value, a malformed or
 *   edited plan file, an unknown specialization, a bad or unreachable database URL, missing tables.
 */
export const EXIT = Object.freeze({ ok: 0, attention: 1, usage: 2 });
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Why a command stopped before doing its job, as a value. */
export interface CliFailure {
  readonly _tag: 'CliFailure';
  /** `usage` (bad arguments), `config` (database, files), `failed` (the work itself failed). */
  readonly kind: 'usage' | 'config' | 'failed';
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

export function isCliFailure(value: unknown): value is CliFailure {
  return typeof value === 'object' && value !== null && (value as { _tag?: unknown })._tag === 'CliFailure';
}
