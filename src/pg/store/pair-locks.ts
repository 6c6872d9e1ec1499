/**
 * The pair-lock policy of writes: which creations must be serialised per pair, and the
 * statement that takes their locks.
 *
 * Where a table has no unique key, ON CONFLICT cannot stop two transactions from creating the
 * same record. Creations there are serialised per pair: the batch first takes a
 * transaction-level advisory lock on each pair it creates a record for (in key order), in its
 * own statement, so that the apply statement that follows runs on a snapshot taken after any
 * competing creator committed (READ COMMITTED). `readPair({ lock: true })` takes the same lock
 * first, so hooks and bulk runs lock in the same order. Costs BEGIN, the lock statement and
 * COMMIT per batch on a pool; nothing where both tables have unique keys, nor where no other
 * session can write (PGlite).
 *
 * @module
 */
import type { UserId } from '../../domain/records.js';
import type { WriteAction } from '../../sync/action.js';
import { pairLockKey } from '../advisory-run-lock.js';
import type { MappedTableFacts } from '../table-introspection.js';

/** Takes the transaction-level advisory locks bound as `$1` (an int8 array), in array order. */
export const PAIR_LOCK_STATEMENT = 'SELECT count(pg_advisory_xact_lock(k.key)) AS n FROM unnest($1::int8[]) WITH ORDINALITY AS k(key, n)';

/** The pair lock keys a chunk of actions needs, sorted (the order every locker takes them in). */
export function pairLocksFor(actions: readonly WriteAction[], facts: MappedTableFacts, lockNamespace: string): string[] {
  const keys = new Set<string>();
  for (const action of actions) {
    const unguarded = (action.kind === 'CreateLicense' && !facts.licenses.uniqueKey) || (action.kind === 'CreateProgress' && !facts.progress.uniqueKey);
    if (unguarded) keys.add(pairLockKey(lockNamespace, action.userId, action.specializationId));
  }
  return [...keys].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
}

/** The pair lock `readPair({ lock: true })` takes first, where a table has no unique key. */
export function readPairLock(facts: MappedTableFacts, lockNamespace: string, userId: UserId, specializationId: string): string | undefined {
  return facts.progress.uniqueKey && facts.licenses.uniqueKey ? undefined : pairLockKey(lockNamespace, userId, specializationId);
}
