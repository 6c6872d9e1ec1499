import { resolve } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import type { SyncPlan } from '../../index.js';
import { applyExitCode, applyReportJson, applyStep, printApplyReport } from '../apply-step.js';
import { withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import type { CliFailure } from '../cli-failure.js';
import type { CommandArgs } from '../cli-options.js';
import { displayPath, readPlanFile } from '../plan-file.js';

/** `levelsync apply <plan-file>`: applies a saved plan; exit 1 when anything went stale or failed. */
export function applyCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  const path = args.positionals[0]!;
  const plan = readPlanFile(path, ctx.environment.cwd);
  if (plan.isErr()) return Promise.resolve(err(plan.error));
  return withBackend(args, ctx, { create: false }, (backend) => applyWith(args, ctx, backend, plan.value, displayPath(resolve(ctx.environment.cwd, path), ctx.environment.cwd)));
}

async function applyWith(args: CommandArgs, ctx: CommandContext, backend: CliBackend, plan: SyncPlan, file: string): Promise<Result<number, CliFailure>> {
  if (!ctx.out.jsonMode) {
    ctx.out.out(`Applying ${file} (plan ${plan.fingerprint.slice(7, 19)}, ${plan.summary.actions.total} action(s)) to ${backend.target}`);
  }
  const applied = await applyStep(plan, backend, ctx, {
    ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
    waitForLock: args.waitForLock,
  });
  if (applied.isErr()) return err(applied.error);
  const report = applied.value;
  const exitCode = applyExitCode(report);
  if (ctx.out.jsonMode) {
    ctx.out.json({ command: 'apply', target: backend.target, mapping: backend.mapping, file, report: applyReportJson(plan, report), exitCode });
  } else {
    printApplyReport(ctx.out, plan, report, 20);
  }
  return ok(exitCode);
}
