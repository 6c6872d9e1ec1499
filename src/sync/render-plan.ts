import type { SyncAction } from './action.js';
import { ACTION_KINDS } from './action.js';
import type { SyncPlan } from './plan.js';
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

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * A plan as a person reviews it in a terminal: header (fingerprint, time, policy, scope,
 * maxima and where they came from), one row per action, the summary and the warnings.
 * Plain text, no colours.
 */
export function renderPlan(plan: SyncPlan, options: RenderPlanOptions = {}): string {
  const limit = options.limit ?? 50;
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

  if (plan.actions.length === 0) {
    lines.push('Nothing to do: every pair in scope is in sync.');
  } else {
    const rows: string[][] = [['#', 'user', 'specialization', 'action', 'change']];
    plan.actions.slice(0, limit).forEach((action, index) => {
      rows.push([String(index + 1), String(action.userId), action.specializationId, action.kind, describeAction(action)]);
    });
    lines.push(...table(rows));
    if (plan.actions.length > limit) lines.push(`… and ${plan.actions.length - limit} more action(s)`);
  }
  lines.push('');
  const counts = ACTION_KINDS.filter((k) => plan.summary.actions[k] > 0).map((k) => `${k} ${plan.summary.actions[k]}`);
  const pairsWithActions = new Set(plan.actions.map((a) => `${typeof a.userId}:${String(a.userId)}/${a.specializationId}`)).size;
  lines.push(
    `summary: ${plan.summary.actions.total} action(s) for ${pairsWithActions} pair(s)` +
      (counts.length > 0 ? `: ${counts.join(', ')}` : ''),
  );
  if (plan.warnings.length > 0) {
    lines.push('warnings:');
    for (const warning of plan.warnings) lines.push(`  - ${warning}`);
  }
  return lines.join('\n');
}
