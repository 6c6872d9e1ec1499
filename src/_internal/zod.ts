import { err, ok, type Result } from 'neverthrow';
import type { z } from 'zod';
import { validationError, type ValidationError, type ValidationIssue } from '../errors.js';

/** Formats a zod path as `a.b[3].c`; the empty path is `(root)`. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Converts zod issues into levelsync validation issues that name the field. */
export function toIssues(error: z.ZodError, prefix = ''): ValidationIssue[] {
  return error.issues.map((issue) => ({ field: formatPath(issue.path, prefix), message: issue.message }));
}

/** `schema.safeParse` as a `Result` whose error names the offending field. */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  subject: string,
  prefix = '',
): Result<z.output<S>, ValidationError> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return ok(parsed.data);
  return err(validationError(subject, toIssues(parsed.error, prefix)));
}
