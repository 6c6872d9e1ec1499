import { err, ok, type Result } from 'neverthrow';
import { redactSecrets } from '../_internal/redact-secrets.js';
import { repositoryUnavailable, type RepositoryUnavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MaxLevelRecord, MaxLevelRepository } from './max-level-repository.js';

/** One repository's answer for one exact id. */
export type Answer = Result<MaxLevelRecord | null, RepositoryUnavailable>;

/** One repository's rows by exact id (a `findAll()`). */
export type RowsAnswer = Result<ReadonlyMap<string, MaxLevelRecord>, RepositoryUnavailable>;

/**
 * A repository behind the port's contract, whatever it does: a call that throws, returns
 * something other than a `Result`, or fails is a `RepositoryUnavailable` (logged at warn, its
 * message free of credentials), never an exception.
 */
export interface GuardedRepository {
  readonly name: string;
  findOne(id: string): Promise<Answer>;
  /** Present when the repository has `findAll()`; rows without a string id are dropped, the first row of an id wins. */
  readonly findAll?: () => Promise<RowsAnswer>;
}

/** How one repository is asked for one exact id during a lookup. */
export interface Reader {
  readonly name: string;
  read(id: string): Promise<Answer>;
}

/** Wraps a repository in a {@link GuardedRepository}. */
export function guardRepository(repository: MaxLevelRepository, logger: Logger): GuardedRepository {
  const call = async <T>(what: string, method: () => unknown): Promise<Result<T, RepositoryUnavailable>> => {
    let result: Result<T, RepositoryUnavailable>;
    try {
      const answer: unknown = await method();
      result = isResult(answer)
        ? (answer.mapErr((error) => asRepositoryUnavailable(repository.name, error)) as Result<T, RepositoryUnavailable>)
        : err(repositoryUnavailable(repository.name, new TypeError(`${what} did not return a Result`)));
    } catch (cause) {
      // The port forbids throwing; a repository that throws anyway is treated as unavailable.
      result = err(repositoryUnavailable(repository.name, cause));
    }
    if (result.isErr()) {
      logger.warn({ repository: repository.name, call: what, error: redactSecrets(result.error.message) }, 'max-level repository unavailable');
    }
    return result;
  };

  const findAll = async (): Promise<RowsAnswer> => {
    const rows = await call<unknown>('findAll()', () => repository.findAll!());
    return rows.andThen((value) => {
      if (!Array.isArray(value)) {
        return err(repositoryUnavailable(repository.name, new TypeError('findAll() did not return an array')));
      }
      const byId = new Map<string, MaxLevelRecord>();
      for (const row of value as unknown[]) {
        if (isRecord(row) && !byId.has(row.specializationId)) byId.set(row.specializationId, row);
      }
      return ok(byId);
    });
  };

  return {
    name: repository.name,
    findOne: (id) => call<MaxLevelRecord | null>(`findMaxLevel(${id})`, () => repository.findMaxLevel(id)),
    ...(typeof repository.findAll === 'function' ? { findAll } : {}),
  };
}

/** A reader that asks the repository one id at a time. */
export function singleReader(repository: GuardedRepository): Reader {
  return { name: repository.name, read: (id) => repository.findOne(id) };
}

/**
 * A reader for a bulk lookup: one `findAll()` (the prefetched one, or one made on first use)
 * answers every id; a repository without `findAll()` is asked one id at a time.
 */
export function bulkReader(repository: GuardedRepository, prefetched?: Promise<RowsAnswer>): Reader {
  const findAll = repository.findAll;
  if (findAll === undefined) return singleReader(repository);
  let rows = prefetched;
  return {
    name: repository.name,
    read: async (id) => {
      rows ??= findAll();
      return (await rows).map((byId) => byId.get(id) ?? null);
    },
  };
}

function isResult(value: unknown): value is Result<unknown, unknown> {
  const candidate = value as { isOk?: unknown; isErr?: unknown; mapErr?: unknown } | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.isOk === 'function' && typeof candidate.mapErr === 'function';
}

/** A repository's error as a `RepositoryUnavailable` whose message holds no credentials. */
function asRepositoryUnavailable(repository: string, error: unknown): RepositoryUnavailable {
  const tagged = typeof error === 'object' && error !== null && (error as { _tag?: unknown })._tag === 'RepositoryUnavailable';
  if (!tagged) return repositoryUnavailable(repository, error);
  const unavailable = error as RepositoryUnavailable;
  const message = redactSecrets(String(unavailable.message));
  return message === unavailable.message ? unavailable : Object.freeze({ ...unavailable, message });
}

function isRecord(row: unknown): row is MaxLevelRecord {
  return typeof row === 'object' && row !== null && typeof (row as { specializationId?: unknown }).specializationId === 'string';
}
