/**
 * The PostgreSQL store's option checks and the zod schemas of its queries: factory options are
 * checked once (a bad one throws a `TypeError`), queries on every call (a bad one is a
 * `ValidationError`).
 *
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { z } from 'zod';
import type { UserId } from '../../domain/records.js';
import { validationError, type ValidationError, type ValidationIssue } from '../../errors.js';
import type { PairQuery } from '../../sync/sync-store.js';
import { parseWith } from '../../_internal/zod.js';
import type { ColumnUserId } from '../mapping/compile.js';
import type { PairFilter } from '../pair-sql.js';
import { ShardSchema } from '../../sync/shard.js';

export const DEFAULT_PAGE_SIZE = 1_000;
export const DEFAULT_CHUNK_SIZE = 2_000;
export const MIN_FETCH_SIZE = 1_000;
export const DEFAULT_FETCH_SIZE = 10_000;

export { ShardSchema };

const PairQuerySchema = z.object({
  specializationIds: z.array(z.string({ error: 'must be a string' })).optional(),
  userIds: z.array(z.unknown()).optional(),
  shard: ShardSchema.optional(),
  aliases: z.instanceof(Map, { error: 'must be a Map of alias → canonical id' }).optional(),
  pageSize: z.number().int().min(1).max(1_000_000).optional(),
  after: z.object({ userId: z.unknown(), specializationId: z.string({ error: 'must be a string' }) }).optional(),
});

export const DifferingQuerySchema = PairQuerySchema.extend({
  maxLevels: z.instanceof(Map, { error: 'must be a Map of canonical id → maximum level' }),
});

export const PairKeySchema = z.object({ userId: z.unknown(), specializationId: z.string() });

/** A factory option that must be a positive integer: the fallback when absent, a `TypeError` when invalid. */
export function positiveInteger(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`levelsync/pg: ${field} must be a positive integer (got ${String(value)})`);
  return value;
}

/** Validates a pair query and turns it into the filter the statement builders take. */
export function pairFilterOf(
  query: PairQuery,
  subject: string,
  columnUserId: (value: unknown, field: string) => ColumnUserId,
  storeAliases: ReadonlyMap<string, string>,
): Result<PairFilter, ValidationError> {
  const valid = parseWith(PairQuerySchema, query, subject);
  if (valid.isErr()) return err(valid.error);
  let userIds: UserId[] | undefined;
  if (query.userIds) {
    const issues: ValidationIssue[] = [];
    const converted: UserId[] = [];
    query.userIds.forEach((id, i) => {
      const c = columnUserId(id, `userIds[${i}]`);
      if (c.ok) converted.push(c.value);
      else issues.push(c.issue);
    });
    if (issues.length > 0) return err(validationError(subject, issues));
    userIds = converted;
  }
  let after: PairFilter['after'];
  if (query.after) {
    const c = columnUserId(query.after.userId, 'after.userId');
    if (!c.ok) return err(validationError(subject, [c.issue]));
    after = { userId: c.value, specializationId: query.after.specializationId };
  }
  return ok({
    aliases: query.aliases ?? storeAliases,
    ...(query.specializationIds ? { specializationIds: query.specializationIds } : {}),
    ...(userIds ? { userIds } : {}),
    ...(query.shard ? { shard: query.shard } : {}),
    ...(after ? { after } : {}),
  });
}
