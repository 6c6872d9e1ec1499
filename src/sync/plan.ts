// Planning: from desyncs to the actions the policy chooses, the plan value, its summary and its
// fingerprint. Slightly over 300 lines because the policy's per-kind decisions are one table read
// top to bottom; streaming plans are built in plan-stream.ts and plan-builder.ts.
import { err, ok, type Result } from 'neverthrow';
import type { UserId } from '../domain/records.js';
import type { ValidationError } from '../errors.js';
import { readNow } from '../_internal/clock.js';
import { createLineHasher } from '../_internal/stable-json.js';
import type { MaxLevelTable, ResolutionSource } from '../max-level/resolution.js';
import type { ActionKind, ExpectedState, FlagReason, SyncAction } from './action.js';
import type { Desync, DesyncKind } from './desync.js';
import { PlanAccumulator } from './plan-builder.js';
import type { LegacyIdSummary } from './legacy-ids.js';
import { comparePairKeys } from './pair-key.js';
import { specializationRowMissingMessage, type SpecializationRowCheck, type SpecializationRows } from './specialization-rows.js';
import { DEFAULT_CLAMP_LIMIT, resolvePolicy, type PolicyRules, type SyncPolicy, type SyncPolicyInput } from './policy.js';

/** The largest PostgreSQL `integer`: a level beyond it is never a level. */
const MAX_INT4 = 2_147_483_647;
import type { Shard } from './shard.js';

/** The plan file format this release writes and reads. */
export const PLAN_FORMAT_VERSION = 2;

/** What part of the data a plan covers. */
export interface PlanScope {
  readonly specializationIds?: readonly string[];
  readonly userIds?: readonly UserId[];
  readonly shard?: Shard;
}

/** A maximum level used by the plan and where it came from. */
export interface PlannedMaxLevel {
  readonly maxLevel: number;
  /** Absent when the plan was made from bare desyncs without their resolutions. */
  readonly source?: ResolutionSource;
  readonly repository?: string;
}

/** Counts of a plan's actions by kind, of the desyncs behind them by kind, and of pairs. */
export interface PlanSummary {
  readonly actions: Readonly<Record<ActionKind, number>> & { readonly total: number };
  readonly desyncs: Readonly<Record<DesyncKind, number>> & { readonly total: number };
  /** Pairs with at least one desync. */
  readonly pairs: number;
}

/**
 * A reviewable sync plan. Plain data: `JSON.stringify` saves it, {@link parsePlan} reads it back
 * and checks the fingerprint, {@link renderPlan} prints it for a person.
 */
export interface SyncPlan {
  readonly formatVersion: typeof PLAN_FORMAT_VERSION;
  /** ISO 8601 time the plan was made. */
  readonly createdAt: string;
  readonly policy: SyncPolicy;
  readonly scope: PlanScope;
  /** Maximum level per canonical specialization id the plan relied on. */
  readonly maxLevels: Readonly<Record<string, PlannedMaxLevel>>;
  /** Legacy alias → canonical id of the catalog the diff used (apply treats them as one id). */
  readonly aliases: Readonly<Record<string, string>>;
  /** `sha256:…` over every other field: a saved plan that was edited no longer parses. */
  readonly fingerprint: string;
  readonly summary: PlanSummary;
  readonly warnings: readonly string[];
  /** In key order (user id, specialization id); a pair's actions are adjacent. */
  readonly actions: readonly SyncAction[];
}

/** Options of {@link createPlan}. */
export interface CreatePlanOptions {
  readonly policy?: SyncPolicyInput;
  /** The wall clock the creation time is read from (default `() => new Date()`). (Replaces `now?: Date`.) */
  readonly now?: () => Date;
  readonly scope?: PlanScope;
  /** The resolutions used for the diff, recorded in the plan for review. */
  readonly maxLevels?: MaxLevelTable;
  /** Warnings from earlier steps (e.g. a maximum that came from the fallback). */
  readonly warnings?: readonly string[];
  /** Legacy alias → canonical id of the catalog used by the diff. */
  readonly aliases?: ReadonlyMap<string, string>;
}

