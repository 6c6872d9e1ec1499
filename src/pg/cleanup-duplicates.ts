import { err, ok, ResultAsync, type Result } from 'neverthrow';
import { z } from 'zod';
import { validationError, type StoreUnavailable, type ValidationError } from '../errors.js';
import { pgStoreUnavailable } from './transient-errors.js';
import { parseWith } from '../_internal/zod.js';
import { IDENTIFIER_PATTERN, quoteIdentifier as q, quoteTable, splitTable } from './identifier.js';
import { LEVELSYNC_MAPPING, requireMapping, type PgMapping } from './pg-mapping.js';
import { countValue, rowReader } from './row-values.js';
import { toPgConnection, type PgConnectionInput, type SqlRunner } from './sql-client.js';
import { tableColumns } from './table-introspection.js';

/**
 * Options of {@link cleanupDuplicates}.
 *
 * ```ts
 * const options: CleanupDuplicatesOptions = { mapping: ORIGINAL_SYSTEM_MAPPING, dryRun: true };
 * ```
 */
export interface CleanupDuplicatesOptions {
  /** The tables to clean (default {@link LEVELSYNC_MAPPING}). */
  readonly mapping?: PgMapping;
  /** Count what would move, change nothing (default false). */
  readonly dryRun?: boolean;
  /** Archive table name suffix (default `_archive`: `user_licenses_archive`). */
  readonly archiveSuffix?: string;
}

/**
 * What {@link cleanupDuplicates} did (or, in a dry run, would do).
 *
 * ```ts
 * const report = await cleanupDuplicates(pool, { dryRun: true });
 * if (report.isErr()) throw new Error(report.error.message);
 * const { progress, licenses } = report.value;
 * console.log(`${progress.archived} progress and ${licenses.archived} license rows would move`);
 * ```
 */
export interface CleanupDuplicatesReport {
  readonly dryRun: boolean;
  readonly progress: { readonly table: string; readonly archiveTable: string; readonly archived: number };
  readonly licenses: {
    readonly table: string;
    readonly archiveTable: string;
    readonly archived: number;
    /** History rows moved from an archived license to the kept one (their foreign key). */
    readonly progressionsRepointed: number;
  };
}

const OptionsSchema = z.object({
  dryRun: z.boolean().optional(),
  archiveSuffix: z.string().regex(/^[A-Za-z0-9_]{1,30}$/, { error: 'must be 1–30 letters, digits or underscores' }).optional(),
});

const readCount = rowReader({ n: countValue }, 'count row', {});
const REASON = 'levelsync duplicate clean-up';

/**
 * Removes duplicate rows per (user, specialization) — possible where a table has no unique key
 * (the original schema in some eras) — without deleting anything outright: per stored (user,
 * specialization) it keeps the row with the highest level, then the latest update (then the
 * lowest id), and MOVES the others into an archive table (`<table>_archive`, created on demand
 * with the same columns plus `archived_at` and `archive_reason`). History rows of an archived
 * license are re-pointed to the kept license first, so no history is lost. Runs in one
 * transaction that locks both tables against writes; reports the counts per table.
 *
 * Afterwards you can add the unique keys the scan then relies on:
 * `ALTER TABLE user_licenses ADD CONSTRAINT uq_user_license_spec UNIQUE (user_id, specialization_type)`.
 *
 * ```ts
 * const report = await cleanupDuplicates(pool, { mapping: ORIGINAL_SYSTEM_MAPPING });
 * // ok({ progress: { archived: 3, … }, licenses: { archived: 1, progressionsRepointed: 2, … } })
 * ```
 */
export function cleanupDuplicates(
  client: PgConnectionInput,
  options: CleanupDuplicatesOptions = {},
): ResultAsync<CleanupDuplicatesReport, StoreUnavailable | ValidationError> {
  const valid = parseWith(OptionsSchema, { dryRun: options.dryRun, archiveSuffix: options.archiveSuffix }, 'clean-up options');
  if (valid.isErr()) return new ResultAsync(Promise.resolve(err(valid.error)));
  const mapping = requireMapping(options.mapping ?? LEVELSYNC_MAPPING);
  const suffix = options.archiveSuffix ?? '_archive';
  const archiveOf = (table: string) => {
    const { schema, name } = splitTable(mapping.schema, table);
    return { schema, name: `${name}${suffix}` };
  };
  for (const side of ['progress', 'licenses'] as const) {
    if (!IDENTIFIER_PATTERN.test(archiveOf(mapping[side].table).name)) {
      return new ResultAsync(
        Promise.resolve(err(validationError('clean-up options', [{ field: 'archiveSuffix', message: `makes the archive name of ${side} longer than 63 characters` }]))),
      );
    }
  }
  return new ResultAsync(run(client, mapping, options.dryRun ?? false, archiveOf));
}

