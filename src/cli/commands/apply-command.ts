import { resolve } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import type { SyncPlan } from '../../index.js';
import { applyExitCode, applyReportJson, applyStep, printApplyReport } from '../apply-step.js';
import { withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import { usageFailure, type CliFailure } from '../cli-failure.js';
import type { CommandArgs } from '../cli-options.js';
import { displayPath, readPlanFile } from '../plan-file.js';
import { runLockStep } from '../run-lock-step.js';

/** `levelsync apply <plan-file>`: applies a saved plan; exit 1 when anything went stale or failed. */
export function applyCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  const path = args.positionals[0]!;
  const plan = readPlanFile(path, ctx.environment.cwd);
  if (plan.isErr()) return Promise.resolve(err(plan.error));
  if (args.expectFingerprint !== undefined && plan.value.fingerprint !== args.expectFingerprint) {
    return Promise.resolve(
      err(usageFailure(`plan file ${path} is not the approved plan: its fingerprint is ${plan.value.fingerprint}, --expect-fingerprint is ${args.expectFingerprint}; nothing was applied`)),
    );
  }
  return withBackend(args, ctx, { create: false }, (backend) => applyWith(args, ctx, backend, plan.value, displayPath(resolve(ctx.environment.cwd, path), ctx.environment.cwd)));
}

async function applyWith(args: CommandArgs, ctx: CommandContext, backend: CliBackend, plan: SyncPlan, file: string): Promise<Result<number, CliFailure>> {
  if (!ctx.out.jsonMode) {
    ctx.out.out(`Applying ${file} (plan ${plan.fingerprint.slice(7, 19)}, ${plan.summary.actions.total} action(s)) to ${backend.target}`);
  }
  const writes = plan.summary.actions.total - plan.summary.actions.FlagForReview;
  const lock = writes > 0 ? await runLockStep(backend, ctx, plan.scope.shard ? { shard: plan.scope.shard } : {}, args.waitForLock) : undefined;
  if (lock?.isErr()) return err(lock.error);
  const runLock = lock?.isOk() ? lock.value : undefined;
  let applied: Awaited<ReturnType<typeof applyStep>>;
  try {
    applied = await applyStep(plan, backend, ctx, {
      ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
      waitForLock: args.waitForLock,
      ...(runLock ? { runLock } : {}),
      ...(args.expectFingerprint !== undefined ? { expectFingerprint: args.expectFingerprint } : {}),
    });
  } finally {
    await runLock?.release().catch(() => undefined);
  }
  if (applied.isErr()) return err(applied.error);
  const report = applied.value;
  const exitCode = applyExitCode(report, ctx.signal);
  if (ctx.out.jsonMode) {
    ctx.out.json({ command: 'apply', target: backend.target, mapping: backend.mapping, file, ...(report.status === 'Aborted' ? { interrupted: true } : {}), report: applyReportJson(plan, report), exitCode });
  } else {
    printApplyReport(ctx.out, plan, report, 20);
  }
  return ok(exitCode);
}
