import { err, ok, type Result } from 'neverthrow';
import { isInformational } from '../../index.js';
import { checkPending } from '../../pg/index.js';
import { storeFailure, type CliBackend, type CommandContext } from '../cli-backend.js';
import { configFailure, EXIT, type CliFailure } from '../cli-failure.js';
import type { CommandArgs } from '../cli-options.js';
import { countByKind, describeDesync, formatCount, pairsNeedingWork, plural } from '../format.js';
import { formatTable } from '../../_internal/format-table.js';

/** `levelsync check --pending`: the desyncs among the pairs with a pending captured change. */
export async function checkPendingWith(args: CommandArgs, ctx: CommandContext, backend: CliBackend): Promise<Result<number, CliFailure>> {
  if (!backend.pg) return err(configFailure('check --pending needs PostgreSQL or the embedded database'));
  if (args.specializationIds || args.userIds || args.shard) return err(configFailure('check --pending reads the pending changes only: --specialization, --user and --shard do not apply'));
  const checked = await checkPending(backend.pg.connection, { mapping: backend.pg.mapping, resolver: backend.resolver });
  if (checked.isErr()) return err(storeFailure(checked.error, backend));
  const result = checked.value;
  const needingWork = pairsNeedingWork(result.desyncs);
  const exitCode = needingWork === 0 ? EXIT.ok : EXIT.attention;
  if (ctx.out.jsonMode) {
    ctx.out.json({
      command: 'check',
      pending: true,
      target: backend.target,
      mapping: backend.mapping,
      inSync: needingWork === 0,
      pendingKeys: result.pendingKeys,
      pairsChecked: result.pairsChecked,
      pairsNeedingWork: needingWork,
      counts: countByKind(result.desyncs),
      lag: result.lag,
      exitCode,
      desyncs: result.desyncs,
    });
    return ok(exitCode);
  }
  const out = ctx.out;
  const rows = result.desyncs.filter((d) => !isInformational(d));
  out.out(`Pending changes: ${plural(result.lag.pending, 'change')} on ${plural(result.pendingKeys, 'key')}${result.lag.pending > 0 ? `, the oldest ${formatCount(result.lag.oldestMs)} ms old` : ''}; ${plural(result.pairsChecked, 'pair')} checked.`);
  if (rows.length === 0) {
    out.out(`${out.color.green('In sync:')} no desyncs among the pending pairs.`);
  } else {
    const table: string[][] = [['user', 'specialization', 'problem', 'detail']];
    for (const d of rows.slice(0, args.limit)) table.push([String(d.userId), d.specializationId, d.kind, describeDesync(d)]);
    for (const line of formatTable(table)) out.out(line);
    if (rows.length > args.limit) out.out(`… and ${formatCount(rows.length - args.limit)} more (--limit <n> shows more, --json lists all)`);
    out.out(`${out.color.bold(plural(rows.length, 'desync'))} in ${formatCount(needingWork)} pending ${needingWork === 1 ? 'pair' : 'pairs'} (a running \`levelsync watch\` repairs them).`);
  }
  return ok(exitCode);
}
