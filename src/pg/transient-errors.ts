/**
 * Which PostgreSQL failures a retry can cure, and the store error that says so: the adapter's
 * knowledge of SQLSTATE codes, kept out of the core (which only reads `StoreUnavailable.transient`).
 *
 * @module
 */
import { storeUnavailable, type StoreUnavailable } from '../errors.js';

/**
 * True for a driver error whose SQLSTATE is in class 40 (transaction rollback: `40P01` deadlock
 * detected, `40001` serialization failure) or is `55P03` (lock_not_available: a row lock wait
 * hit `lock_timeout`): the transaction was rolled back and may simply be retried.
 */
export function isTransientPgError(cause: unknown): boolean {
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (/^40[0-9A-Z]{3}$/.test(code) || code === '55P03');
}

/** `storeUnavailable` for a PostgreSQL failure: `transient` as {@link isTransientPgError} says. */
export function pgStoreUnavailable(store: string, cause: unknown, what?: string): StoreUnavailable {
  return storeUnavailable(store, cause, what, { transient: isTransientPgError(cause) });
}
