import { err, ok, ResultAsync, type Result } from 'neverthrow';
import { repositoryUnavailable, type RepositoryUnavailable } from '../errors.js';
import type { MaxLevelRecord, MaxLevelRepository } from '../max-level/max-level-repository.js';
import { quoteIdentifier as q, quoteTable } from './identifier.js';
import { LEVELSYNC_MAPPING, requireMapping, type PgMapping } from './pg-mapping.js';
import { levelValue, rowReader, textValue } from './row-values.js';
import { toPgConnection, type PgConnectionInput } from './sql-client.js';

/**
 * Options of {@link createPgMaxLevelRepository}.
 *
 * ```ts
 * createPgMaxLevelRepository(pool, { mapping: ORIGINAL_SYSTEM_MAPPING, name: 'legacy-db' });
 * ```
 */
export interface PgMaxLevelRepositoryOptions {
  /** Where the specializations table is (default {@link LEVELSYNC_MAPPING}). */
  readonly mapping?: PgMapping;
  /** The repository's name in resolutions and errors (default `postgres`, or `pglite`). */
  readonly name?: string;
}

/**
 * A `MaxLevelRepository` reading the maximum level column of the specializations table
 * (`mapping.specializations`). Values come back raw (0, NULL, -1, 3.5 included): validating them
 * is the resolver's job. Any failure — connection refused, a missing table, or a missing column
 * (the original system dropped `specializations.max_levels` in November 2025) — is
 * `err(RepositoryUnavailable)`, never a throw, so the resolver falls back; its message never
 * contains a connection string or password.
 *
 * ```ts
 * const resolver = createMaxLevelResolver({
 *   repositories: [createPgMaxLevelRepository(pool, { mapping: ORIGINAL_SYSTEM_MAPPING })],
 * });
 * ```
 */
export function createPgMaxLevelRepository(client: PgConnectionInput, options: PgMaxLevelRepositoryOptions = {}): MaxLevelRepository {
  const connection = toPgConnection(client);
  const mapping = requireMapping(options.mapping ?? LEVELSYNC_MAPPING);
  const name = options.name ?? connection.engine;
  const S = mapping.specializations;
  const table = quoteTable(mapping.schema, S.table);
  const select = `SELECT t.${q(S.id)}::text AS id, t.${q(S.maxLevel)} AS max_level FROM ${table} t`;
  const read = rowReader({ id: textValue, max_level: levelValue }, 'specialization row', {
    id: `${S.table}.${S.id}`,
    max_level: `${S.table}.${S.maxLevel}`,
  });

  const query = (text: string, values: readonly unknown[]): ResultAsync<MaxLevelRecord[], RepositoryUnavailable> =>
    ResultAsync.fromPromise(
      (async () => connection.run(text, values))(),
      (cause) => repositoryUnavailable(name, cause),
    ).andThen((result): Result<MaxLevelRecord[], RepositoryUnavailable> => {
      const records: MaxLevelRecord[] = [];
      for (const raw of result.rows) {
        const row = read(raw);
        if (row.isErr()) return err(repositoryUnavailable(name, row.error));
        records.push({ specializationId: row.value.id, maxLevel: row.value.max_level });
      }
      return ok(records);
    });

  return {
    name,
    findMaxLevel(specializationId) {
      return query(`${select} WHERE t.${q(S.id)} = $1 LIMIT 1`, [specializationId]).map((rows) => rows[0] ?? null);
    },
    findAll() {
      return query(`${select} ORDER BY 1`, []);
    },
  };
}
