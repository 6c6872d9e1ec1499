import { err, ok, type Result } from 'neverthrow';
import { applyPlan, describeAction, type ApplyReport, type PlanStream, type RunLock, type SyncAction, type SyncPlan } from '../index.js';
import type { ActionOutcome } from '../sync/events.js';
import { isMissingTables, storeFailure, type CliBackend, type CommandContext } from './cli-backend.js';
import { EXIT, interruptedExitCode, workFailure, type CliFailure, type ExitCode } from './cli-failure.js';
import type { CliOutput } from './cli-io.js';
import { errorToJson, formatCount, formatDuration } from './format.js';
import { formatTable } from '../_internal/format-table.js';
import { createProgress } from './progress-bar.js';

/** Applies a plan (or walks it, for a dry run) with a progress bar on a terminal. */
export async function applyStep(
  plan: SyncPlan | PlanStream,
  backend: CliBackend,
  ctx: CommandContext,
  options: {
    readonly batchSize?: number;
    readonly waitForLock?: boolean;
    readonly dryRun?: boolean;
    readonly outcomeLimit?: number;
    /** The run lock the command took before scanning (applyPlan then takes none). */
    readonly runLock?: RunLock;
    /** The fingerprint a reviewer approved (`--expect-fingerprint`). */
    readonly expectFingerprint?: string;
  },
): Promise<Result<ApplyReport, CliFailure>> {
  const summary = 'pages' in plan ? plan.trailer()?.summary : plan.summary;
  const writes = summary === undefined ? undefined : summary.actions.total - summary.actions.FlagForReview;
  if (!options.dryRun && writes !== 0) {
    // Missing tables are a configuration problem (exit 2), found before any batch: one count
    // over no user at all touches both tables and reads nothing.
    const probe = await backend.store.countPairs({ userIds: [] });
    if (probe.isErr()) return err(storeFailure(probe.error, backend));
  }
  // A plan streamed from a running scan has no known size: the scan's running count shows instead.
  const progress = options.dryRun || writes === 0 || writes === undefined ? undefined : createProgress(ctx.out, 'Applying', 'actions', writes);
  ctx.onApplying?.(true);
  try {
    const report = await applyPlan(plan, backend.store, {
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      lock: options.waitForLock ? 'wait' : 'try',
      ...(options.runLock ? { runLock: options.runLock } : {}),
      // The command's server sessions already carry `lock_timeout` (--lock-timeout, default 5 s:
      // open-database): no SET LOCAL of applyPlan's own, so a batch stays one statement.
      lockTimeoutMs: 0,
      ...(options.expectFingerprint !== undefined ? { expectFingerprint: options.expectFingerprint } : {}),
      dryRun: options.dryRun ?? false,
      signal: ctx.signal,
      // The CLI keeps only the outcomes it reports (stale, failed, flagged, not attempted).
      outcomes: 'notable',
      ...(options.outcomeLimit !== undefined ? { outcomeLimit: options.outcomeLimit } : {}),
      onEvent: (event) => {
        if (event.type === 'batch-finished') progress?.update(event.done);
      },
    });
    if (report.isErr()) return err(storeFailure(report.error, backend));
    // Tables dropped while the run went on: still a configuration problem, not "work remains".
    const missing = report.value.batches.find((b) => b.status === 'Failed' && isMissingTables(b.error));
    if (missing?.error) return err(storeFailure(missing.error, backend));
    return ok(report.value);
  } finally {
    ctx.onApplying?.(false);
    progress?.stop();
  }
}

/**
 * Exit code of an apply: 130/143 when a signal stopped it, 1 when anything went stale, failed,
 * or was not attempted (or the run lock was lost), else 0 (flagged actions do not count).
 */
export function applyExitCode(report: ApplyReport, signal?: AbortSignal): ExitCode {
  const c = report.counts;
  if (report.status === 'Aborted') return signal ? interruptedExitCode(signal) : EXIT.sigint;
  if (c.Stale > 0 || c.Failed > 0 || c.Skipped > 0 || report.status === 'Stopped' || report.status === 'LockLost') return EXIT.attention;
  return EXIT.ok;
}

/**
 * The failure of a run that lost its run lock (status `LockLost`): exit 1, naming the lock.
 * The run stopped before its next batch; what was applied stays committed.
 */
export function lockLostFailure(runLock: RunLock | undefined): CliFailure {
  const scope = runLock ? ` (${runLock.scope})` : '';
  return workFailure(
    `the run lock${scope} was lost: its database session ended (a restart, pg_terminate_backend); the run stopped before its next batch, applied batches stay committed. Run again.`,
  );
}

/** The action of an outcome: carried by notable outcomes, else looked up in the plan. */
function actionOf(plan: SyncPlan | undefined, o: ActionOutcome): SyncAction | undefined {
  return o.action ?? plan?.actions[o.index];
}

/**
 * An apply report for `--json`: counts, batches and the actions that need a look (the notable
 * outcomes the run kept: at most 1 000 unless `--full`; `actionsOmitted` counts the rest).
 */
