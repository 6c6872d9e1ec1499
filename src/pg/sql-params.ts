/**
 * Bind-parameter helpers (internal: not exported from `levelsync/pg`).
 *
 * @internal
 * @module
 */
import { userIdForKind, type UserId } from '../domain/records.js';
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
 * A user id in the form levelsync carries it for a column of this type, converted exactly
 * (`userIdForKind`: a decimal string for an integer column becomes its number, or stays the
 * decimal string beyond ±2^53), or why it cannot be stored there.
 */
export function toColumnUserId(value: unknown, type: PgUserIdType): { readonly ok: true; readonly value: UserId } | { readonly ok: false; readonly message: string } {
  const converted = userIdForKind(value, type === 'integer' || type === 'bigint' ? 'integer' : 'text');
  if (!converted.ok) return converted;
  const id = converted.value;
  if (type === 'integer' && !(typeof id === 'number' && id >= -2_147_483_648 && id <= 2_147_483_647)) {
    return { ok: false, message: `must be within the range of an integer column (got ${String(id)})` };
  }
  if (type === 'uuid' && !UUID.test(id as string)) return { ok: false, message: `must be a UUID (got ${JSON.stringify(String(id).slice(0, 40))})` };
  return converted;
}

/** True when a user id can be stored in a column of this type as it is (see {@link toColumnUserId}). */
export function fitsUserIdType(value: unknown, type: PgUserIdType): boolean {
  const converted = toColumnUserId(value, type);
  return converted.ok && converted.value === value;
}
