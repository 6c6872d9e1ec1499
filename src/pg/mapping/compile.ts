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
import type { ValidationError } from '../../errors.js';
import { buildApplyStatement } from '../apply-statement.js';
import { joinedRowReader, sideRowReader, type JoinedRow, type SideRow } from '../pair-rows.js';
import { columnUserIds, type ColumnUserId } from '../store/store-options.js';
import { mappingNames, type MappingNames } from './names.js';
import type { PgMapping } from './schema.js';

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
