import type { Result } from 'neverthrow';
import { z } from 'zod';
import type { ValidationError } from '../errors.js';
import { parseWith } from '../_internal/zod.js';
import { SpecializationIdSchema } from '../domain/specialization-id.js';

/**
 * Which side wins a level mismatch:
 * - `higher-wins` (default): the lower record is raised to the higher one; nothing is demoted;
 * - `progress-to-license`: the license follows the progress record;
 * - `license-to-progress`: the progress record follows the license.
 */
export const SYNC_DIRECTIONS = ['higher-wins', 'progress-to-license', 'license-to-progress'] as const;
export type SyncDirection = (typeof SYNC_DIRECTIONS)[number];

const rules = {
  direction: z.enum(SYNC_DIRECTIONS, { error: `must be one of ${SYNC_DIRECTIONS.join(', ')}` }),
  /** When false (default) a change that would lower a level becomes `FlagForReview`. */
  allowDemotion: z.boolean({ error: 'must be true or false' }),
  /** A missing record is created from its counterpart (`create`, default) or flagged (`flag`). */
  missing: z.enum(['create', 'flag'], { error: 'must be "create" or "flag"' }),
  /** A level above the maximum is flagged (`flag`, default) or lowered to the maximum (`clamp`). */
  aboveMax: z.enum(['flag', 'clamp'], { error: 'must be "flag" or "clamp"' }),
  /**
   * How far above the maximum a level may be and still be clamped (default
   * {@link DEFAULT_CLAMP_LIMIT}); a level further above is not a level (a corrupt 2147483647, a
   * typo of 99): it is `InvalidLevel`, flagged for review, never a promotion of the other side.
   */
  clampLimit: z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(0, { error: 'must be at least 0' }).max(1_000_000).optional(),
};

/**
 * The default of `clampLimit`: 10 levels above the maximum. A genuine level above the maximum
 * comes from a maximum that was lowered or mistyped (the original system's 5 where the database
 * said 3, or 8 on a 3-level internship): a few levels of excess. Anything further is a corrupt
 * value, and clamping it would turn garbage into a promotion of the other record.
 */
export const DEFAULT_CLAMP_LIMIT = 10;

const PolicyRulesSchema = z.strictObject(rules);
const PartialRulesSchema = z.strictObject({
  direction: rules.direction.optional(),
  allowDemotion: rules.allowDemotion.optional(),
  missing: rules.missing.optional(),
  aboveMax: rules.aboveMax.optional(),
  clampLimit: rules.clampLimit,
});

/** The rules the planner applies to one specialization. */
export type PolicyRules = z.output<typeof PolicyRulesSchema>;

/** A complete policy: default rules plus per-specialization overrides. */
export interface SyncPolicy extends PolicyRules {
  readonly overrides: Readonly<Record<string, Partial<PolicyRules>>>;
}

/** Policy as users write it: every field optional. */
export interface SyncPolicyInput extends Partial<PolicyRules> {
  readonly overrides?: Readonly<Record<string, Partial<PolicyRules>>>;
}

/** The default policy: higher wins, never demote, create missing records, flag levels above max. */
export const DEFAULT_POLICY: SyncPolicy = Object.freeze({
  direction: 'higher-wins',
  allowDemotion: false,
  missing: 'create',
  aboveMax: 'flag',
  overrides: Object.freeze({}),
});

/** Zod schema of a complete policy (as stored in a plan). */
export const SyncPolicySchema = PolicyRulesSchema.extend({
  overrides: z.record(SpecializationIdSchema, PartialRulesSchema),
});

const SyncPolicyInputSchema = PartialRulesSchema.extend({
  overrides: z.record(SpecializationIdSchema, PartialRulesSchema).optional(),
});

/** Validates policy input and fills in the defaults. Override keys are upper-cased. */
export function resolvePolicy(input: SyncPolicyInput = {}): Result<SyncPolicy, ValidationError> {
  return parseWith(SyncPolicyInputSchema, input, 'sync policy').map((parsed) => {
    const { overrides, ...given } = parsed;
    const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
    return Object.freeze({ ...DEFAULT_POLICY, ...defined, overrides: Object.freeze({ ...(overrides ?? {}) }) }) as SyncPolicy;
  });
}

/** The rules that apply to one canonical specialization id. */
export function policyFor(policy: SyncPolicy, specializationId: string): PolicyRules {
  const override = policy.overrides[specializationId] ?? {};
  return {
    direction: override.direction ?? policy.direction,
    allowDemotion: override.allowDemotion ?? policy.allowDemotion,
    missing: override.missing ?? policy.missing,
    aboveMax: override.aboveMax ?? policy.aboveMax,
    clampLimit: override.clampLimit ?? policy.clampLimit ?? DEFAULT_CLAMP_LIMIT,
  };
}