export function applyReportJson(plan: SyncPlan | undefined, report: ApplyReport) {
  const notable = report.outcomes
    .filter((o) => o.status === 'Stale' || o.status === 'Failed' || o.status === 'Flagged' || o.status === 'Skipped')
    .flatMap((o) => {
      const action = actionOf(plan, o);
      if (action === undefined) return [];
      return {
        index: o.index,
        status: o.status,
        kind: o.kind,
        userId: action.userId,
        specializationId: action.specializationId,
        ...(action.kind === 'FlagForReview' ? { reasons: action.reasons, message: action.message } : { change: describeAction(action) }),
        ...(o.refusal ? { refusal: o.refusal } : {}),
      };
    });
  return {
    runId: report.runId,
    dryRun: report.dryRun,
    status: report.status,
    interrupted: report.status === 'Aborted',
    planFingerprint: report.planFingerprint,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationMs: report.durationMs,
    counts: report.counts,
    batches: report.batches.map((b) => ({ ...b, ...(b.error ? { error: errorToJson(b.error) } : {}) })),
    actions: notable,
    actionsOmitted: report.outcomesOmitted,
    ...(report.error !== undefined ? { error: errorToJson(report.error) } : {}),
  };
}

/** Prints what an apply did: one line of counts, then the stale, failed and flagged actions. */
export function printApplyReport(out: CliOutput, plan: SyncPlan | undefined, report: ApplyReport, limit: number, indent = ''): void {
  const c = out.color;
  const n = report.counts;
  const batches = report.batches.length;
  if (report.dryRun) {
    out.out(
      `${indent}${c.bold('DRY RUN')}: nothing was written. ${formatCount(n.Planned)} write action(s) would run in ${batches} batch(es); ${formatCount(n.Flagged)} flagged for review.`,
    );
    return;
  }
  const parts = [
    `${c.green(`applied ${formatCount(n.Applied)}`)}`,
    ...(n.AlreadyApplied > 0 ? [`already applied ${formatCount(n.AlreadyApplied)}`] : []),
    n.Stale > 0 ? c.yellow(`stale ${formatCount(n.Stale)}`) : `stale 0`,
    n.Failed > 0 ? c.red(`failed ${formatCount(n.Failed)}`) : `failed 0`,
    `flagged for review ${formatCount(n.Flagged)}`,
    ...(n.Skipped > 0 ? [c.yellow(`not attempted ${formatCount(n.Skipped)}`)] : []),
  ];
  out.out(`${indent}${parts.join(' · ')}  (${batches} batch(es), ${formatDuration(report.durationMs)}, status ${report.status})`);
  for (const batch of report.batches) {
    if (batch.status === 'Failed') out.out(`${indent}${c.red('batch')} ${batch.index + 1} rolled back (${batch.size} actions): ${batch.error?.message ?? 'unknown error'}`);
    if (batch.refused) out.out(`${indent}${c.red('batch')} ${batch.index + 1}: ${batch.refused} action(s) refused by the database, isolated; the other ${batch.size - batch.refused} went through`);
  }
  const show = (status: string, title: string) => {
    const rows = report.outcomes.filter((o) => o.status === status);
    const count = report.counts[status as keyof ApplyReport['counts']];
    if (count === 0) return;
    out.out(`${indent}${title}:`);
    const table = rows.slice(0, limit).flatMap((o) => {
      const a = actionOf(plan, o);
      if (a === undefined) return [];
      const refused = o.refusal ? ` (refused: ${[o.refusal.sqlState, o.refusal.constraint].filter(Boolean).join(' ')})` : '';
      return [[String(a.userId), a.specializationId, a.kind === 'FlagForReview' ? a.message : `${a.kind}: ${describeAction(a)}${refused}`]];
    });
    for (const line of formatTable(table, { indent: `${indent}  ` })) out.out(line);
    if (count > table.length) out.out(`${indent}  … and ${formatCount(count - table.length)} more (--limit <n> shows more)`);
  };
  show('Stale', 'Stale (the records changed after the plan was made; nothing written; make a new plan)');
  show('Failed', 'Failed (refused by the database, or their batch was rolled back)');
  show('Skipped', 'Not attempted (the run stopped first)');
  show('Flagged', 'Left for review (never written by levelsync)');
  if (n.AlreadyApplied > 0 && n.Applied === 0 && n.Stale === 0 && n.Failed === 0) out.out(`${indent}This plan was already applied: nothing to write.`);
  if (report.status === 'Aborted') out.out(`${indent}${c.yellow('Stopped by a signal')} between batches; applied batches stay committed.`);
  if (report.status === 'LockLost') {
    out.out(`${indent}${c.red('The run lock was lost')} (its database session ended): stopped before the next batch; applied batches stay committed. Run again.`);
  }
  if (report.error !== undefined) out.out(`${indent}${c.red('Stopped:')} ${report.error.message}; applied batches stay committed.`);
}
