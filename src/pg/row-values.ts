/**
 * zod readers for values coming back from `pg` or PGlite (internal: not exported from `levelsync/pg`).
 *
 * @internal
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { z } from 'zod';
import { validationError, type ValidationError, type ValidationIssue } from '../errors.js';
import type { PgUserIdType } from './pg-mapping.js';

/*
 * zod schemas for values read from PostgreSQL. Drivers differ: `pg` returns int8 and numeric as
 * strings, PGlite returns int8 as a number or a bigint; both return int4 as a number. Every
 * reader below accepts each form and yields plain JS numbers, or an issue naming the column.
 */

const INTEGER_TEXT = /^-?\d+$/;
const NUMERIC_TEXT = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function toSafeInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
  if (typeof value === 'string' && INTEGER_TEXT.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return toSafeInteger(value);
  if (typeof value === 'string' && NUMERIC_TEXT.test(value)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/**
 * An integer user id as levelsync carries it: a number within ±2^53, else its exact decimal
 * string (`pg` gives int8 as text, PGlite as a bigint beyond ±2^53); undefined for anything else.
 */
export function toIntegerUserId(value: unknown): number | string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (typeof value === 'string' && INTEGER_TEXT.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
    const canonical = BigInt(value).toString();
    return canonical;
  }
  return undefined;
}

/**
 * A user id as stored: for integer columns a number within ±2^53 or the exact decimal string
 * beyond (int8 ids up to 9223372036854775807), a non-empty string (≤ 200) otherwise.
 */
export function userIdValue(type: PgUserIdType): z.ZodType<number | string> {
  if (type === 'integer' || type === 'bigint') {
    return z.unknown().transform((value, ctx) => {
      const n = toIntegerUserId(value);
      if (n === undefined) {
        ctx.addIssue({ code: 'custom', message: `must be an integer user id (got ${describe(value)})` });
        return z.NEVER;
      }
      return n;
    });
  }
  return z.unknown().transform((value, ctx) => {
    if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
      ctx.addIssue({ code: 'custom', message: `must be a non-empty text user id of at most 200 characters (got ${describe(value)})` });
      return z.NEVER;
    }
    return value;
  });
}

/** A nullable level or maximum: any finite number as stored (the diff judges it), or null. */
export const levelValue: z.ZodType<number | null> = z.unknown().transform((value, ctx) => {
  if (value === null || value === undefined) return null;
  const n = toNumber(value);
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be a number or NULL (got ${describe(value)})` });
    return z.NEVER;
  }
  return n;
});

/** A total (xp, sessions): a number, with NULL read as 0. */
export const totalValue: z.ZodType<number> = z.unknown().transform((value, ctx) => {
  if (value === null || value === undefined) return 0;
  const n = toNumber(value);
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be a number (got ${describe(value)})` });
    return z.NEVER;
  }
  return n;
});

/** A count(*) or other non-negative integer computed by the server. */
export const countValue: z.ZodType<number> = z.unknown().transform((value, ctx) => {
  const n = toSafeInteger(value);
  if (n === undefined || n < 0) {
    ctx.addIssue({ code: 'custom', message: `must be a non-negative integer (got ${describe(value)})` });
    return z.NEVER;
  }
  return n;
});

/** A non-null text value (specialization ids, row identities). */
export const textValue: z.ZodType<string> = z.string({ error: 'must be text' });

/** A nullable text value. */
export const nullableTextValue: z.ZodType<string | null> = z.string({ error: 'must be text or NULL' }).nullable();

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'NULL';
  return typeof value === 'object' ? 'an object' : String(value);
}

/**
 * A row reader: parses rows with a zod object schema whose keys are result column aliases, and
 * reports the first bad value as a `ValidationError` naming the mapped column
 * (`labels[alias]`, e.g. `user_licenses.current_level`).
 */
export function rowReader<S extends z.ZodRawShape>(
  shape: S,
  subject: string,
  labels: Readonly<Record<string, string>>,
): (row: unknown) => Result<z.output<z.ZodObject<S>>, ValidationError> {
  const schema = z.object(shape);
  return (row) => {
    const parsed = schema.safeParse(row);
    if (parsed.success) return ok(parsed.data);
    const issues: ValidationIssue[] = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      return { field: labels[key] ?? (key === '' ? '(root)' : key), message: issue.message };
    });
    return err(validationError(subject, issues));
  };
}
