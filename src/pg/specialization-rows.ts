/**
 * The rows of the mapped specializations table and whether the progress and license tables hold
 * a foreign key to it, read in one statement: what `SyncStore.specializationRows` answers, so
 * that a plan flags a record the database would refuse to create instead of planning it.
 *
 * @internal
 * @module
 */
import { err, ok, ResultAsync } from 'neverthrow';
import { validationError, type StoreError } from '../errors.js';
import type { SpecializationRows } from '../sync/specialization-rows.js';
import { quoteIdentifier as q, quoteTable, splitTable } from './identifier.js';
import type { PgMapping } from './mapping/schema.js';
import type { PgConnection } from './sql-client.js';
import { pgStoreUnavailable } from './transient-errors.js';

/** Reads the specialization ids and the foreign keys that reference them (exact stored ids). */
export function readSpecializationRows(connection: PgConnection, mapping: PgMapping, name: string): ResultAsync<SpecializationRows, StoreError> {
  const S = mapping.specializations;
  const spec = quoteTable(mapping.schema, S.table);
  const where = splitTable(mapping.schema, S.table);
  // A foreign key on the mapped specialization column of `$1` that references the specializations
  // table `$3`. NOT VALID and deferred keys count: both refuse new rows.
  const fk = (table: string, column: string) =>
    `EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attname = ${column}
      WHERE c.contype = 'f' AND c.conrelid = to_regclass(${table}) AND c.confrelid = to_regclass($3) AND a.attnum = ANY (c.conkey))`;
  const text = `SELECT array(SELECT t.${q(S.id)}::text FROM ${spec} t ORDER BY 1) AS ids, ${fk('$1', '$4')} AS progress_fk, ${fk('$2', '$5')} AS license_fk`;
  const values = [
    quoteTable(mapping.schema, mapping.progress.table),
    quoteTable(mapping.schema, mapping.licenses.table),
    spec,
    mapping.progress.specializationId,
    mapping.licenses.specializationId,
  ];
  return ResultAsync.fromPromise(connection.run(text, values), (cause) => pgStoreUnavailable(name, cause, 'could not read the specializations table')).andThen(
    (result) => {
      const row = result.rows[0] as { ids?: unknown; progress_fk?: unknown; license_fk?: unknown } | undefined;
      const ids = row?.ids;
      if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string') || typeof row?.progress_fk !== 'boolean' || typeof row.license_fk !== 'boolean') {
        return err(validationError('specialization rows', [{ field: `${S.table}.${S.id}`, message: 'could not be read as a list of ids' }]));
      }
      return ok({ table: `${where.schema}.${where.name}`, ids, enforced: { progress: row.progress_fk, license: row.license_fk } });
    },
  );
}
