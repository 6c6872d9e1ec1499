import { z } from 'zod';
import { LevelSchema } from './level.js';
import { SpecializationIdSchema } from './specialization-id.js';

/**
 * A user id: a safe integer (serial/bigint keys) or a non-empty string (uuid/text keys).
 * One store uses one kind; levelsync orders numbers numerically and strings by code point.
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
