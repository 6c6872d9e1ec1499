import { isLevel } from '../domain/level.js';
import type { ValidationIssue } from '../errors.js';
import type { ExpectedState, SyncAction } from './action.js';
import { formatPairKey } from './pair-key.js';
import type { SyncPlan } from './plan.js';
import { DEFAULT_CLAMP_LIMIT, policyFor, type PolicyRules, type SyncPolicy } from './policy.js';

/** The levels a pair's records end with under the rules, or why the pair gets no write at all. */
type Planned = { readonly progress: number; readonly license: number } | string;

const MAX_INT4 = 2_147_483_647;

/**
 * The levels the planner gives a pair in `expected` state under `rules` and maximum `max`: the
 * same decisions as `planPair`, recomputed from the plan's own policy and maxima.
 */
function plannedLevels(expected: ExpectedState, rules: PolicyRules, max: number): Planned {
  const clamp = (side: string, level: number | null): number | string => {
    if (!isLevel(level)) return `the ${side} level ${String(level)} is not a valid level`;
    if (level <= max) return level;
    if (rules.aboveMax !== 'clamp') return `the ${side} level ${level} is above the maximum ${max} and the policy flags it (aboveMax: flag)`;
    const limit = rules.clampLimit ?? DEFAULT_CLAMP_LIMIT;
    if (level - max > limit || level > MAX_INT4) return `the ${side} level ${level} is more than ${limit} above the maximum ${max}: not a valid level`;
    return max;
  };
  const { progress, license } = expected;
  if (license !== null && !isLevel(license.maxAchievedLevel)) return `the license's maxAchievedLevel ${String(license.maxAchievedLevel)} is not a valid level`;
  const p = progress === null ? null : clamp('progress', progress.level);
  const l = license === null ? null : clamp('license', license.level);
  if (typeof p === 'string') return p;
  if (typeof l === 'string') return l;
  if (p !== null && l === null) return rules.missing === 'flag' ? 'the policy flags a missing license (missing: flag)' : { progress: p, license: p };
  if (l !== null && p === null) return rules.missing === 'flag' ? 'the policy flags a missing progress record (missing: flag)' : { progress: l, license: l };
  if (p === null || l === null) return 'the action expects no record at all';
  const target = rules.direction === 'higher-wins' ? Math.max(p, l) : rules.direction === 'progress-to-license' ? p : l;
  const newProgress = rules.direction === 'progress-to-license' ? p : target;
  const newLicense = rules.direction === 'license-to-progress' ? l : target;
  if (!rules.allowDemotion && newLicense < l) return `it would lower the license from ${l} to ${newLicense} and the policy does not allow demotion`;
  if (!rules.allowDemotion && newProgress < p) return `it would lower the progress level from ${p} to ${newProgress} and the policy does not allow demotion`;
  return { progress: newProgress, license: newLicense };
}

function describePolicy(rules: PolicyRules): string {
  return `${rules.direction}${rules.allowDemotion ? ', demotion allowed' : ', never demote'}, missing: ${rules.missing}, aboveMax: ${rules.aboveMax}`;
}

/**
 * Re-checks every write action of a plan against the plan's OWN policy and maxima, so that an
 * edited plan (even one given a new, matching fingerprint) cannot do what its policy forbids: a
 * demotion under "never demote", a level above the recorded maximum, a write against the
 * direction (a license raised above its progress under `progress-to-license`), a record
 * created under `missing: flag`, a write that changes nothing, or an expected state the write
 * does not follow from. Each problem names the action (`actions[i]`, its pair and kind).
 */
export function checkPlanPolicy(plan: SyncPlan): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  plan.actions.forEach((action, index) => issues.push(...checkActionPolicy(action, plan, `actions[${index}].`)));
  return issues;
}

/** {@link checkPlanPolicy} for one action; `prefix` goes before the field (`actions[3].`, `line 17: `). */
export function checkActionPolicy(
  action: SyncAction,
  context: { readonly policy: SyncPolicy; readonly maxLevels: Readonly<Record<string, { readonly maxLevel: number }>> },
  prefix: string,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (action.write === null) return issues;
  const max = context.maxLevels[action.specializationId]?.maxLevel;
  if (max === undefined || !isLevel(max)) return issues; // reported by the consistency checks
  const rules = policyFor(context.policy, action.specializationId);
  const at = (field: string, message: string) =>
    issues.push({ field: `${prefix}${field}`, message: `${message} (${action.kind} of ${formatPairKey(action)}, policy ${describePolicy(rules)})` });
  const planned = plannedLevels(action.expected, rules, max);
  if (typeof planned === 'string') {
    at('kind', `is refused: the plan's policy writes nothing for this pair, because ${planned}`);
    return issues;
  }
  const wanted = wantedLevel(action, planned);
  if (action.write.level !== wanted) {
    at('write.level', `must be ${wanted} under the plan's own policy and expected state, not ${action.write.level}`);
    return issues;
  }
  if (writesNothing(action)) at('write', 'changes nothing: the expected state already holds the written values');
  return issues;
}

function wantedLevel(action: Exclude<SyncAction, { kind: 'FlagForReview' }>, planned: { progress: number; license: number }): number {
  return action.kind === 'CreateLicense' || action.kind === 'SetLicenseLevel' ? planned.license : planned.progress;
}

function writesNothing(action: SyncAction): boolean {
  const { progress, license } = action.expected;
  if (action.kind === 'SetProgressLevel') return progress !== null && progress.level === action.write.level;
  if (action.kind === 'SetLicenseLevel') {
    return license !== null && license.level === action.write.level && license.maxAchievedLevel === action.write.maxAchievedLevel;
  }
  return false;
}
