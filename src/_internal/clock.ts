import { err, ok, type Result } from 'neverthrow';
import { z } from 'zod';
import { validationError, type ValidationError } from '../errors.js';

// levelsync's one clock convention: every public option that reads the wall clock is
// `now?: () => Date`, defaulting to `systemNow`. (Durations inside a run are measured with
// `Date.now()` and are not options.)

/** The wall clock options default to. */
export const systemNow = (): Date => new Date();

const NOW_MESSAGE = 'must be a function returning a Date, e.g. () => new Date()';

/** A `now` option in a zod options schema. */
export const NowOptionSchema = z.custom<() => Date>((value) => typeof value === 'function', { error: NOW_MESSAGE });

/**
 * The time a `now` option gives (or the system time without one), or a `ValidationError` naming
 * the field when the option is not a function or does not give a valid `Date`.
 */
export function readNow(now: unknown, subject: string): Result<Date, ValidationError> {
  if (now === undefined) return ok(systemNow());
  if (typeof now !== 'function') return err(validationError(subject, [{ field: 'now', message: NOW_MESSAGE }]));
  const time: unknown = now();
  if (!(time instanceof Date) || Number.isNaN(time.getTime())) {
    return err(validationError(subject, [{ field: 'now', message: `${NOW_MESSAGE} (it returned ${time instanceof Date ? 'an invalid Date' : typeof time})` }]));
  }
  return ok(time);
}
