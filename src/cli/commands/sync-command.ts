import { err, ok, type Result } from 'neverthrow';
import { renderPlan } from '../../index.js';
import { validationError } from '../../errors.js';
import { applyExitCode, applyReportJson, applyStep, lockLostFailure, printApplyReport } from '../apply-step.js';
import { withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import { EXIT, interruptedExitCode, type CliFailure } from '../cli-failure.js';
import type { RunLock } from '../../index.js';
import { runLockStep } from '../run-lock-step.js';
import type { CommandArgs } from '../cli-options.js';
import { openPlanStep, planSourceFailure, planSummaryJson } from './plan-command.js';

/**
 * `levelsync sync`: plan and apply in one go, streamed: batches are applied as the scan finds
 * their pairs, so memory is bounded by the batch. A dry run unless `--apply`: then it exits 1
 * when there is anything to write (flagged actions alone: 0, as with `--apply`). With `--apply`
 * it takes the run lock before it scans, and exits like `apply`.
 */
export function syncCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  return withBackend(args, ctx, { create: false }, (backend) => syncWith(args, ctx, backend));
}

async function syncWith(args: CommandArgs, ctx: CommandContext, backend: CliBackend): Promise<Result<number, CliFailure>> {
  if (!args.apply) return syncLocked(args, ctx, backend, undefined);
  const lock = await runLockStep(backend, ctx, args.shard ? { shard: args.shard } : {}, args.waitForLock);
  if (lock.isErr()) return err(lock.error);
  try {
    return await syncLocked(args, ctx, backend, lock.value);
  } finally {
    await lock.value.release().catch(() => undefined);
  }
}

async function syncLocked(args: CommandArgs, ctx: CommandContext, backend: CliBackend, runLock: RunLock | undefined): Promise<Result<number, CliFailure>> {
  const made = await openPlanStep(args, ctx, backend);
  if (made.isErr()) return err(made.error);
  const dryRun = !args.apply;
  let applied: Awaited<ReturnType<typeof applyStep>>;
  try {
    applied = await applyStep(made.value.stream, backend, ctx, {
      ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
      waitForLock: args.waitForLock,
      dryRun,
      ...(args.full ? { outcomeLimit: Number.MAX_SAFE_INTEGER } : {}),
      ...(runLock ? { runLock } : {}),
    });
  } finally {
    made.value.done();
  }
  if (applied.isErr()) return err(applied.error);
  const report = applied.value;
  const plan = made.value.overview();
  if (ctx.signal.aborted && (plan === undefined || report.status === 'Aborted')) {
    // Stopped by a signal: the report of what was done (nothing rolled back), marked interrupted.
    const exitCode = interruptedExitCode(ctx.signal);
    if (ctx.out.jsonMode) {
      ctx.out.json({ command: 'sync', target: backend.target, mapping: backend.mapping, dryRun, interrupted: true, report: applyReportJson(undefined, report), exitCode });
    } else {
      printApplyReport(ctx.out, undefined, report, args.limit);
    }
    return ok(exitCode);
  }
  // The run stopped before its end (the run lock was lost before a batch, or the scan failed
  // midway): batches before it stay committed; the report, then why.
  if (report.status === 'LockLost' || plan === undefined || report.error !== undefined) {
    const failure =
      report.status === 'LockLost'
        ? lockLostFailure(runLock)
        : planSourceFailure(report.error ?? validationError('plan', [{ field: '(root)', message: 'the plan ended early' }]), backend);
    if (ctx.out.jsonMode) {
      ctx.out.json({ command: 'sync', target: backend.target, mapping: backend.mapping, dryRun, report: applyReportJson(undefined, report), error: { kind: failure.kind, message: failure.message }, exitCode: failure.exitCode });
    } else {
      printApplyReport(ctx.out, undefined, report, args.limit);
      ctx.out.error(failure.message);
    }
    return ok(failure.exitCode);
  }
  const writes = plan.summary.actions.total - plan.summary.actions.FlagForReview;
  const exitCode = dryRun ? (writes > 0 ? EXIT.attention : EXIT.ok) : applyExitCode(report, ctx.signal);
  if (ctx.out.jsonMode) {
    ctx.out.json({
      command: 'sync',
      target: backend.target,
      mapping: backend.mapping,
      dryRun,
      plan: planSummaryJson(plan),
      report: applyReportJson(undefined, report),
      exitCode,
    });
    return ok(exitCode);
  }
  ctx.out.out(renderPlan(plan, { limit: args.limit }));
  ctx.out.out();
  if (plan.summary.actions.total === 0) return ok(exitCode);
  printApplyReport(ctx.out, undefined, report, args.limit);
  if (dryRun) ctx.out.out('Run again with --apply to write these changes (or `levelsync plan` to save them for review).');
  return ok(exitCode);
}
