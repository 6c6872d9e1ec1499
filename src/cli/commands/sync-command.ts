import { err, ok, type Result } from 'neverthrow';
import { renderPlan } from '../../index.js';
import { applyExitCode, applyReportJson, applyStep, printApplyReport } from '../apply-step.js';
import { withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import { EXIT, type CliFailure } from '../cli-failure.js';
import type { CommandArgs } from '../cli-options.js';
import { makePlan, planSummaryJson } from './plan-command.js';

/**
 * `levelsync sync`: plan and apply in one go. A dry run unless `--apply`: then it exits 1 when
 * there is anything to do, like `check`. With `--apply` it exits like `apply`.
 */
export function syncCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  return withBackend(args, ctx, { create: false }, (backend) => syncWith(args, ctx, backend));
}

async function syncWith(args: CommandArgs, ctx: CommandContext, backend: CliBackend): Promise<Result<number, CliFailure>> {
  const made = await makePlan(args, ctx, backend);
  if (made.isErr()) return err(made.error);
  const { plan } = made.value;
  const dryRun = !args.apply;
  const applied = await applyStep(plan, backend, ctx, {
    ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
    waitForLock: args.waitForLock,
    dryRun,
  });
  if (applied.isErr()) return err(applied.error);
  const report = applied.value;
  const exitCode = dryRun ? (plan.actions.length > 0 ? EXIT.attention : EXIT.ok) : applyExitCode(report);
  if (ctx.out.jsonMode) {
    ctx.out.json({
      command: 'sync',
      target: backend.target,
      mapping: backend.mapping,
      dryRun,
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
