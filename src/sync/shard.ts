import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { UserId } from '../domain/records.js';

/** One of `count` disjoint parts of the user population; `index` is 0-based. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** The most shards a population may be split into. */
export const MAX_SHARD_COUNT = 1_000_000;

const shardShape = { index: z.number().int().min(0), count: z.number().int().min(1).max(MAX_SHARD_COUNT) };
const indexBelowCount = (s: Shard): boolean => s.index < s.count;
const belowCountIssue = { message: 'index must be below count', path: ['index'] };

/** A shard given to a scan or a store (unknown keys are ignored). */
export const ShardSchema = z.object(shardShape).refine(indexBelowCount, belowCountIssue);

/** A shard as a saved plan holds it (unknown keys are refused). */
export const SavedShardSchema = z.strictObject(shardShape).refine(indexBelowCount, belowCountIssue);

/**
 * The shard (0-based) a user belongs to among `count` shards: the first 32 bits of the MD5 of
 * the user id's decimal or text form, modulo `count`. PostgreSQL computes the same value with
 * `('x' || substr(md5(user_id::text), 1, 8))::bit(32)::bigint % count`, so every store and every
 * worker agrees on the split.
 */
export function shardOf(userId: UserId, count: number): number {
  const hex = createHash('md5').update(String(userId), 'utf8').digest('hex').slice(0, 8);
  return Number.parseInt(hex, 16) % count;
}

/** Parses `k/n` (1-based k, as users write it) into a 0-based shard. */
export function parseShard(text: string): Shard | undefined {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) return undefined;
  const parsed = ShardSchema.safeParse({ index: Number(match[1]) - 1, count: Number(match[2]) });
  return parsed.success ? parsed.data : undefined;
}

/** Formats a shard the way users write it: `2/8`. */
export function formatShard(shard: Shard): string {
  return `${shard.index + 1}/${shard.count}`;
}
