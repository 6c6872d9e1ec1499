import { resolve } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { createPlan, renderPlan, type DesyncScan, type SyncPlan } from '../../index.js';
import { withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import { EXIT, usageFailure, type CliFailure } from '../cli-failure.js';
import { DEFAULT_PLAN_FILE, checkWritable, displayPath, writeFileAtomically } from '../plan-file.js';
import type { CommandArgs } from '../cli-options.js';
import { scanStep } from '../scan-step.js';

/** Scans and turns the desyncs into a plan with the command's policy. */
export async function makePlan(args: CommandArgs, ctx: CommandContext, backend: CliBackend): Promise<Result<{ scan: DesyncScan; plan: SyncPlan }, CliFailure>> {
  const scanned = await scanStep(args, backend, ctx);
  if (scanned.isErr()) return err(scanned.error);
  const plan = createPlan(scanned.value, { policy: args.policy });
  if (plan.isErr()) return err(usageFailure(plan.error.message));
  return ok({ scan: scanned.value, plan: plan.value });
}

/** A plan's summary for `--json` documents. */
export function planSummaryJson(plan: SyncPlan) {
  return {
    fingerprint: plan.fingerprint,
    createdAt: plan.createdAt,
    policy: plan.policy,
    scope: plan.scope,
    maxLevels: plan.maxLevels,
    summary: plan.summary,
    warnings: plan.warnings,
  };
}

/** `levelsync plan`: writes the plan file and prints its review table. */
export function planCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  const file = resolve(ctx.environment.cwd, args.out ?? DEFAULT_PLAN_FILE);
  const writable = checkWritable(file, ctx.environment.cwd);
  if (writable.isErr()) return Promise.resolve(err(writable.error));
  return withBackend(args, ctx, { create: false }, (backend) => planCommandWith(args, ctx, backend, file));
}

async function planCommandWith(args: CommandArgs, ctx: CommandContext, backend: CliBackend, file: string): Promise<Result<number, CliFailure>> {
  const made = await makePlan(args, ctx, backend);
  if (made.isErr()) return err(made.error);
  const { plan, scan } = made.value;
  const written = writeFileAtomically(file, `${JSON.stringify(plan, null, 2)}\n`);
  if (written.isErr()) return err(written.error);
  const shown = displayPath(file, ctx.environment.cwd);
  if (ctx.out.jsonMode) {
    ctx.out.json({ command: 'plan', target: backend.target, mapping: backend.mapping, file: shown, ...planSummaryJson(plan), legacyIds: scan.legacyIds, exitCode: EXIT.ok });
    return ok(EXIT.ok);
  }
  ctx.out.out(renderPlan(plan, { limit: args.limit }));
  ctx.out.out();
  const writes = plan.summary.actions.total - plan.summary.actions.FlagForReview;
  if (plan.actions.length === 0) {
    ctx.out.out(`Wrote ${shown} (empty: nothing to do).`);
  } else {
    ctx.out.out(`Wrote ${shown}: ${writes} write action(s), ${plan.summary.actions.FlagForReview} flagged for review.`);
    ctx.out.out(`Review it, then apply it: levelsync apply ${shown}`);
  }
  return ok(EXIT.ok);
}
