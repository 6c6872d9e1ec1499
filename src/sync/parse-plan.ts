import { err, ok, type Result } from 'neverthrow';
import { z } from 'zod';
import { LevelSchema } from '../domain/level.js';
import { UserIdSchema } from '../domain/records.js';
import { SpecializationIdSchema } from '../domain/specialization-id.js';
import { planFingerprintMismatch, unsupportedPlanVersion, validationError, type PlanParseError, type ValidationIssue } from '../errors.js';
import { toIssues } from '../_internal/zod.js';
import { ACTION_KINDS, FLAG_REASONS, type SyncAction } from './action.js';
import { DESYNC_KINDS } from './desync.js';
import { PLAN_FORMAT_VERSION, planFingerprint, type SyncPlan } from './plan.js';
import { SyncPolicySchema, type SyncPolicy } from './policy.js';
import { looksLikePlanLines, parsePlanLines } from './plan-lines.js';
import { SavedShardSchema } from './shard.js';
import { checkActionPolicy, checkPlanPolicy } from './plan-trust.js';

const observedLevel = z.number({ error: 'must be a number or null' }).finite().nullable();
/**
 * A specialization id as stored in a row: kept verbatim (never upper-cased), because writes keep
 * the id a row is stored under and compare-and-set compares it exactly. A pair stored under an id
 * that is not canonical is flagged for review, never repaired.
 */
const StoredIdSchema = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(200, { error: 'must be at most 200 characters' });
const ExpectedSchema = z.strictObject({
  progress: z.strictObject({ specializationId: StoredIdSchema, level: observedLevel }).nullable(),
  license: z.strictObject({ specializationId: StoredIdSchema, level: observedLevel, maxAchievedLevel: observedLevel }).nullable(),
});
const base = {
  userId: UserIdSchema,
  specializationId: StoredIdSchema,
  expected: ExpectedSchema,
};
const text = z.string({ error: 'must be a string' }).max(2_000, { error: 'must be at most 2000 characters' });

/** One action of a plan, every field validated. */
export const ActionSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      ...base,
      kind: z.literal('CreateLicense'),
      write: z.strictObject({ specializationId: StoredIdSchema, level: LevelSchema, maxAchievedLevel: LevelSchema }),
      reason: text,
      evidence: text,
    }),
    z.strictObject({
      ...base,
      kind: z.literal('SetLicenseLevel'),
      write: z.strictObject({ level: LevelSchema, maxAchievedLevel: LevelSchema }),
      reason: text,
      evidence: text,
    }),
    z.strictObject({
      ...base,
      kind: z.literal('CreateProgress'),
      write: z.strictObject({ specializationId: StoredIdSchema, level: LevelSchema }),
      reason: text,
    }),
    z.strictObject({ ...base, kind: z.literal('SetProgressLevel'), write: z.strictObject({ level: LevelSchema }), reason: text }),
    z.strictObject({
      ...base,
      kind: z.literal('FlagForReview'),
      write: z.null(),
      reasons: z.array(z.enum(FLAG_REASONS)).min(1),
      message: text,
    }),
  ],
  { error: `must be an action with kind ${ACTION_KINDS.join(', ')}` },
);

const count = z.number().int().min(0);
/** A plan's scope as saved. */
export const PlanScopeSchema = z.strictObject({
    specializationIds: z.array(SpecializationIdSchema).optional(),
    userIds: z.array(UserIdSchema).optional(),
    shard: SavedShardSchema.optional(),
});
/** One recorded maximum level. */
export const PlannedMaxLevelSchema = z.strictObject({
  maxLevel: LevelSchema,
  source: z.enum(['repository', 'cache', 'stale-cache', 'fallback']).optional(),
  repository: z.string().optional(),
});
export const FingerprintSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/, { error: 'must be sha256: followed by 64 hex digits' });
export const PlanSummarySchema = z.strictObject({
  actions: z.strictObject({ ...Object.fromEntries(ACTION_KINDS.map((k) => [k, count])), total: count }),
  // UnreadableRecord is newer than the format: plans written before it have no such count.
  desyncs: z.strictObject({ ...Object.fromEntries(DESYNC_KINDS.map((k) => [k, k === 'UnreadableRecord' ? count.optional() : count])), total: count }),
  pairs: count,
});
export const WarningsSchema = z.array(text);
/** The fields a plan states before its actions (a plan file's header line, without `type`). */
export const PlanHeaderFields = {
  formatVersion: z.literal(PLAN_FORMAT_VERSION),
  createdAt: z.iso.datetime({ error: 'must be an ISO 8601 date-time' }),
  policy: SyncPolicySchema,
  scope: PlanScopeSchema,
  aliases: z.record(SpecializationIdSchema, SpecializationIdSchema),
  maxLevels: z.record(SpecializationIdSchema, PlannedMaxLevelSchema),
};
const PlanSchema = z.strictObject({
  ...PlanHeaderFields,
  fingerprint: FingerprintSchema,
  summary: PlanSummarySchema,
  warnings: WarningsSchema,
  actions: z.array(ActionSchema),
});

