/**
 * Work in progress by key, shared by every caller asking meanwhile (single-flight), with an
 * epoch that invalidation advances: work that started in an older epoch may still answer its
 * callers but must not publish (cache) what it found, since it may be outdated.
 */
export interface SingleFlight<V> {
  /** The work in progress for `key`, if any. */
  join(key: string): Promise<V> | undefined;
  /**
   * Starts `work` for `key` and shares it until it settles. `work` gets `isCurrent()`, true while
   * no invalidation happened since it started.
   */
  start(key: string, work: (isCurrent: () => boolean) => Promise<V>): Promise<V>;
  /** Advances the epoch and drops the work of `key`, or of every key when none is given. */
  forget(key?: string): void;
  /** Advances the epoch only: work in progress goes on but learns it is outdated. */
  expire(): void;
}

/** Creates a {@link SingleFlight}. Internal to the resolver. */
export function createSingleFlight<V>(): SingleFlight<V> {
  const inflight = new Map<string, Promise<V>>();
  let epoch = 0;
  return {
    join: (key) => inflight.get(key),
    start(key, work) {
      const startedAt = epoch;
      const flight: Promise<V> = work(() => startedAt === epoch).finally(() => {
        if (inflight.get(key) === flight) inflight.delete(key);
      });
      inflight.set(key, flight);
      return flight;
    },
    forget(key) {
      epoch += 1;
      if (key === undefined) inflight.clear();
      else inflight.delete(key);
    },
    expire() {
      epoch += 1;
    },
  };
}
