import type { ResultAsync } from 'neverthrow';
import type { RepositoryUnavailable } from '../errors.js';

/** What a repository holds for one specialization. `maxLevel` is the raw stored value. */
export interface MaxLevelRecord {
  readonly specializationId: string;
  /** As stored: the resolver rejects anything that is not an integer ≥ 1 (0, null, -2, 3.5). */
  readonly maxLevel: number | null;
}

/**
 * A source of maximum levels (a database table, a config service…).
 *
 * Contract, checked by `describeMaxLevelRepositoryConformance` from `levelsync/testing`:
 * - `findMaxLevel(id)` MUST resolve to `ok(null)` when the repository has no row for `id`
 *   ("not found" is a value, never an error), and to the stored value otherwise, even when that
 *   value is invalid (validation is the resolver's job).
 * - Ids are compared exactly as given; callers pass canonical upper-case ids (and, for legacy
 *   data, the alias as a second lookup).
 * - A failure to answer MUST be `err(RepositoryUnavailable)`, never a thrown exception.
 * - `findAll()`, when implemented, MUST return every row `findMaxLevel` could return.
 */
export interface MaxLevelRepository {
  /** A short name used in resolutions and error messages, e.g. `postgres` or `memory`. */
  readonly name: string;
  findMaxLevel(specializationId: string): ResultAsync<MaxLevelRecord | null, RepositoryUnavailable>;
  findAll?(): ResultAsync<readonly MaxLevelRecord[], RepositoryUnavailable>;
}
