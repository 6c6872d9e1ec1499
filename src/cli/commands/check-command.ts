import { err, ok, type Result } from 'neverthrow';
import { isInformational, type DesyncScan } from '../../index.js';
import { withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import { EXIT, type CliFailure } from '../cli-failure.js';
import type { CliOutput } from '../cli-io.js';
import type { CommandArgs } from '../cli-options.js';
import { countByKind, describeDesync, formatCount, formatTable, legacyIdLines, pairsNeedingWork, plural } from '../format.js';
import { countStep, maxLevelsOf, scanStep } from '../scan-step.js';

/** `levelsync check`: lists the desyncs; exit 1 when any needs a repair or a review. */
export function checkCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  return withBackend(args, ctx, { create: false }, (backend) => checkCommandWith(args, ctx, backend));
}

async function checkCommandWith(args: CommandArgs, ctx: CommandContext, backend: CliBackend): Promise<Result<number, CliFailure>> {
  const scanned = await scanStep(args, backend, ctx);
  if (scanned.isErr()) return err(scanned.error);
  const scan = scanned.value;
  const total = await countStep(args, backend, scan);
  if (total.isErr()) return err(total.error);
  const report = checkReport(scan, total.value);
  const exitCode = report.inSync ? EXIT.ok : EXIT.attention;
  if (ctx.out.jsonMode) {
    ctx.out.json({ command: 'check', target: backend.target, mapping: backend.mapping, ...report, exitCode, desyncs: scan.desyncs });
  } else {
    printCheck(ctx.out, scan, report, args.limit);
  }
  return ok(exitCode);
}

/** The summary of a scan that `check --json` prints (without the desyncs). */
export function checkReport(scan: DesyncScan, totalPairs: number) {
  const needingWork = pairsNeedingWork(scan.desyncs);
  return {
    scope: scan.scope,
    inSync: needingWork === 0,
    totalPairs: Math.max(totalPairs, needingWork),
    pairsNeedingWork: needingWork,
    counts: countByKind(scan.desyncs),
    legacyIds: scan.legacyIds,
    maxLevels: maxLevelsOf(scan),
    warnings: scan.warnings,
  };
}

/** Prints the desyncs table (first `limit` rows) and the counts. */
export function printCheck(out: CliOutput, scan: DesyncScan, report: ReturnType<typeof checkReport>, limit: number, indent = ''): void {
  const c = out.color;
  const rows = scan.desyncs.filter((d) => !isInformational(d));
  const info = scan.desyncs.length - rows.length;
  if (rows.length === 0) {
    out.out(`${indent}${c.green('In sync:')} no desyncs in ${plural(report.totalPairs, 'pair')}.`);
  } else {
    const table: string[][] = [['user', 'specialization', 'problem', 'detail']];
    for (const d of rows.slice(0, limit)) table.push([String(d.userId), d.specializationId, d.kind, describeDesync(d)]);
    for (const line of formatTable(table, { indent })) out.out(line);
    if (rows.length > limit) out.out(`${indent}… and ${formatCount(rows.length - limit)} more (--limit <n> shows more, --json lists all)`);
    out.out();
    const kinds = Object.entries(report.counts)
      .filter(([k, n]) => k !== 'total' && k !== 'LegacySpecializationId' && n > 0)
      .map(([k, n]) => `${k} ${formatCount(n)}`);
    out.out(
      `${indent}${c.bold(plural(rows.length, 'desync'))} in ${formatCount(report.pairsNeedingWork)} of ${plural(report.totalPairs, 'pair')} need a repair or a review: ${kinds.join(', ')}`,
    );
  }
  for (const line of legacyIdLines(scan.legacyIds)) out.out(`${indent}${line}`);
  if (info > 0) out.out(`${indent}Listed: ${plural(info, 'record')} stored under a legacy id (--list-legacy).`);
  for (const warning of scan.warnings) out.out(`${indent}${c.yellow('warning:')} ${warning}`);
}
