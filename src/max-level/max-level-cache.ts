/** A cached repository answer for one canonical specialization id. */
export interface MaxLevelCacheEntry {
  readonly maxLevel: number;
  /** The repository that supplied the value. */
  readonly repository: string;
  /** When the value was stored (milliseconds since the epoch, from the resolver's `now`). */
  readonly storedAt: number;
}

/** A cache lookup: the entry, and whether it is still within its time to live. */
export interface MaxLevelCacheHit {
  readonly entry: MaxLevelCacheEntry;
  readonly fresh: boolean;
}

/**
 * The resolver's cache of repository answers, by canonical id: a time to live, a bounded size
 * (the least recently used entry goes first) and expired entries kept as last known good values
 * until they are evicted or deleted. Internal to the resolver; not part of the public API.
 *
 * ```ts
 * const cache = createMaxLevelCache({ ttlMs: 60_000, maxEntries: 1_000, now: () => new Date() });
 * cache.set('INTERNSHIP', 3, 'postgres');
 * cache.get('INTERNSHIP'); // { entry: { maxLevel: 3, repository: 'postgres', storedAt }, fresh: true }
 * ```
 */
export interface MaxLevelCache {
  /** The entry of `id` (fresh or expired), marking it as recently used. */
  get(id: string): MaxLevelCacheHit | undefined;
  set(id: string, maxLevel: number, repository: string): void;
  delete(id: string): void;
  clear(): void;
  readonly size: number;
}

/** Creates a {@link MaxLevelCache}. Options are validated by the resolver. */
export function createMaxLevelCache(options: {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly now: () => Date;
}): MaxLevelCache {
  const { ttlMs, maxEntries } = options;
  const clock = () => options.now().getTime();
  // A Map iterates in insertion order: re-inserting on every use keeps the least recently used first.
  const entries = new Map<string, MaxLevelCacheEntry>();

  return {
    get(id) {
      const entry = entries.get(id);
      if (entry === undefined) return undefined;
      entries.delete(id);
      entries.set(id, entry);
      return { entry, fresh: clock() - entry.storedAt < ttlMs };
    },
    set(id, maxLevel, repository) {
      entries.delete(id);
      entries.set(id, Object.freeze({ maxLevel, repository, storedAt: clock() }));
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries) break;
        entries.delete(oldest);
      }
    },
    delete(id) {
      entries.delete(id);
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
