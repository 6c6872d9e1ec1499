import { err, ok, type Result } from 'neverthrow';
import { comparePairKeys, isInformational, type Desync, type DesyncScan } from '../../index.js';
import { storeFailure, withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import { EXIT, type CliFailure } from '../cli-failure.js';
import type { CliOutput } from '../cli-io.js';
import type { CommandArgs } from '../cli-options.js';
import { countByKind, describeDesync, formatCount, legacyIdLines, pairsNeedingWork, plural } from '../format.js';
import { formatTable } from '../../_internal/format-table.js';
import { JsonDocumentWriter } from '../json-stream.js';
import { countStep, maxLevelsOf, openScanStep } from '../scan-step.js';

/** `levelsync check`: lists the desyncs; exit 1 when any needs a repair or a review. */
export function checkCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  return withBackend(args, ctx, { create: false }, (backend) => checkCommandWith(args, ctx, backend));
}

async function checkCommandWith(args: CommandArgs, ctx: CommandContext, backend: CliBackend): Promise<Result<number, CliFailure>> {
  if (args.pending) return (await import('./check-pending.js')).checkPendingWith(args, ctx, backend);
  const opened = await openScanStep(args, backend, ctx);
  if (opened.isErr()) return err(opened.error);
  const { scan } = opened.value;
  // --json --full streams every desync into the document as the scan runs; otherwise only the
  // first --limit rows are kept, so memory does not grow with the number of desyncs.
  const full = ctx.out.jsonMode && args.full;
  const tally = new DesyncTally(full ? 0 : args.limit);
  const writer = full ? new JsonDocumentWriter(ctx.out, ctx.environment.stdout) : undefined;
  if (writer) {
    await writer.fields({ command: 'check', target: backend.target, mapping: backend.mapping, scope: scan.scope });
    await writer.beginList('desyncs');
  }
  try {
    for await (const page of scan.pages) {
      if (page.isErr()) {
        const failure = storeFailure(page.error, backend);
        if (!writer) return err(failure);
        // The document has begun: end it with the error rather than leave it open.
        await writer.endList();
        await writer.fields({ ...(failure.kind === 'interrupted' ? { interrupted: true } : {}), error: { kind: failure.kind, message: failure.message }, exitCode: failure.exitCode });
        await writer.end();
        ctx.out.error(failure.message);
        return ok(failure.exitCode);
      }
      tally.add(page.value);
      if (writer) for (const desync of page.value) await writer.item(desync);
    }
  } finally {
    opened.value.done();
  }
  const summary = scan.summary();
  const total = await countStep(args, backend, summary);
  if (total.isErr()) return err(total.error);
  const report = {
    scope: summary.scope,
    inSync: tally.pairsNeedingWork === 0,
    totalPairs: Math.max(total.value, tally.pairsNeedingWork),
    pairsNeedingWork: tally.pairsNeedingWork,
    counts: tally.counts,
    legacyIds: summary.legacyIds,
    maxLevels: maxLevelsOf(summary),
    warnings: summary.warnings,
  };
  const exitCode = report.inSync ? EXIT.ok : EXIT.attention;
  if (writer) {
    await writer.endList();
    const { scope: _scope, ...rest } = report;
    await writer.fields({ ...rest, exitCode });
    await writer.end();
  } else if (ctx.out.jsonMode) {
    ctx.out.json({
      command: 'check',
      target: backend.target,
      mapping: backend.mapping,
      ...report,
      exitCode,
      desyncs: tally.first,
      desyncsOmitted: tally.counts.total - tally.first.length,
    });
  } else {
    printCheckSummary(ctx.out, tally, report, args.limit);
  }
  return ok(exitCode);
}

/**
 * Counts desyncs as pages go by (by kind, pairs needing work, legacy-id records) and keeps the
 * first `keep` of them (repairs and reviews first, as the table shows them): memory bounded by
 * `keep`, not by the number of desyncs.
 */
export class DesyncTally {
  readonly counts = countByKind([]);
  readonly first: Desync[] = [];
  /** The first rows needing work (what the table shows). */
  readonly firstRows: Desync[] = [];
  readonly legacy = new Map<string, number>();
  pairsNeedingWork = 0;
  rows = 0;
  private lastKey: Desync | undefined;

  constructor(private readonly keep: number) {}

  add(desyncs: readonly Desync[]): void {
    for (const d of desyncs) {
      this.counts[d.kind]++;
      this.counts.total++;
      if (this.first.length < this.keep) this.first.push(d);
      if (isInformational(d)) {
        if (d.kind === 'LegacySpecializationId') {
          const label = `${d.storedAs} → ${d.specializationId}`;
          this.legacy.set(label, (this.legacy.get(label) ?? 0) + 1);
        }
        continue;
      }
      this.rows++;
      if (this.firstRows.length < this.keep) this.firstRows.push(d);
      if (this.lastKey === undefined || comparePairKeys(this.lastKey, d) !== 0) this.pairsNeedingWork++;
      this.lastKey = d;
    }
  }
}

/** Prints the first `limit` desyncs needing work and the counts, from a tally. */
function printCheckSummary(out: CliOutput, tally: DesyncTally, report: ReturnType<typeof checkReport>, limit: number, indent = ''): void {
  const c = out.color;
  if (tally.rows === 0) {
    out.out(`${indent}${c.green('In sync:')} no desyncs in ${plural(report.totalPairs, 'pair')}.`);
  } else {
    const table: string[][] = [['user', 'specialization', 'problem', 'detail']];
    for (const d of tally.firstRows.slice(0, limit)) table.push([String(d.userId), d.specializationId, d.kind, describeDesync(d)]);
    for (const line of formatTable(table, { indent })) out.out(line);
    if (tally.rows > limit) out.out(`${indent}… and ${formatCount(tally.rows - limit)} more (--limit <n> shows more, --json --full lists all)`);
    out.out();
    const kinds = Object.entries(report.counts)
      .filter(([k, n]) => k !== 'total' && k !== 'LegacySpecializationId' && n > 0)
      .map(([k, n]) => `${k} ${formatCount(n)}`);
    out.out(
      `${indent}${c.bold(plural(tally.rows, 'desync'))} in ${formatCount(report.pairsNeedingWork)} of ${plural(report.totalPairs, 'pair')} need a repair or a review: ${kinds.join(', ')}`,
    );
  }
  const info = tally.counts.total - tally.rows;
  for (const line of legacyIdLines(report.legacyIds)) out.out(`${indent}${line}`);
  if (info > 0) out.out(`${indent}Listed: ${plural(info, 'record')} stored under a legacy id (--list-legacy).`);
  for (const warning of report.warnings) out.out(`${indent}${c.yellow('warning:')} ${warning}`);
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
