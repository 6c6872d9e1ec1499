import { resolve } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import type { PlanStream } from '../../index.js';
import { applyExitCode, applyReportJson, applyStep, lockLostFailure, printApplyReport } from '../apply-step.js';
import { withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import { usageFailure, type CliFailure } from '../cli-failure.js';
import { runLockStep } from '../run-lock-step.js';
import type { CommandArgs } from '../cli-options.js';
import { displayPath, openPlanFile } from '../plan-file.js';
import { planSourceFailure } from './plan-command.js';

/**
 * `levelsync apply <plan-file>`: verifies the whole plan file (every line, the fingerprint)
 * before the first write, then applies it as it reads it again; exit 1 when anything went
 * stale or failed.
 */
export async function applyCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  const path = args.positionals[0]!;
  const plan = await openPlanFile(path, ctx.environment.cwd);
  if (plan.isErr()) return err(plan.error);
  const fingerprint = plan.value.trailer()?.fingerprint;
  if (args.expectFingerprint !== undefined && fingerprint !== args.expectFingerprint) {
    return err(usageFailure(`plan file ${path} is not the approved plan: its fingerprint is ${fingerprint ?? 'unknown'}, --expect-fingerprint is ${args.expectFingerprint}; nothing was applied`));
  }
  return withBackend(args, ctx, { create: false }, async (backend) => {
    // Read again, now that the store is known: every user id as the store takes it, before the
    // first write (the first read refused a damaged file without opening the database).
    const checked = backend.store.checkUserId ? await openPlanFile(path, ctx.environment.cwd, { store: backend.store }) : plan;
    if (checked.isErr()) return err(checked.error);
    return applyWith(args, ctx, backend, checked.value, displayPath(resolve(ctx.environment.cwd, path), ctx.environment.cwd));
  });
}

async function applyWith(args: CommandArgs, ctx: CommandContext, backend: CliBackend, plan: PlanStream, file: string): Promise<Result<number, CliFailure>> {
  const trailer = plan.trailer()!;
  if (!ctx.out.jsonMode) {
    ctx.out.out(`Applying ${file} (plan ${trailer.fingerprint.slice(7, 19)}, ${trailer.summary.actions.total} action(s)) to ${backend.target}`);
  }
  // The run lock first (before any write, and before a wait could make the plan go stale).
  const writes = trailer.summary.actions.total - trailer.summary.actions.FlagForReview;
  const lock = writes > 0 ? await runLockStep(backend, ctx, plan.header.scope.shard ? { shard: plan.header.scope.shard } : {}, args.waitForLock) : undefined;
  if (lock?.isErr()) return err(lock.error);
  const runLock = lock?.isOk() ? lock.value : undefined;
  let applied: Awaited<ReturnType<typeof applyStep>>;
  try {
    applied = await applyStep(plan, backend, ctx, {
      ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
      waitForLock: args.waitForLock,
      ...(args.full ? { outcomeLimit: Number.MAX_SAFE_INTEGER } : {}),
      ...(runLock ? { runLock } : {}),
      ...(args.expectFingerprint !== undefined ? { expectFingerprint: args.expectFingerprint } : {}),
    });
  } finally {
    await runLock?.release().catch(() => undefined);
  }
  if (applied.isErr()) return err(applied.error);
  const report = applied.value;
  const failure =
    report.error !== undefined ? planSourceFailure(report.error, backend) : report.status === 'LockLost' ? lockLostFailure(runLock) : undefined;
  const exitCode = failure?.exitCode ?? applyExitCode(report, ctx.signal);
  if (ctx.out.jsonMode) {
    ctx.out.json({
      command: 'apply',
      target: backend.target,
      mapping: backend.mapping,
      file,
      ...(report.status === 'Aborted' ? { interrupted: true } : {}),
      report: applyReportJson(undefined, report),
      ...(failure ? { error: { kind: failure.kind, message: failure.message } } : {}),
      exitCode,
    });
  } else {
    printApplyReport(ctx.out, undefined, report, args.limit);
    if (failure) ctx.out.error(failure.message);
  }
  return ok(exitCode);
}
