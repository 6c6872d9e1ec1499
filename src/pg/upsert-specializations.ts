import { err, ok, ResultAsync } from 'neverthrow';
import { z } from 'zod';
import type { StoreUnavailable, ValidationError } from '../errors.js';
import { pgStoreUnavailable } from './transient-errors.js';
import { parseWith } from '../_internal/zod.js';
import { quoteIdentifier as q, quoteTable } from './identifier.js';
import { LEVELSYNC_MAPPING, requireMapping, type PgMapping } from './pg-mapping.js';
import { toPgConnection, type PgConnectionInput } from './sql-client.js';

/**
 * A specialization row to write: id, maximum level, and a display name where mapped.
 *
 * ```ts
 * const row: SpecializationRow = { id: 'INTERNSHIP', maxLevel: 3, name: 'Startup Spirit Intern' };
 * ```
 */
export interface SpecializationRow {
  readonly id: string;
  readonly maxLevel: number;
  readonly name?: string;
}

const RowsSchema = z.array(
  z.object({
    id: z.string().min(1, { error: 'must not be empty' }),
    maxLevel: z.number().int({ error: 'must be an integer' }).min(1, { error: 'must be at least 1' }),
    name: z.string().optional(),
  }),
);

/**
 * Inserts or updates specialization rows (id, maximum level, name) in one statement — for
 * example the catalog's specializations after `migrate()`, so that the max-level repository
 * and the foreign keys of levelsync's schema know them. Returns the number of rows written.
 *
 * ```ts
 * await upsertSpecializations(pool, DEFAULT_CATALOG.specializations.map((s) => ({ id: s.id, name: s.name, maxLevel: s.maxLevel })));
 * ```
 */
export function upsertSpecializations(
  client: PgConnectionInput,
  rows: readonly SpecializationRow[],
  options: { readonly mapping?: PgMapping } = {},
): ResultAsync<number, StoreUnavailable | ValidationError> {
  const valid = parseWith(RowsSchema, rows, 'specialization rows');
  if (valid.isErr()) return new ResultAsync(Promise.resolve(err(valid.error)));
  const mapping = requireMapping(options.mapping ?? LEVELSYNC_MAPPING);
  const S = mapping.specializations;
  const connection = toPgConnection(client);
  const columns = [q(S.id), q(S.maxLevel), ...(S.name ? [q(S.name)] : [])];
  const values = ['x.id', 'x.max_level', ...(S.name ? ['coalesce(x.name, x.id)'] : [])];
  const updates = [`${q(S.maxLevel)} = EXCLUDED.${q(S.maxLevel)}`, ...(S.name ? [`${q(S.name)} = EXCLUDED.${q(S.name)}`] : [])];
  const text = `INSERT INTO ${quoteTable(mapping.schema, S.table)} (${columns.join(', ')})
    SELECT ${values.join(', ')} FROM unnest($1::text[], $2::int4[], $3::text[]) AS x(id, max_level, name)
    ON CONFLICT (${q(S.id)}) DO UPDATE SET ${updates.join(', ')}`;
  return ResultAsync.fromPromise(
    (async () => connection.run(text, [rows.map((r) => r.id), rows.map((r) => r.maxLevel), rows.map((r) => r.name ?? null)]))(),
    (cause) => pgStoreUnavailable('postgres', cause, 'could not write specializations'),
  ).andThen((result) => ok(result.rowCount));
}
