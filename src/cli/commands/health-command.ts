import { err, ok, type Result } from 'neverthrow';
import { HEALTH_THRESHOLDS, checkHealthStreaming, type HealthReport } from '../../sync/health.js';
import { storeFailure, withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import { EXIT, type CliFailure } from '../cli-failure.js';
import type { CliOutput } from '../cli-io.js';
import type { CommandArgs } from '../cli-options.js';
import { formatCount, legacyIdLines, plural } from '../format.js';
import { checkSpecializations, scopeOf } from '../scan-step.js';

/** `levelsync health`: exit 0 when healthy, 1 when degraded or critical. */
export function healthCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  return withBackend(args, ctx, { create: false }, (backend) => healthWith(args, ctx, backend));
}

async function healthWith(args: CommandArgs, ctx: CommandContext, backend: CliBackend): Promise<Result<number, CliFailure>> {
  const known = await checkSpecializations(args, backend);
  if (known.isErr()) return err(known.error);
  // Counted page by page: memory stays bounded by a page on a mass-drift day.
  const checked = await checkHealthStreaming(backend.store, { resolver: backend.resolver, ...scopeOf(args), ...(args.listLegacy ? { listLegacy: true } : {}) });
  if (checked.isErr()) return err(storeFailure(checked.error, backend));
  const report = checked.value;
  const exitCode = report.status === 'healthy' ? EXIT.ok : EXIT.attention;
  const capture = await captureLag(backend);
  if (ctx.out.jsonMode) {
    ctx.out.json({ command: 'health', target: backend.target, mapping: backend.mapping, scope: scopeOf(args), thresholds: HEALTH_THRESHOLDS, ...report, changeCapture: capture, exitCode });
  } else {
    printHealth(ctx.out, report);
    for (const line of legacyIdLines(report.legacyIds)) ctx.out.out(line);
    if (capture.installed) {
      ctx.out.out(`  change capture: ${plural(capture.pending, 'pending change')}${capture.pending > 0 ? `, the oldest ${formatCount(capture.oldestMs)} ms old (reconciler lag)` : ''}`);
    }
  }
  return ok(exitCode);
}

/** Whether change capture is installed and, if so, the pending changes and the oldest one's age. */
async function captureLag(backend: CliBackend): Promise<{ readonly installed: boolean; readonly pending: number; readonly oldestMs: number }> {
  const none = { installed: false, pending: 0, oldestMs: 0 };
  if (!backend.pg) return none;
  const { isCaptureInstalled, pendingLag } = await import('../../pg/index.js');
  const installed = await isCaptureInstalled(backend.pg.connection, { mapping: backend.pg.mapping });
  if (installed.isErr() || !installed.value) return none;
  const lag = await pendingLag(backend.pg.connection, { mapping: backend.pg.mapping });
  return lag.isOk() ? { installed: true, ...lag.value } : none;
}

/** The health report as a few lines. */
export function printHealth(out: CliOutput, report: HealthReport, indent = ''): void {
  const c = out.color;
  const status = report.status === 'healthy' ? c.green(report.status) : report.status === 'degraded' ? c.yellow(report.status) : c.red(report.status);
  out.out(`${indent}Health: ${c.bold(status)}: ${report.consistencyRate.toFixed(2)} % of ${plural(report.totalPairs, 'pair')} consistent (healthy ≥ ${HEALTH_THRESHOLDS.healthy} %, degraded ≥ ${HEALTH_THRESHOLDS.degraded} %)`);
  out.out(`${indent}  consistent ${formatCount(report.consistentPairs)}, inconsistent ${formatCount(report.inconsistentPairs)}`);
  out.out(`${indent}  orphans: ${plural(report.orphans.progressOnly, 'progress record')} without a license, ${plural(report.orphans.licenseOnly, 'license')} without a progress record`);
  const kinds = Object.entries(report.byKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${formatCount(n)}`);
  if (kinds.length > 0) out.out(`${indent}  by kind: ${kinds.join(', ')}`);
}