/**
 * Reads a saved plan and checks it: a plan file's text (JSON Lines: a header line, one action
 * per line, a trailer line; see `encodePlanLines`), or one JSON document / already parsed value
 * of a `SyncPlan` (`JSON.stringify(plan)`). Checks the shape (every field validated, the first
 * bad one named, with its line in a plan file), the format version, consistency (levels within
 * the recorded maxima, action kinds matching their expected state, summary matching the
 * actions) and the fingerprint (an edited file is refused). Holds the whole plan in memory: read
 * large plan files with `readPlanLines`.
 *
 * Version 1 plans (one JSON document, from development builds before the streamed format) are
 * refused with `UnsupportedPlanVersion`: make a new plan.
 *
 * ```ts
 * const plan = parsePlan(await readFile('plan.jsonl', 'utf8'));
 * if (plan.isErr()) console.error(plan.error.message);
 * ```
 */
export function parsePlan(input: string | unknown): Result<SyncPlan, PlanParseError> {
  let value: unknown = input;
  if (typeof input === 'string') {
    if (looksLikePlanLines(input)) return parsePlanLines(input);
    try {
      value = JSON.parse(input);
    } catch (cause) {
      return err(validationError('plan', [{ field: '(root)', message: `is not valid JSON (${(cause as Error).message})` }]));
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return err(validationError('plan', [{ field: '(root)', message: 'must be a JSON object' }]));
  }
  const version = (value as { formatVersion?: unknown }).formatVersion;
  if (version !== PLAN_FORMAT_VERSION) {
    if (version === undefined) return err(validationError('plan', [{ field: 'formatVersion', message: 'is required' }]));
    return err(unsupportedPlanVersion(version, PLAN_FORMAT_VERSION));
  }
  const parsed = PlanSchema.safeParse(value);
  if (!parsed.success) return err(validationError('plan', toIssues(parsed.error)));
  const plan = parsed.data as unknown as SyncPlan;

  const issues = checkPlanConsistency(plan, { policy: false });
  if (issues.length > 0) return err(validationError('plan', issues));

  const actual = planFingerprint(plan);
  if (actual !== plan.fingerprint) return err(planFingerprintMismatch(plan.fingerprint, actual));
  // Last: what the plan's own policy allows (a re-fingerprinted edit cannot demote).
  const policyIssues = checkPlanPolicy(plan);
  if (policyIssues.length > 0) return err(validationError('plan', policyIssues));
  return ok(plan);
}

/**
 * The checks `parsePlan` makes beyond the shape, also made by `applyPlan` before any write (a plan
 * built or edited in code gets them too): every write within the recorded maximum, action kinds
 * matching their expected state, `maxAchievedLevel` written as the planner computes it (the
 * higher of the old value and the new level), every write being what the plan's own policy gives
 * its expected state (no demotion unless allowed, the direction followed, no creation under
 * `missing: flag`: see `checkPlanPolicy`), and the summary matching the actions.
 */
export function checkPlanConsistency(plan: SyncPlan, options: { readonly policy?: boolean } = {}): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const counts = new Map<string, number>();
  const context: PlanActionContext = { maxLevels: plan.maxLevels, aliases: plan.aliases, policy: plan.policy };
  plan.actions.forEach((action, index) => {
    counts.set(action.kind, (counts.get(action.kind) ?? 0) + 1);
    checkPlanAction(action, context, `actions[${index}].`, issues, options);
  });
  for (const kind of ACTION_KINDS) {
    if ((counts.get(kind) ?? 0) !== plan.summary.actions[kind]) {
      issues.push({ field: `summary.actions.${kind}`, message: `must equal the number of ${kind} actions (${counts.get(kind) ?? 0})` });
    }
  }
  if (plan.summary.actions.total !== plan.actions.length) {
    issues.push({ field: 'summary.actions.total', message: `must equal the number of actions (${plan.actions.length})` });
  }
  return issues;
}

