import { err, ok, type Result } from 'neverthrow';
import { renderPlan } from '../../index.js';
import { applyExitCode, applyReportJson, applyStep, printApplyReport } from '../apply-step.js';
import { withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import { EXIT, interruptedExitCode, type CliFailure } from '../cli-failure.js';
import type { RunLock } from '../../index.js';
import type { CommandArgs } from '../cli-options.js';
import { runLockStep } from '../run-lock-step.js';
import { makePlan, planSummaryJson } from './plan-command.js';

/**
 * `levelsync sync`: plan and apply in one go. A dry run unless `--apply`: then it exits 1 when
 * there is anything to write (flagged actions alone: 0, as with `--apply`). With `--apply` it
 * takes the run lock before it scans, and exits like `apply`.
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
  const made = await makePlan(args, ctx, backend);
  if (made.isErr()) return err(made.error);
  const { plan } = made.value;
  const dryRun = !args.apply;
  const applied = await applyStep(plan, backend, ctx, {
    ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
    waitForLock: args.waitForLock,
    dryRun,
    ...(runLock ? { runLock } : {}),
  });
  if (applied.isErr()) return err(applied.error);
  const report = applied.value;
  const writes = plan.summary.actions.total - plan.summary.actions.FlagForReview;
  const exitCode = dryRun ? (ctx.signal.aborted ? interruptedExitCode(ctx.signal) : writes > 0 ? EXIT.attention : EXIT.ok) : applyExitCode(report, ctx.signal);
  if (ctx.out.jsonMode) {
    ctx.out.json({
      command: 'sync',
      target: backend.target,
      mapping: backend.mapping,
      dryRun,
      ...(ctx.signal.aborted ? { interrupted: true } : {}),
      plan: planSummaryJson(plan),
      report: applyReportJson(plan, report),
      exitCode,
    });
    return ok(exitCode);
  }
  ctx.out.out(renderPlan(plan, { limit: args.limit }));
  ctx.out.out();
  if (plan.actions.length === 0) return ok(exitCode);
  printApplyReport(ctx.out, plan, report, args.limit);
  if (dryRun) ctx.out.out('Run again with --apply to write these changes (or `levelsync plan` to save them for review).');
  return ok(exitCode);
}
