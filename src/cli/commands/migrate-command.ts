import { err, ok, type Result } from 'neverthrow';
import { withBackend, type CommandContext } from '../cli-backend.js';
import { EXIT, usageFailure, type CliFailure } from '../cli-failure.js';
import type { CommandArgs } from '../cli-options.js';

/** `levelsync migrate`: creates or updates levelsync's own tables (never the original system's). */
export function migrateCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  if (args.mapping !== 'levelsync') {
    return Promise.resolve(
      err(usageFailure("migrate creates levelsync's own tables; the original system's tables (--mapping original) are yours and are never changed")),
    );
  }
  return withBackend(args, ctx, { create: true }, async (backend) => {
    const migrated = await backend.migrate();
    if (migrated.isErr()) return err(migrated.error);
    const m = migrated.value;
    if (ctx.out.jsonMode) {
      ctx.out.json({ command: 'migrate', target: backend.target, ...m, exitCode: EXIT.ok });
    } else {
      if (m.applied.length === 0) ctx.out.out(`levelsync's tables in ${backend.target} (schema ${m.schema}) are up to date (${m.current.length} migration(s)).`);
      else ctx.out.out(`Migrated ${backend.target} (schema ${m.schema}): applied ${m.applied.map((a) => `"${a}"`).join(', ')}.`);
      if (m.specializationsAdded.length > 0) ctx.out.out(`Added the default specializations: ${m.specializationsAdded.join(', ')}.`);
    }
    return ok(EXIT.ok);
  });
}
