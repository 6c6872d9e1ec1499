import type { SyncAction } from './action.js';
import { ACTION_KINDS } from './action.js';
import type { Result } from 'neverthrow';
import { comparePairKeys } from './pair-key.js';
import { formatTable } from '../_internal/format-table.js';
import type { SyncPlan } from './plan.js';
import type { PlanPage, PlanSourceError, PlanStream } from './plan-stream.js';
import { formatShard } from './shard.js';

/** Options of {@link renderPlan}. */
export interface RenderPlanOptions {
  /** At most this many action rows are printed (default 50; `Infinity` for all). */
  readonly limit?: number;
}

/** What an action changes, in a few words: `license 3 → 5`, `create progress at 4`. */
export function describeAction(action: SyncAction): string {
  switch (action.kind) {
    case 'CreateLicense':
      return `create license at ${action.write.level}`;
    case 'SetLicenseLevel': {
      const from = action.expected.license;
      const parts: string[] = [];
      if (from?.level !== action.write.level) parts.push(`license ${String(from?.level)} → ${action.write.level}`);
      if (from?.maxAchievedLevel !== action.write.maxAchievedLevel) {
        parts.push(`max achieved ${String(from?.maxAchievedLevel)} → ${action.write.maxAchievedLevel}`);
      }
      return parts.join(', ');
    }
    case 'CreateProgress':
      return `create progress at ${action.write.level}`;
    case 'SetProgressLevel':
      return `progress ${String(action.expected.progress?.level)} → ${action.write.level}`;
    case 'FlagForReview':
      return `review: ${action.message}`;
  }
}

/**
 * What a review shows of a plan too large to hold: everything but the actions, the first
 * actions, and the number of pairs with actions. Made by {@link previewPlanStream}.
 */
export interface PlanOverview extends Omit<SyncPlan, 'actions'> {
  /** The first actions of the plan, in plan order (`summary.actions.total` counts them all). */
  readonly firstActions: readonly SyncAction[];
  /** Pairs with at least one action. */
  readonly pairsWithActions: number;
}

/**
 * Passes a streamed plan through unchanged while keeping its first `limit` actions and counting
 * the pairs with actions; `overview()` is available once the stream has been read to its end.
 *
 * ```ts
 * const preview = previewPlanStream(plan, 20);
 * await applyPlan(preview.stream, store);
 * console.log(renderPlan(preview.overview()!));
 * ```
 */
export function previewPlanStream(plan: PlanStream, limit: number): { readonly stream: PlanStream; overview(): PlanOverview | undefined } {
  const first: SyncAction[] = [];
  let pairs = 0;
  let previous: SyncAction | undefined;
  let ended = false;
  async function* pages(): AsyncGenerator<Result<PlanPage, PlanSourceError>> {
    for await (const page of plan.pages) {
      if (page.isOk()) {
        for (const action of page.value.actions) {
          if (first.length < limit) first.push(action);
          if (previous === undefined || comparePairKeys(previous, action) !== 0) pairs++;
          previous = action;
        }
      }
      yield page;
      if (page.isErr()) return;
    }
    ended = true;
  }
  const stream: PlanStream = { header: plan.header, pages: pages(), trailer: () => plan.trailer() };
  return {
    stream,
    overview() {
      const trailer = plan.trailer();
      if (!ended || trailer === undefined) return undefined;
      const { header } = plan;
      return {
        formatVersion: header.formatVersion,
        createdAt: header.createdAt,
        policy: header.policy,
        scope: header.scope,
        aliases: header.aliases,
        maxLevels: trailer.maxLevels,
        summary: trailer.summary,
        warnings: trailer.warnings,
        fingerprint: trailer.fingerprint,
        firstActions: first,
        pairsWithActions: pairs,
      };
    },
  };
}

/** A plan in memory as an overview (its first `limit` actions). */
export function overviewOf(plan: SyncPlan, limit: number): PlanOverview {
  const { actions, ...rest } = plan;
  let pairs = 0;
  for (let i = 0; i < actions.length; i++) if (i === 0 || comparePairKeys(actions[i - 1]!, actions[i]!) !== 0) pairs++;
  return { ...rest, firstActions: actions.slice(0, limit), pairsWithActions: pairs };
}

/**
 * A plan as a person reviews it in a terminal: header (fingerprint, time, policy, scope,
 * maxima and where they came from), the first `limit` actions (one row each), the totals and
 * the warnings. Takes a plan in memory or the {@link PlanOverview} of a streamed one.
 * Plain text, no colours.
 */
export function renderPlan(input: SyncPlan | PlanOverview, options: RenderPlanOptions = {}): string {
  const limit = options.limit ?? 50;
  const plan: PlanOverview = 'firstActions' in input ? input : overviewOf(input, limit);
  const total = plan.summary.actions.total;
  const lines: string[] = [];
  const policy = plan.policy;
  lines.push(`levelsync plan ${plan.fingerprint.slice(0, 19)}…  made ${plan.createdAt}`);
  lines.push(
    `policy: ${policy.direction}, ${policy.allowDemotion ? 'demotion allowed' : 'never demote'}, ` +
      `missing records: ${policy.missing}, above maximum: ${policy.aboveMax}` +
      (Object.keys(policy.overrides).length > 0 ? `, overrides for ${Object.keys(policy.overrides).join(', ')}` : ''),
  );
  const scope: string[] = [];
  if (plan.scope.specializationIds) scope.push(`specializations ${plan.scope.specializationIds.join(', ')}`);
  if (plan.scope.userIds) scope.push(`${plan.scope.userIds.length} user(s)`);
  if (plan.scope.shard) scope.push(`shard ${formatShard(plan.scope.shard)}`);
  lines.push(`scope: ${scope.length > 0 ? scope.join('; ') : 'everything'}`);
  const maxima = Object.entries(plan.maxLevels).map(
    ([id, m]) => `${id} ${m.maxLevel}` + (m.source !== undefined ? ` (${m.source}${m.repository !== undefined ? ` ${m.repository}` : ''})` : ''),
  );
  if (maxima.length > 0) lines.push(`maximum levels: ${maxima.join(', ')}`);
  lines.push('');

  if (total === 0) {
    lines.push('Nothing to do: every pair in scope is in sync.');
  } else {
    const rows: string[][] = [['#', 'user', 'specialization', 'action', 'change']];
    const shown = plan.firstActions.slice(0, limit);
    shown.forEach((action, index) => {
      rows.push([String(index + 1), String(action.userId), action.specializationId, action.kind, describeAction(action)]);
    });
    lines.push(...formatTable(rows));
    if (total > shown.length) lines.push(`… and ${total - shown.length} more action(s)`);
  }
  lines.push('');
  const counts = ACTION_KINDS.filter((k) => plan.summary.actions[k] > 0).map((k) => `${k} ${plan.summary.actions[k]}`);
  lines.push(
    `summary: ${plan.summary.actions.total} action(s) for ${plan.pairsWithActions} pair(s)` +
      (counts.length > 0 ? `: ${counts.join(', ')}` : ''),
  );
  if (plan.warnings.length > 0) {
    lines.push('warnings:');
    for (const warning of plan.warnings) lines.push(`  - ${warning}`);
  }
  return lines.join('\n');
}
