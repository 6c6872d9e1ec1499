import { err, ok, type Result } from 'neverthrow';
import type { Resolution } from '../../index.js';
import { parseSpecializationId } from '../../domain/specialization-id.js';
import { withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import { EXIT, usageFailure, type CliFailure } from '../cli-failure.js';
import type { CommandArgs } from '../cli-options.js';
import { errorToJson } from '../format.js';

const SOURCES: Readonly<Record<Resolution['source'], string>> = {
  repository: 'the database',
  cache: 'the cache (a recent database answer)',
  'stale-cache': 'the last known good value (the database failed)',
  fallback: 'the fallback constants (the database did not know it)',
};

/** `levelsync max-level <id>`: the maximum level, where it came from, and the alias used. */
export function maxLevelCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  const id = parseSpecializationId(args.positionals[0]);
  if (id.isErr()) return Promise.resolve(err(usageFailure(`${JSON.stringify(args.positionals[0])} is not a specialization id: ${id.error.issues[0]?.message ?? 'invalid'}`)));
  return withBackend(args, ctx, { create: false }, (backend) => maxLevelWith(ctx, backend, id.value));
}

async function maxLevelWith(ctx: CommandContext, backend: CliBackend, id: string): Promise<Result<number, CliFailure>> {
  const resolved = await backend.resolver.resolve(id);
  if (resolved.isErr()) {
    if (resolved.error._tag === 'UnknownSpecialization') {
      const table = await backend.resolver.resolveAll();
      const known = [...table.resolutions.keys()].join(', ');
      return err(usageFailure(`${resolved.error.message}${known !== '' ? `; known ids: ${known}` : ''}`));
    }
    return err(usageFailure(resolved.error.message));
  }
  const r = resolved.value;
  if (ctx.out.jsonMode) {
    ctx.out.json({ command: 'max-level', target: backend.target, mapping: backend.mapping, ...r, errors: r.errors.map(errorToJson), exitCode: EXIT.ok });
    return ok(EXIT.ok);
  }
  const c = ctx.out.color;
  ctx.out.out(`${c.bold(r.specializationId)}: maximum level ${c.bold(String(r.maxLevel))}`);
  ctx.out.out(`  source: ${r.source}, from ${SOURCES[r.source]}${r.repository !== undefined ? ` (repository "${r.repository}")` : ''}`);
  if (r.alias !== null) {
    const when = r.alias.deprecatedAfter === null ? '' : r.alias.deprecated ? `, deprecated since ${r.alias.deprecatedAfter}` : `, deprecated after ${r.alias.deprecatedAfter}`;
    ctx.out.out(`  asked as ${r.alias.id}: a legacy alias of ${r.specializationId}${when}`);
  }
  for (const e of r.errors) ctx.out.out(`  ${c.yellow('problem met:')} ${e.message}`);
  return ok(EXIT.ok);
}
