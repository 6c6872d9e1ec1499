/**
 * A mapping compiled once into what it implies (internal: not exported from `levelsync/pg`):
 * its names and types ({@link MappingNames}), its row readers, the apply statement's text and
 * the conversion of user ids to the column's form. `createPgSyncStore` compiles its mapping at
 * construction and hands this form down to the statement builders, row readers and chunked
 * apply, so that nothing re-derives from the raw mapping per call.
 *
 * @internal
 * @module
 */
import type { Result } from 'neverthrow';
import { buildApplyStatement } from '../apply-statement.js';
import { joinedRowReader, sideRowReader, type JoinedRow, type SideRow } from '../pair-rows.js';
import type { UserId } from '../../domain/records.js';
import type { ValidationError, ValidationIssue } from '../../errors.js';
import { toColumnUserId } from '../sql-params.js';
import { mappingNames, type MappingNames } from './names.js';
import type { PgMapping, PgUserIdType } from './schema.js';

/** A user id converted to the column's form, or the issue naming `field`. */
export type ColumnUserId = { readonly ok: true; readonly value: UserId } | { readonly ok: false; readonly issue: ValidationIssue };

/** Converts user ids to the form of a mapping's user id column (exactly: a decimal string for an integer column). */
export function columnUserIds(userIdType: PgUserIdType): (value: unknown, field: string) => ColumnUserId {
  return (value, field) => {
    const converted = toColumnUserId(value, userIdType);
    return converted.ok ? converted : { ok: false, issue: { field, message: `${converted.message} (user ids are ${userIdType} in this mapping)` } };
  };
}

/** Everything a store needs from its mapping, derived once. */
export interface CompiledMapping extends MappingNames {
  /** Reads a row of a pair scan (one progress row × one license row). */
  readonly readJoined: (row: unknown) => Result<JoinedRow, ValidationError>;
  /** Reads a row of `readPair`. */
  readonly readSide: (row: unknown) => Result<SideRow, ValidationError>;
  /** The text of the apply statement (the same for any chunk). */
  readonly applyStatement: string;
  /** A user id in the column's form (exact conversion), or the issue naming the field. */
  readonly columnUserId: (value: unknown, field: string) => ColumnUserId;
}

/** Compiles a validated mapping. */
export function compileMapping(mapping: PgMapping): CompiledMapping {
  const names = mappingNames(mapping);
  return {
    ...names,
    readJoined: joinedRowReader(mapping),
    readSide: sideRowReader(mapping),
    applyStatement: buildApplyStatement(names),
    columnUserId: columnUserIds(mapping.userIdType),
  };
}
