import { err, ok, ResultAsync, type Result } from 'neverthrow';
import { repositoryUnavailable, type RepositoryUnavailable } from '../errors.js';
import type { MaxLevelRecord, MaxLevelRepository } from '../max-level/max-level-repository.js';

/** Options of {@link createInMemoryMaxLevelRepository}. */
export interface InMemoryMaxLevelRepositoryOptions {
  /** The repository name reported in resolutions and errors. Defaults to `memory`. */
  readonly name?: string;
  /** Initial raw values by exact id; invalid values (0, null, -1, 3.5) are kept as given. */
  readonly values?: Readonly<Record<string, number | null>>;
  /**
   * Answer after this many milliseconds on a real timer. Defaults to none: every call answers on
   * the next microtask, so tests never wait on a clock.
   */
  readonly delayMs?: number;
}

/**
 * A {@link MaxLevelRepository} held in memory, with controls for tests: change values, make
 * every call fail, count calls.
 *
 * ```ts
 * const memory = createInMemoryMaxLevelRepository({ values: { INTERNSHIP: 3 } });
 * memory.failWith(new Error('connection refused')); // every call now returns err(RepositoryUnavailable)
 * memory.failWith(null); // answers again
 * memory.calls; // findMaxLevel + findAll calls so far
 * ```
 */
export interface InMemoryMaxLevelRepository extends MaxLevelRepository {
  findAll(): ResultAsync<readonly MaxLevelRecord[], RepositoryUnavailable>;
  /** Stores a raw value under an exact id (not validated: the resolver's job). */
  set(specializationId: string, maxLevel: number | null): void;
  /** Removes the row of an exact id. */
  delete(specializationId: string): void;
  /** While `cause` is not null, every call returns `err(RepositoryUnavailable)` with that cause; `null` ends it. */
  failWith(cause: unknown): void;
  /** How many `findMaxLevel` and `findAll` calls were made (failed ones included). */
  readonly calls: number;
  resetCalls(): void;
}

/**
 * Creates an {@link InMemoryMaxLevelRepository}. Ids are compared exactly, as the port requires,
 * and stored values are returned raw, never validated.
 *
 * ```ts
 * const memory = createInMemoryMaxLevelRepository({ name: 'config', values: { PLAYER: 8 } });
 * await memory.findMaxLevel('PLAYER'); // ok({ specializationId: 'PLAYER', maxLevel: 8 })
 * await memory.findMaxLevel('GANCUJU_PLAYER'); // ok(null): no alias mapping here
 * ```
 */
export function createInMemoryMaxLevelRepository(options: InMemoryMaxLevelRepositoryOptions = {}): InMemoryMaxLevelRepository {
  const name = options.name ?? 'memory';
  const delayMs = options.delayMs ?? 0;
  const values = new Map<string, number | null>(Object.entries(options.values ?? {}));
  let failure: { readonly cause: unknown } | null = null;
  let calls = 0;

  const answer = <T>(compute: () => T): ResultAsync<T, RepositoryUnavailable> => {
    calls += 1;
    // Decided when called, so a test that calls failWith() afterwards does not change an answer under way.
    const result: Result<T, RepositoryUnavailable> = failure === null ? ok(compute()) : err(repositoryUnavailable(name, failure.cause));
    const settled =
      delayMs > 0 ? new Promise<typeof result>((resolve) => setTimeout(() => resolve(result), delayMs)) : Promise.resolve(result);
    return new ResultAsync(settled);
  };

  return {
    name,
    findMaxLevel: (specializationId) =>
      answer(() => (values.has(specializationId) ? { specializationId, maxLevel: values.get(specializationId) ?? null } : null)),
    findAll: () => answer(() => [...values].map(([specializationId, maxLevel]) => ({ specializationId, maxLevel }))),
    set(specializationId, maxLevel) {
      values.set(specializationId, maxLevel);
    },
    delete(specializationId) {
      values.delete(specializationId);
    },
    failWith(cause) {
      failure = cause === null ? null : { cause };
    },
    get calls() {
      return calls;
    },
    resetCalls() {
      calls = 0;
    },
  };
}
