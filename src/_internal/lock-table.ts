import { err, ok, okAsync, ResultAsync } from 'neverthrow';
import { runInProgress, type StoreError } from '../errors.js';
import { formatShard } from '../sync/shard.js';
import type { RunLock, RunScope } from '../sync/sync-store.js';

/**
 * In-process run locks: `all` excludes everything; a shard excludes `all` and itself.
 * Used by the in-memory store, and by the PostgreSQL store on PGlite (one in-process session,
 * where advisory locks cannot exclude anyone).
 */
export function createLockTable(): { acquire(scope: RunScope, wait: boolean): ResultAsync<RunLock, StoreError> } {
  const held = new Set<string>();
  const waiters: (() => void)[] = [];
  const label = (scope: RunScope) => (scope.shard ? `shard ${formatShard(scope.shard)}` : 'all');
  const conflicts = (key: string) => held.has(key) || held.has('all') || (key === 'all' && held.size > 0);
  const tryTake = (key: string): RunLock | null => {
    if (conflicts(key)) return null;
    held.add(key);
    let released = false;
    return {
      scope: key,
      release: async () => {
        if (released) return;
        released = true;
        held.delete(key);
        waiters.splice(0).forEach((wake) => wake());
      },
    };
  };
  return {
    acquire(scope, wait) {
      const key = label(scope);
      const first = tryTake(key);
      if (first) return okAsync(first);
      if (!wait) return new ResultAsync(Promise.resolve(err(runInProgress(key))));
      return new ResultAsync(
        (async () => {
          for (;;) {
            await new Promise<void>((resolve) => waiters.push(resolve));
            const lock = tryTake(key);
            if (lock) return ok(lock);
          }
        })(),
      );
    },
  };
}