async function run(
  client: PgConnectionInput,
  mapping: PgMapping,
  dryRun: boolean,
  archiveOf: (table: string) => { schema: string; name: string },
): Promise<Result<CleanupDuplicatesReport, StoreUnavailable>> {
  const connection = toPgConnection(client);
  const P = mapping.progress;
  const L = mapping.licenses;
  const H = mapping.progressions;
  const progressTable = quoteTable(mapping.schema, P.table);
  const licensesTable = quoteTable(mapping.schema, L.table);
  const archive = (table: string) => {
    const a = archiveOf(table);
    return `${q(a.schema)}.${q(a.name)}`;
  };

  const ranking = (side: 'progress' | 'licenses') => {
    const m = mapping[side];
    const latest = side === 'licenses' ? (L.updatedAt ?? L.lastAdvancedAt ?? L.createdAt) : (P.updatedAt ?? P.createdAt);
    const order = [`t.${q(m.level)} DESC NULLS LAST`, ...(latest ? [`t.${q(latest)} DESC NULLS LAST`] : []), m.id ? `t.${q(m.id)} ASC` : 't.ctid ASC'];
    const idCols = m.id ? `, t.${q(m.id)} AS id, first_value(t.${q(m.id)}) OVER w AS keep_id` : '';
    return `SELECT t.ctid AS rid, row_number() OVER w AS rn${idCols}
      FROM ${quoteTable(mapping.schema, m.table)} t
      WINDOW w AS (PARTITION BY t.${q(m.userId)}, t.${q(m.specializationId)} ORDER BY ${order.join(', ')})`;
  };

  const move = async (runner: SqlRunner, side: 'progress' | 'licenses'): Promise<number> => {
    const table = quoteTable(mapping.schema, mapping[side].table);
    if (dryRun) {
      const result = await runner(`SELECT count(*) AS n FROM (${ranking(side)}) r WHERE r.rn > 1`);
      return countOf(result.rows[0]);
    }
    const target = archive(mapping[side].table);
    await runner(`CREATE TABLE IF NOT EXISTS ${target} (LIKE ${table})`);
    await runner(`ALTER TABLE ${target}
      ADD COLUMN IF NOT EXISTS archived_at timestamptz NOT NULL DEFAULT now(),
      ADD COLUMN IF NOT EXISTS archive_reason text`);
    const archiveColumns = new Set(await tableColumns(runner, target));
    const columns = (await tableColumns(runner, table)).filter((c) => archiveColumns.has(c) && c !== 'archived_at' && c !== 'archive_reason');
    const list = columns.map((c) => `"${c.replace(/"/g, '""')}"`).join(', ');
    const result = await runner(
      `WITH r AS (${ranking(side)}),
       moved AS (DELETE FROM ${table} t USING r WHERE r.rn > 1 AND t.ctid = r.rid RETURNING t.*)
       INSERT INTO ${target} (${list}, archive_reason) SELECT ${list}, $1::text FROM moved`,
      [REASON],
    );
    return result.rowCount;
  };

  try {
    const report = await connection.transaction(async (runner) => {
      if (!dryRun) await runner(`LOCK TABLE ${progressTable}, ${licensesTable} IN SHARE ROW EXCLUSIVE MODE`);
      let repointed = 0;
      if (H.licenseId && L.id) {
        const history = quoteTable(mapping.schema, H.table);
        if (dryRun) {
          const result = await runner(
            `SELECT count(*) AS n FROM ${history} h JOIN (${ranking('licenses')}) r ON r.rn > 1 AND h.${q(H.licenseId)} = r.id`,
          );
          repointed = countOf(result.rows[0]);
        } else {
          const result = await runner(
            `UPDATE ${history} h SET ${q(H.licenseId)} = r.keep_id FROM (${ranking('licenses')}) r
              WHERE r.rn > 1 AND h.${q(H.licenseId)} = r.id`,
          );
          repointed = result.rowCount;
        }
      }
      const licensesArchived = await move(runner, 'licenses');
      const progressArchived = await move(runner, 'progress');
      const label = (table: string) => splitTable(mapping.schema, table);
      const name = (table: string) => `${label(table).schema}.${label(table).name}`;
      const archiveName = (table: string) => `${archiveOf(table).schema}.${archiveOf(table).name}`;
      return {
        dryRun,
        progress: { table: name(P.table), archiveTable: archiveName(P.table), archived: progressArchived },
        licenses: { table: name(L.table), archiveTable: archiveName(L.table), archived: licensesArchived, progressionsRepointed: repointed },
      } satisfies CleanupDuplicatesReport;
    });
    return ok(report);
  } catch (cause) {
    return err(pgStoreUnavailable('postgres', cause, 'could not clean up duplicates'));
  }
}

function countOf(row: unknown): number {
  const parsed = readCount(row);
  if (parsed.isErr()) throw new Error(parsed.error.message);
  return parsed.value.n;
}
