import { resolve } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import {
  createPlan,
  createPlanStream,
  renderPlan,
  type DesyncScan,
  type PlanStream,
  type SyncPlan,
} from '../../index.js';
import type { PlanSourceError } from '../../sync/plan-stream.js';
import { previewPlanStream, type PlanOverview } from '../../sync/render-plan.js';
import type { DesyncScanSummary } from '../../sync/scan.js';
import { storeFailure, withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import { EXIT, usageFailure, type CliFailure } from '../cli-failure.js';
import { DEFAULT_PLAN_FILE, checkWritable, displayPath, writePlanFile } from '../plan-file.js';
import type { CommandArgs } from '../cli-options.js';
import { openScanStep, scanStep } from '../scan-step.js';

/** Scans and turns the desyncs into a plan in memory with the command's policy (small scopes: the demo). */
export async function makePlan(args: CommandArgs, ctx: CommandContext, backend: CliBackend): Promise<Result<{ scan: DesyncScan; plan: SyncPlan }, CliFailure>> {
  const scanned = await scanStep(args, backend, ctx);
  if (scanned.isErr()) return err(scanned.error);
  const plan = createPlan(scanned.value, { policy: args.policy });
  if (plan.isErr()) return err(usageFailure(plan.error.message));
  return ok({ scan: scanned.value, plan: plan.value });
}

/**
 * Opens a streamed scan and plans it as it runs: a plan stream whose first `--limit` actions
 * are kept for the review table. `done()` stops the scan's progress display.
 */
export async function openPlanStep(
  args: CommandArgs,
  ctx: CommandContext,
  backend: CliBackend,
): Promise<Result<{ readonly stream: PlanStream; overview(): PlanOverview | undefined; legacyIds(): DesyncScanSummary['legacyIds']; done(): void }, CliFailure>> {
  const opened = await openScanStep(args, backend, ctx);
  if (opened.isErr()) return err(opened.error);
  const plan = createPlanStream(opened.value.scan, { policy: args.policy });
  if (plan.isErr()) {
    opened.value.done();
    return err(usageFailure(plan.error.message));
  }
  const preview = previewPlanStream(plan.value, args.limit);
  return ok({ stream: preview.stream, overview: preview.overview, legacyIds: () => opened.value.scan.summary().legacyIds, done: opened.value.done });
}

/** A failure of a streamed plan's source (its scan), as the CLI reports it. */
export function planSourceFailure(error: PlanSourceError, backend: CliBackend): CliFailure {
  if (error._tag === 'PlanFingerprintMismatch' || error._tag === 'UnsupportedPlanVersion') return usageFailure(error.message);
  return storeFailure(error, backend);
}

/** A plan's summary for `--json` documents. */
export function planSummaryJson(plan: Omit<SyncPlan, 'actions'>) {
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

/** `levelsync plan`: writes the plan file as the scan runs, then prints its review table. */
export function planCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  const file = resolve(ctx.environment.cwd, args.out ?? DEFAULT_PLAN_FILE);
  const writable = checkWritable(file, ctx.environment.cwd);
  if (writable.isErr()) return Promise.resolve(err(writable.error));
  return withBackend(args, ctx, { create: false }, (backend) => planCommandWith(args, ctx, backend, file));
}

async function planCommandWith(args: CommandArgs, ctx: CommandContext, backend: CliBackend, file: string): Promise<Result<number, CliFailure>> {
  const made = await openPlanStep(args, ctx, backend);
  if (made.isErr()) return err(made.error);
  let written: Awaited<ReturnType<typeof writePlanFile>>;
  try {
    written = await writePlanFile(file, made.value.stream);
  } finally {
    made.value.done();
  }
  if (written.isErr()) return err(written.error._tag === 'CliFailure' ? written.error : planSourceFailure(written.error, backend));
  const plan = made.value.overview()!;
  const shown = displayPath(file, ctx.environment.cwd);
  if (ctx.out.jsonMode) {
    ctx.out.json({ command: 'plan', target: backend.target, mapping: backend.mapping, file: shown, ...planSummaryJson(plan), legacyIds: made.value.legacyIds(), exitCode: EXIT.ok });
    return ok(EXIT.ok);
  }
  ctx.out.out(renderPlan(plan, { limit: args.limit }));
  ctx.out.out();
  const writes = plan.summary.actions.total - plan.summary.actions.FlagForReview;
  if (plan.summary.actions.total === 0) {
    ctx.out.out(`Wrote ${shown} (empty: nothing to do).`);
  } else {
    ctx.out.out(`Wrote ${shown}: ${writes} write action(s), ${plan.summary.actions.FlagForReview} flagged for review.`);
    ctx.out.out(`Review it, then apply it: levelsync apply ${shown}`);
  }
  return ok(EXIT.ok);
}
