import { z } from 'zod';
import { LevelSchema } from './level.js';
import { SpecializationIdSchema } from './specialization-id.js';

/**
 * A user id: a safe integer (serial/bigint keys) or a non-empty string (uuid/text keys).
 * One store uses one kind; levelsync orders numbers numerically and strings by code point.
 *
 * An integer id beyond ±2^53 (a PostgreSQL `bigint` such as 9223372036854775807) cannot be a JS
 * number without rounding: levelsync carries it as its decimal string (`"9223372036854775807"`),
 * exactly, through scans, plans, plan files and writes. See {@link userIdForKind}.
 */
export const UserIdSchema = z.union(
  [
    z.number().int({ error: 'must be an integer or a string' }).min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
    z.string().min(1, { error: 'must not be empty' }).max(200, { error: 'must be at most 200 characters' }),
  ],
  { error: 'must be an integer or a non-empty string' },
);
export type UserId = z.output<typeof UserIdSchema>;

const total = z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(0, { error: 'must not be negative' });
const timestamp = z.coerce.date({ error: 'must be a date' });

/** A progress record: the level a learner earned with XP, sessions, projects and hours. */
export const ProgressRecordSchema = z.object({
  userId: UserIdSchema,
  specializationId: SpecializationIdSchema,
  level: LevelSchema,
  xp: total,
  sessions: total,
  projects: total,
  theoryHours: total,
  practiceHours: total,
  createdAt: timestamp.optional(),
  updatedAt: timestamp.optional(),
});
export type ProgressRecord = z.output<typeof ProgressRecordSchema>;

/** A license record: the level staff granted, the highest level ever held, and when. */
export const LicenseRecordSchema = z
  .object({
    userId: UserIdSchema,
    specializationId: SpecializationIdSchema,
    level: LevelSchema,
    maxAchievedLevel: LevelSchema,
    startedAt: timestamp,
    lastAdvancedAt: timestamp.nullable(),
  })
  .refine((license) => license.maxAchievedLevel >= license.level, {
    path: ['maxAchievedLevel'],
    message: 'must be at least level',
  });
export type LicenseRecord = z.output<typeof LicenseRecordSchema>;

/** The history row written whenever a license level changes (creation included, `fromLevel` null). */
export const LicenseProgressionSchema = z.object({
  userId: UserIdSchema,
  specializationId: SpecializationIdSchema,
  fromLevel: LevelSchema.nullable(),
  toLevel: LevelSchema,
  /** Who made the change; null for an automatic one. */
  advancedBy: UserIdSchema.nullable(),
  reason: z.string(),
  evidence: z.string().nullable(),
  advancedAt: timestamp,
});
export type LicenseProgression = z.output<typeof LicenseProgressionSchema>;

/** The kind of user ids a store holds: integers (serial/bigint keys) or text (text/uuid keys). */
export type UserIdKind = 'integer' | 'text';

/** A decimal integer as PostgreSQL prints it: no sign but `-`, no leading zeros. */
const CANONICAL_DECIMAL = /^(?:0|-?[1-9]\d*)$/;
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

/**
 * A user id converted exactly to the form a store of `kind` uses, or the reason it cannot be
 * (naming no field: the caller names it). The rule, the same in every store and every function
 * that takes a user id (`syncPair`, `readPair`, scans with `userIds`, plans):
 *
 * - integer stores: a safe integer is itself; a decimal string (`"30"`, `"9223372036854775807"`)
 *   is converted exactly, to a number within ±2^53 and otherwise kept as the decimal string
 *   (the form levelsync carries such ids in); a string that is not a canonical decimal integer
 *   (`"abc"`, `"030"`, `"1.0"`) or is beyond the 64-bit range, a number that is not a safe integer
 *   (already rounded), and a bigint outside the 64-bit range are refused;
 * - text stores: a string is itself; a number is refused (`30` and `"30"` are different users
 *   to a text column, and `"030"` is a third one).
 *
 * A refusal is a `ValidationError` at the call, never "not found".
 */
export function userIdForKind(value: unknown, kind: UserIdKind): { readonly ok: true; readonly value: UserId } | { readonly ok: false; readonly message: string } {
  if (kind === 'text') {
    if (typeof value === 'string') return value.length > 0 ? { ok: true, value } : { ok: false, message: 'must not be empty' };
    if (typeof value === 'number' || typeof value === 'bigint') {
      return { ok: false, message: `must be a string: user ids are text in this store (got the number ${String(value)}; pass "${String(value)}" if that is the text id)` };
    }
    return { ok: false, message: 'must be a string user id' };
  }
  if (typeof value === 'number') {
    return Number.isSafeInteger(value)
      ? { ok: true, value }
      : { ok: false, message: `must be an integer within ±2^53 (got ${String(value)}); pass larger ids as decimal strings` };
  }
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'string' && CANONICAL_DECIMAL.test(value)) big = BigInt(value);
  else if (typeof value === 'string') return { ok: false, message: `must be an integer or a decimal string such as "42" (got ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})` };
  else return { ok: false, message: 'must be an integer user id' };
  if (big < INT8_MIN || big > INT8_MAX) return { ok: false, message: `must be within the 64-bit integer range (got ${big.toString()})` };
  const n = Number(big);
  return { ok: true, value: Number.isSafeInteger(n) ? n : big.toString() };
}
