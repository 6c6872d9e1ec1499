import { z } from 'zod';
import type { MappingNames } from './mapping/names.js';
import { rowReader } from './row-values.js';
import type { SqlRunner } from './sql-client.js';

/**
 * What levelsync learns about a mapped table from the catalog.
 *
 * ```ts
 * const facts = await store.tableFacts();
 * if (facts.isOk()) {
 *   const { licenses } = facts.value;
 *   console.log(licenses.exists, licenses.uniqueKey, licenses.columns.get('current_level')); // true true 'int4'
 * }
 * ```
 */
export interface TableFacts {
  readonly exists: boolean;
  /**
   * True when a valid, non-partial unique index covers only (user id, specialization id)
   * columns: then a table cannot hold two rows for one stored (user, specialization), and the
   * scan skips duplicate detection for it.
   */
  readonly uniqueKey: boolean;
  /** Column name → type name (`int4`, `numeric`, `varchar`…), in table order. */
  readonly columns: ReadonlyMap<string, string>;
}

/**
 * Facts about the progress and license tables of a mapping.
 *
 * ```ts
 * const facts = await store.tableFacts();
 * if (facts.isErr()) throw new Error(facts.error.message);
 * const { progress, licenses }: MappedTableFacts = facts.value;
 * ```
 */
export interface MappedTableFacts {
  readonly progress: TableFacts;
  readonly licenses: TableFacts;
}

const readFacts = rowReader(
  {
    side: z.enum(['progress', 'licenses']),
    present: z.boolean(),
    unique_key: z.boolean(),
    columns: z.array(z.tuple([z.string(), z.string()])).nullable(),
  },
  'catalog row',
  {},
);

/** One statement: existence, unique keys and column types of the progress and license tables. */
export async function introspectTables(run: SqlRunner, names: MappingNames): Promise<MappedTableFacts> {
  const { source } = names;
  const result = await run(
    `SELECT r.side, c.oid IS NOT NULL AS present,
       EXISTS (
         SELECT 1 FROM pg_index i
         WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
           AND NOT EXISTS (
             SELECT 1 FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) AS k(attnum)
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             WHERE a.attname <> ALL (r.keys))
       ) AS unique_key,
       (SELECT json_agg(json_build_array(a.attname, t.typname) ORDER BY a.attnum)
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
     FROM (VALUES ('progress', $1::text, $2::text[]), ('licenses', $3::text, $4::text[])) AS r(side, qname, keys)
     LEFT JOIN pg_class c ON c.oid = to_regclass(r.qname)`,
    [
      names.tables.progress,
      [source.progress.userId, source.progress.specializationId],
      names.tables.licenses,
      [source.licenses.userId, source.licenses.specializationId],
    ],
  );
  const facts: Partial<Record<'progress' | 'licenses', TableFacts>> = {};
  for (const row of result.rows) {
    const parsed = readFacts(row);
    if (parsed.isErr()) throw new Error(parsed.error.message);
    const { side, present, unique_key, columns } = parsed.value;
    facts[side] = { exists: present, uniqueKey: unique_key, columns: new Map(columns ?? []) };
  }
  const missing: TableFacts = { exists: false, uniqueKey: false, columns: new Map() };
  return { progress: facts.progress ?? missing, licenses: facts.licenses ?? missing };
}

/** The column names of one table, in order (empty when it does not exist). */
export async function tableColumns(run: SqlRunner, qualifiedName: string): Promise<readonly string[]> {
  const result = await run(
    `SELECT a.attname AS name FROM pg_attribute a
      WHERE a.attrelid = to_regclass($1::text) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [qualifiedName],
  );
  return result.rows.map((row) => {
    const parsed = readColumnName(row);
    if (parsed.isErr()) throw new Error(parsed.error.message);
    return parsed.value.name;
  });
}

const readColumnName = rowReader({ name: z.string() }, 'catalog row', {});

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);

/** True when a column is known to hold integers (so the SQL diff can skip a fractional check). */
export function isIntegerColumn(facts: TableFacts, column: string): boolean {
  const type = facts.columns.get(column);
  return type !== undefined && INTEGER_TYPES.has(type);
}
