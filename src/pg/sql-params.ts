/**
 * Bind-parameter helpers (internal: not exported from `levelsync/pg`).
 *
 * @internal
 * @module
 */
import type { PgUserIdType } from './pg-mapping.js';

/**
 * Collects bind parameters while a statement is built: `add(value, 'text[]')` returns the
 * placeholder (`$3::text[]`). Every value levelsync sends is a parameter, never SQL text.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

/** The SQL type of a user id column type. */
export function userIdSqlType(type: PgUserIdType): string {
  switch (type) {
    case 'integer':
      return 'int4';
    case 'bigint':
      return 'int8';
    case 'text':
      return 'text';
    case 'uuid':
      return 'uuid';
  }
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * True when a user id can be stored in a column of this type: safe integers (within int4 for
 * `integer`) for integer columns, strings for text, UUID strings for uuid.
 */
export function fitsUserIdType(value: unknown, type: PgUserIdType): boolean {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647;
    case 'bigint':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'text':
      return typeof value === 'string';
    case 'uuid':
      return typeof value === 'string' && UUID.test(value);
  }
}