/** The result of a scan, which carries what a plan records besides the desyncs. */
export interface PlanInput {
  readonly desyncs: readonly Desync[];
  readonly maxLevels?: MaxLevelTable;
  readonly aliases?: ReadonlyMap<string, string>;
  readonly scope?: PlanScope;
  readonly warnings?: readonly string[];
  /** Legacy-id use, one entry per stored id (a scan's `legacyIds`): becomes one warning each. */
  readonly legacyIds?: readonly LegacyIdSummary[];
  /**
   * The store's specialization rows (a scan's `specializationRows`): a creation under an id with
   * no row is flagged for review (`SpecializationRowMissing`) instead of planned. Absent: not checked.
   */
  readonly specializationRows?: SpecializationRows;
}

/**
 * Turns desyncs into a plan. Pure: the same desyncs, policy and time give the same plan.
 *
 * ```ts
 * const plan = createPlan(desyncs, { policy: { direction: 'higher-wins' } });
 * if (plan.isOk()) console.log(renderPlan(plan.value));
 * ```
 */
export function createPlan(input: readonly Desync[] | PlanInput, options: CreatePlanOptions = {}): Result<SyncPlan, ValidationError> {
  const scan: PlanInput = isDesyncList(input) ? { desyncs: input } : input;
  const desyncs = scan.desyncs;
  const scope = options.scope ?? scan.scope ?? {};
  const maxLevelTable = options.maxLevels ?? scan.maxLevels;
  const aliasMap = options.aliases ?? scan.aliases ?? new Map<string, string>();
  const policyResult = resolvePolicy(options.policy ?? {});
  if (policyResult.isErr()) return err(policyResult.error);
  const policy = policyResult.value;
  const createdAt = readNow(options.now, 'plan options');
  if (createdAt.isErr()) return err(createdAt.error);

  const ordered = isSorted(desyncs) ? desyncs : [...desyncs].sort(comparePairKeys);
  const actions: SyncAction[] = [];
  const accumulator = new PlanAccumulator(policy, scan.specializationRows);
  for (let start = 0; start < ordered.length; ) {
    let end = start + 1;
    while (end < ordered.length && comparePairKeys(ordered[start]!, ordered[end]!) === 0) end++;
    for (const action of accumulator.pair(ordered.slice(start, end))) actions.push(action);
    start = end;
  }
  const warnings = [...(scan.warnings ?? []), ...(options.warnings ?? []), ...accumulator.warnings(scan.legacyIds)];

  const maxLevels: Record<string, PlannedMaxLevel> = {};
  if (maxLevelTable) {
    for (const [id, resolution] of [...maxLevelTable.resolutions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      maxLevels[id] = plannedMaxLevel(resolution);
    }
  }
  for (const desync of ordered) {
    if (desync.maxLevel !== null && maxLevels[desync.specializationId] === undefined) {
      maxLevels[desync.specializationId] = { maxLevel: desync.maxLevel };
    }
  }

  const body = {
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: createdAt.value.toISOString(),
    policy,
    scope,
    maxLevels,
    aliases: Object.fromEntries([...aliasMap].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    summary: accumulator.summary(),
    warnings,
    actions,
  } as const;
  return ok({ ...body, fingerprint: planFingerprint(body) });
}

/**
 * The fingerprint of a plan's content (every field but `fingerprint`), computed line by line the
 * way a streamed plan file is: the header (without maxima), each action, then the maxima, the
 * summary and the warnings. A plan in memory and the same plan as a file have one fingerprint.
 */
export function planFingerprint(plan: Omit<SyncPlan, 'fingerprint'> | SyncPlan): string {
  const hasher = createLineHasher();
  hasher.line(fingerprintHeader(plan));
  // Any value is fingerprinted (a hand-edited plan may hold anything there); parsing refuses it later.
  const actions: unknown = plan.actions;
  if (Array.isArray(actions)) for (const action of actions) hasher.line(action);
  else hasher.line({ type: 'actions', actions });
  hasher.line(fingerprintTrailer(plan));
  return hasher.digest();
}

/** What the first fingerprinted line holds: the header without the maxima (they may arrive late). */
export function fingerprintHeader(header: Pick<SyncPlan, 'formatVersion' | 'createdAt' | 'policy' | 'scope' | 'aliases'>): unknown {
  return {
    type: 'header',
    formatVersion: header.formatVersion,
    createdAt: header.createdAt,
    policy: header.policy,
    scope: header.scope,
    aliases: header.aliases,
  };
}

/** What the last fingerprinted line holds: every maximum the plan relied on, the summary, the warnings. */
export function fingerprintTrailer(plan: Pick<SyncPlan, 'maxLevels' | 'summary' | 'warnings'>): unknown {
  return { type: 'trailer', maxLevels: plan.maxLevels, summary: plan.summary, warnings: plan.warnings };
}

/** A resolution as a plan records it. */
export function plannedMaxLevel(resolution: { readonly maxLevel: number; readonly source: ResolutionSource; readonly repository?: string | undefined }): PlannedMaxLevel {
  return {
    maxLevel: resolution.maxLevel,
    source: resolution.source,
    ...(resolution.repository !== undefined ? { repository: resolution.repository } : {}),
  };
}

/**
 * The actions for one pair's desyncs (all with the same key), under the given rules. Pure.
 * A pair gets either `FlagForReview` alone, or writes that bring both records to the same level.
 */
export function planPair(desyncs: readonly Desync[], rules: PolicyRules, rows?: SpecializationRowCheck): SyncAction[] {
  const first = desyncs[0];
  if (first === undefined) return [];
  const { userId, specializationId, progress, license } = first;
  const expected: ExpectedState = {
    progress: progress ? { specializationId: progress.specializationId, level: progress.level } : null,
    license: license
      ? { specializationId: license.specializationId, level: license.level, maxAchievedLevel: license.maxAchievedLevel }
      : null,
  };
  // Actions list these three first, spelled out: V8 builds `{ ...key, kind }` about 40 times slower.
  const kinds = new Set<DesyncKind>();
  for (const d of desyncs) if (d.kind !== 'LegacySpecializationId') kinds.add(d.kind);
  if (kinds.size === 0) return [];

  const flag = (reasons: readonly FlagReason[], message: string): SyncAction[] => [
    { userId, specializationId, expected, kind: 'FlagForReview', write: null, reasons: reasons.length > 1 ? [...new Set(reasons)] : [...reasons], message },
  ];

  // Problems a machine must not guess about.
  const blocking = desyncs.filter(
    (d) => d.kind === 'UnreadableRecord' || d.kind === 'UnknownSpecialization' || d.kind === 'DuplicateRecord' || d.kind === 'InvalidLevel',
  );
  if (blocking.length > 0) {
    return flag(
      blocking.map((d) => d.kind),
      blocking.map(describeBlocking).join('; '),
    );
  }

  const maxLevel = first.maxLevel as number; // known: no UnknownSpecialization
  let p = progress?.level ?? null;
  let l = license?.level ?? null;
  const reasons: string[] = [];
  for (const d of desyncs) {
    if (d.kind !== 'AboveMaxLevel') continue;
    if (rules.aboveMax === 'flag') {
      return flag(['AboveMaxLevel'], `${d.side} level ${d.level} is above the maximum ${maxLevel} (policy: flag)`);
    }
    const limit = rules.clampLimit ?? DEFAULT_CLAMP_LIMIT;
    if (d.level - maxLevel > limit || d.level > MAX_INT4) {
      // Not a level at all: clamping it would promote the other record from garbage.
      return flag(['InvalidLevel'], `Invalid ${d.side} level: ${d.level} is more than ${limit} above the maximum ${maxLevel}; not clamped (clampLimit)`);
    }
    if (d.side === 'progress') p = maxLevel;
    else l = maxLevel;
    reasons.push(`${d.side} level ${d.level} above maximum ${maxLevel} clamped`);
  }

  const actions: SyncAction[] = [];
  const evidence = progress
    ? `Progress level: ${String(progress.level)}, XP: ${progress.xp}, Sessions: ${progress.sessions}`
    : 'No progress record';
  const setProgress = (level: number, reason: string) => {
    if (level !== progress?.level) actions.push({ userId, specializationId, expected, kind: 'SetProgressLevel', write: { level }, reason });
  };
  const setLicense = (level: number, reason: string) => {
    const oldMax = license?.maxAchievedLevel ?? level;
    const maxAchievedLevel = Math.max(oldMax, level);
    if (level !== license?.level || maxAchievedLevel !== license.maxAchievedLevel) {
      actions.push({ userId, specializationId, expected, kind: 'SetLicenseLevel', write: { level, maxAchievedLevel }, reason, evidence });
    }
  };

  if (progress && !license) {
    if (rules.missing === 'flag') return flag(['MissingLicense'], 'License is missing (policy: flag)');
    if (rows?.refuses('license', progress.specializationId)) {
      return flag(['SpecializationRowMissing', 'MissingLicense'], specializationRowMissingMessage(rows.table, 'license', progress.specializationId));
    }
    const level = p as number;
    setProgress(level, reasons.join('; '));
    actions.push({
      userId, specializationId, expected,
      kind: 'CreateLicense',
      write: { specializationId: progress.specializationId, level, maxAchievedLevel: level },
      reason: `levelsync: license created from progress level ${level}`,
      evidence,
    });
    return actions;
  }
  if (license && !progress) {
    if (rules.missing === 'flag') return flag(['MissingProgress'], 'Progress record is missing (policy: flag)');
    if (rows?.refuses('progress', license.specializationId)) {
      return flag(['SpecializationRowMissing', 'MissingProgress'], specializationRowMissingMessage(rows.table, 'progress', license.specializationId));
    }
    const level = l as number;
    setLicense(level, reasons.join('; '));
    actions.push({
      userId, specializationId, expected,
      kind: 'CreateProgress',
      write: { specializationId: license.specializationId, level },
      reason: `levelsync: progress created from license level ${level} (no XP history)`,
    });
    return actions;
  }

  // Both records exist with valid levels (clamped where asked).
  const pl = p as number;
  const ll = l as number;
  const target = rules.direction === 'higher-wins' ? Math.max(pl, ll) : rules.direction === 'progress-to-license' ? pl : ll;
  const newProgress = rules.direction === 'progress-to-license' ? pl : target;
  const newLicense = rules.direction === 'license-to-progress' ? ll : target;
  if (!rules.allowDemotion) {
    if (newLicense < ll) {
      return flag(['LevelMismatch'], `Would lower the license from ${ll} to ${newLicense} (allowDemotion is off)`);
    }
    if (newProgress < pl) {
      return flag(['LevelMismatch'], `Would lower the progress level from ${pl} to ${newProgress} (allowDemotion is off)`);
    }
  }
  const why = (what: string) => [...reasons, what].filter((s) => s !== '').join('; ');
  setProgress(newProgress, why(newProgress !== pl ? `levelsync ${rules.direction}: progress ${pl} → ${newProgress}` : ''));
  let licenseWhy = newLicense !== ll ? `levelsync ${rules.direction}: license ${ll} → ${newLicense}` : '';
  if (kinds.has('MaxAchievedBelowLevel')) licenseWhy = [licenseWhy, `max achieved level raised to at least ${newLicense}`].filter(Boolean).join('; ');
  setLicense(newLicense, why(licenseWhy));
  return actions;
}

function describeBlocking(d: Desync): string {
  switch (d.kind) {
    case 'UnreadableRecord':
      return `Unreadable record: ${d.reason}`;
    case 'UnknownSpecialization':
      return `Unknown specialization ${d.specializationId}: no repository or fallback knows its maximum level`;
    case 'DuplicateRecord':
      return `${d.count} ${d.side} records for one pair: run the duplicate clean-up first`;
    case 'InvalidLevel':
      return `Invalid ${d.side} ${d.field}: ${String(d.value)}`;
    default:
      return d.kind;
  }
}

function isDesyncList(input: readonly Desync[] | PlanInput): input is readonly Desync[] {
  return Array.isArray(input);
}

function isSorted(desyncs: readonly Desync[]): boolean {
  for (let i = 1; i < desyncs.length; i++) if (comparePairKeys(desyncs[i - 1]!, desyncs[i]!) > 0) return false;
  return true;
}
