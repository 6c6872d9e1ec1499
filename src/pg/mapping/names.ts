/**
 * The names and types a mapping implies (internal: not exported from `levelsync/pg`): quoted
 * table and column identifiers, the SQL type of user id parameters, the lock namespace. Part of
 * the compiled mapping (`compile.ts`); what the statement builders read.
 *
 * @internal
 * @module
 */
import { quoteIdentifier, quoteTable } from '../identifier.js';
import { userIdSqlType } from '../sql-params.js';
import type { PgLicensesMapping, PgMapping, PgProgressionsMapping, PgProgressMapping, PgSpecializationsMapping, PgUserIdType } from './schema.js';

/** The column fields of a table section, each a double-quoted identifier (optional where the mapping's is). */
export type QuotedColumns<T> = { readonly [K in keyof T as K extends 'table' | 'creationFromLevel' ? never : K]: string };

/** What a mapping implies about names and types: what every statement builder reads. */
export interface MappingNames {
  /** The mapping it was compiled from (unquoted names, for messages and catalog lookups). */
  readonly source: PgMapping;
  readonly userIdType: PgUserIdType;
  /** The SQL type user id parameters are bound as (`int4`, `int8`, `text`, `uuid`). */
  readonly userSqlType: string;
  /** User ids are integers (read back as numbers, or decimal strings beyond 2^53). */
  readonly integerUsers: boolean;
  /** Schema-qualified, quoted table names. */
  readonly tables: { readonly specializations: string; readonly progress: string; readonly licenses: string; readonly progressions: string };
  /** Quoted column names per table. */
  readonly columns: {
    readonly specializations: QuotedColumns<PgSpecializationsMapping>;
    readonly progress: QuotedColumns<PgProgressMapping>;
    readonly licenses: QuotedColumns<PgLicensesMapping>;
    readonly progressions: QuotedColumns<PgProgressionsMapping>;
  };
  /**
   * What the advisory lock keys of a store are derived from: the schema and the two table
   * names, so that stores over different tables never block each other.
   */
  readonly lockNamespace: string;
}

function quoteColumns<T extends object>(section: T): QuotedColumns<T> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(section)) if (key !== 'table' && typeof value === 'string') out[key] = quoteIdentifier(value);
  return out as QuotedColumns<T>;
}

/** The names and types a (validated) mapping implies. */
export function mappingNames(mapping: PgMapping): MappingNames {
  const tables = {
    specializations: quoteTable(mapping.schema, mapping.specializations.table),
    progress: quoteTable(mapping.schema, mapping.progress.table),
    licenses: quoteTable(mapping.schema, mapping.licenses.table),
    progressions: quoteTable(mapping.schema, mapping.progressions.table),
  };
  return {
    source: mapping,
    userIdType: mapping.userIdType,
    userSqlType: userIdSqlType(mapping.userIdType),
    integerUsers: mapping.userIdType === 'integer' || mapping.userIdType === 'bigint',
    tables,
    columns: {
      specializations: quoteColumns(mapping.specializations),
      progress: quoteColumns(mapping.progress),
      licenses: quoteColumns(mapping.licenses),
      progressions: quoteColumns(mapping.progressions),
    },
    lockNamespace: [mapping.schema, tables.progress, tables.licenses].join('|'),
  };
}