/** What one action is checked against: the plan's own maxima, aliases and policy. */
export interface PlanActionContext {
  readonly maxLevels: Readonly<Record<string, { readonly maxLevel: number }>>;
  readonly aliases: Readonly<Record<string, string>>;
  readonly policy: SyncPolicy;
}

/**
 * The checks of one action against its plan, made for every action wherever a plan comes from
 * (a plan in memory, each line of a plan file, each action of a streamed plan before it is
 * applied): every write within the recorded maximum, the kind matching its expected state,
 * `maxAchievedLevel` as the planner computes it, every stored id belonging to the pair, and then
 * the write being what the plan's policy gives the expected state (`checkPlanPolicy`).
 * Issues are appended with `prefix` before the field (`actions[3].`, `line 17: `).
 */
export function checkPlanAction(
  action: SyncAction,
  context: PlanActionContext,
  prefix: string,
  issues: ValidationIssue[],
  options: { readonly policy?: boolean } = {},
): void {
  const before = issues.length;
  checkActionShape(action, context, prefix, issues);
  // Then what the plan's own policy allows (a re-fingerprinted edit cannot demote). Readers of
  // a saved plan make this check after the fingerprint's, so that an accidental edit is reported
  // as one (`policy: false` here, `checkActionPolicy` later).
  if (options.policy !== false && issues.length === before) issues.push(...checkActionPolicy(action, context, prefix));
}

function checkActionShape(action: SyncAction, context: PlanActionContext, prefix: string, issues: ValidationIssue[]): void {
  const at = (field: string, message: string) => issues.push({ field: `${prefix}${field}`, message });
  const max = context.maxLevels[action.specializationId]?.maxLevel;
  if (action.write !== null) {
    if (max === undefined) at('specializationId', 'has no maximum level recorded in maxLevels');
    else if (action.write.level > max) at('write.level', `must be at most the maximum level ${max}`);
  }
  checkExpected(action, at);
  // Every stored id of the action must belong to the pair: a write never reaches another pair's rows.
  const canonical = (id: string) => context.aliases[id] ?? id;
  const stored = [
    action.expected.progress?.specializationId,
    action.expected.license?.specializationId,
    action.kind === 'CreateLicense' || action.kind === 'CreateProgress' ? action.write.specializationId : undefined,
  ];
  if (stored.some((id) => id !== undefined && canonical(id) !== action.specializationId)) {
    at('specializationId', 'must be the canonical id of every specialization id the action expects or writes');
  }
}

function checkExpected(action: SyncAction, at: (field: string, message: string) => void): void {
  const { progress, license } = action.expected;
  if (progress === null && license === null) at('expected', 'must describe at least one existing record');
  switch (action.kind) {
    case 'CreateLicense':
      if (license !== null) at('expected.license', 'must be null for CreateLicense');
      if (progress === null) at('expected.progress', 'must describe the progress record the license is created from');
      if (action.write.maxAchievedLevel !== action.write.level) at('write.maxAchievedLevel', 'must equal write.level for a new license');
      break;
    case 'SetLicenseLevel': {
      if (license === null) {
        at('expected.license', 'must describe the license to change');
        break;
      }
      const old = license.maxAchievedLevel;
      const wanted = typeof old === 'number' && Number.isInteger(old) && old >= 1 ? Math.max(old, action.write.level) : action.write.level;
      if (action.write.maxAchievedLevel !== wanted) {
        at('write.maxAchievedLevel', `must be ${wanted}: the higher of the expected maxAchievedLevel and write.level (it never decreases)`);
      }
      break;
    }
    case 'CreateProgress':
      if (progress !== null) at('expected.progress', 'must be null for CreateProgress');
      if (license === null) at('expected.license', 'must describe the license the progress record is created from');
      break;
    case 'SetProgressLevel':
      if (progress === null) at('expected.progress', 'must describe the progress record to change');
      break;
    case 'FlagForReview':
      break;
  }
}
