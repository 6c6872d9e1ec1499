// SyncStore conformance, run lock: one whole run at a time, shards side by side, and waiting for
// the holder. Two stores over the same data stand for two processes (`otherStore`).
import { expect } from 'vitest';
import type { SyncStore } from '../sync/sync-store.js';
import { conformanceTest, type ConformanceTest } from './conformance-harness.js';
import type { SyncStoreFixture } from './sync-store-fixture.js';
import type { SyncStoreHarness } from './sync-store-conformance.js';

/** The other process's store: `otherStore()` when the harness has one, else the same store. */
const otherOf = async (h: SyncStoreHarness): Promise<SyncStore> => (h.otherStore ? h.otherStore() : h.store);

/** Who may run at the same time. */
export function runLockTests({ open }: SyncStoreFixture): ConformanceTest[] {
  return [
    conformanceTest('acquireRunLock() refuses a second whole run with RunInProgress until the first releases', async () => {
      const h = await open();
      const other = await otherOf(h);
      const first = (await h.store.acquireRunLock({}))._unsafeUnwrap();
      const second = await other.acquireRunLock({});
      expect(second.isErr() && second.error._tag).toBe('RunInProgress');
      await first.release();
      const third = (await other.acquireRunLock({}))._unsafeUnwrap();
      await third.release();
    }),

    conformanceTest('acquireRunLock() lets different shards run together but not a shard and a whole run', async () => {
      const h = await open();
      const other = await otherOf(h);
      const a = (await h.store.acquireRunLock({ shard: { index: 0, count: 2 } }))._unsafeUnwrap();
      const b = (await other.acquireRunLock({ shard: { index: 1, count: 2 } }))._unsafeUnwrap();
      const sameShard = await other.acquireRunLock({ shard: { index: 0, count: 2 } });
      expect(sameShard.isErr() && sameShard.error._tag).toBe('RunInProgress');
      const whole = await other.acquireRunLock({});
      expect(whole.isErr() && whole.error._tag).toBe('RunInProgress');
      await a.release();
      await b.release();
      const after = (await other.acquireRunLock({}))._unsafeUnwrap();
      await after.release();
    }),

    conformanceTest('acquireRunLock({ wait: true }) waits for the holder to release', async () => {
      const h = await open();
      const other = await otherOf(h);
      const first = (await h.store.acquireRunLock({}))._unsafeUnwrap();
      let acquired = false;
      const waiting = other.acquireRunLock({}, { wait: true }).map((lock) => {
        acquired = true;
        return lock;
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(acquired).toBe(false);
      await first.release();
      const second = (await waiting)._unsafeUnwrap();
      expect(acquired).toBe(true);
      await second.release();
    }),
  ];
}
