import { err, ok, type Result } from 'neverthrow';
import { captureDdl, installCapture, uninstallCapture } from '../../pg/index.js';
import { withBackend, type CommandContext } from '../cli-backend.js';
import { configFailure, EXIT, type CliFailure } from '../cli-failure.js';
import type { CommandArgs } from '../cli-options.js';
import { mappingFor } from '../pg-backend.js';

/** `levelsync capture install|uninstall`: change capture on a mapped schema; `--dry-run` prints the DDL. */
export async function captureCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  const action = args.positionals[0] === 'uninstall' ? 'uninstall' : 'install';
  const mapping = mappingFor(args);
  if (mapping.isErr()) return err(mapping.error);
  const options = { mapping: mapping.value, notify: args.notify, filterUpdates: args.filterUpdates };
  if (args.dryRun) {
    const ddl = captureDdl(action, options);
    if (ctx.out.jsonMode) ctx.out.json({ command: 'capture', action, dryRun: true, schema: mapping.value.schema, ddl, exitCode: EXIT.ok });
    else ctx.out.out(`-- levelsync capture ${action} for schema ${mapping.value.schema} (review, then run it or run this command without --dry-run)\n${ddl}`);
    return ok(EXIT.ok);
  }
  return withBackend(args, ctx, { create: false }, async (backend) => {
    if (!backend.pg) return err(configFailure('change capture needs PostgreSQL or the embedded database'));
    const ran = action === 'install' ? await installCapture(backend.pg.connection, options) : await uninstallCapture(backend.pg.connection, options);
    if (ran.isErr()) return err(configFailure(`${ran.error.message} on ${backend.target}`));
    if (ctx.out.jsonMode) {
      ctx.out.json({ command: 'capture', action, dryRun: false, target: backend.target, schema: mapping.value.schema, statements: ran.value.statements.length, exitCode: EXIT.ok });
    } else if (action === 'install') {
      ctx.out.out(`Change capture installed on ${backend.target} (schema ${mapping.value.schema}): ${mapping.value.schema}.levelsync_changes and its triggers. Run \`levelsync watch\` to repair changes as they commit.`);
    } else {
      ctx.out.out(`Change capture removed from ${backend.target} (schema ${mapping.value.schema}); pending changes were dropped.`);
    }
    return ok(EXIT.ok);
  });
}
