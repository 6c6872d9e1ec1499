import { z } from 'zod';

/**
 * A plain SQL identifier levelsync accepts in a mapping: a letter or underscore, then letters,
 * digits or underscores, at most 63 characters (PostgreSQL's limit). Anything else — quotes,
 * spaces, dots, semicolons — is refused rather than escaped.
 *
 * ```ts
 * IDENTIFIER_PATTERN.test('student_id'); // true
 * IDENTIFIER_PATTERN.test('x"; DROP TABLE users; --'); // false
 * ```
 */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * A plain identifier, or `schema.name` with two plain identifiers.
 *
 * ```ts
 * QUALIFIED_IDENTIFIER_PATTERN.test('public.user_licenses'); // true
 * ```
 */
export const QUALIFIED_IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

const IDENTIFIER_MESSAGE = 'must be a plain SQL identifier: a letter or underscore, then letters, digits or underscores (at most 63)';

/**
 * zod schema of a plain identifier (see {@link IDENTIFIER_PATTERN}).
 *
 * ```ts
 * IdentifierSchema.parse('student_id'); // ok; 'x"; DROP TABLE y' fails
 * ```
 */
export const IdentifierSchema = z.string({ error: 'must be a string' }).regex(IDENTIFIER_PATTERN, { error: IDENTIFIER_MESSAGE });

/**
 * zod schema of a table name: a plain identifier, optionally schema-qualified (`public.users`).
 *
 * ```ts
 * QualifiedIdentifierSchema.parse('public.user_licenses');
 * ```
 */
export const QualifiedIdentifierSchema = z
  .string({ error: 'must be a string' })
  .regex(QUALIFIED_IDENTIFIER_PATTERN, { error: `${IDENTIFIER_MESSAGE}, optionally schema-qualified (schema.name)` });

/**
 * Double-quotes a validated identifier. Throws a `TypeError` for anything that is not a plain
 * identifier: mappings are validated before they reach SQL, so this is a programmer error.
 *
 * ```ts
 * quoteIdentifier('current_level'); // '"current_level"'
 * ```
 */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER_PATTERN.test(name)) throw new TypeError(`levelsync/pg: not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/**
 * Quotes a table name in `schema`: `users` → `"schema"."users"`; an already qualified
 * `other.users` keeps its own schema → `"other"."users"`.
 *
 * ```ts
 * quoteTable('levelsync', 'licenses'); // '"levelsync"."licenses"'
 * ```
 */
export function quoteTable(schema: string, table: string): string {
  const dot = table.indexOf('.');
  if (dot >= 0) return `${quoteIdentifier(table.slice(0, dot))}.${quoteIdentifier(table.slice(dot + 1))}`;
  return `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
}

/**
 * The schema and bare name of a table as {@link quoteTable} resolves them.
 *
 * ```ts
 * splitTable('public', 'levelsync.licenses'); // { schema: 'levelsync', name: 'licenses' }
 * ```
 */
export function splitTable(schema: string, table: string): { readonly schema: string; readonly name: string } {
  const dot = table.indexOf('.');
  return dot >= 0 ? { schema: table.slice(0, dot), name: table.slice(dot + 1) } : { schema, name: table };
}
