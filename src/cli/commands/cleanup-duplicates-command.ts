import { err, ok, type Result } from 'neverthrow';
import { withBackend, type CommandContext } from '../cli-backend.js';
import { EXIT, configFailure, type CliFailure } from '../cli-failure.js';
import type { CommandArgs } from '../cli-options.js';
import { runLockStep } from '../run-lock-step.js';

/**
 * `levelsync cleanup-duplicates [--apply]`: per (user, specialization), keeps the row with the
 * highest level (then the latest update) and moves the others to `<table>_archive`, re-pointing
 * their history. A dry run (counts only) unless `--apply`, which takes the run lock first.
 * Exit 0: nothing to clean, or cleaned; 1: duplicates found in a dry run, or another run holds
 * the run lock; 2: bad usage or configuration.
 */
export function cleanupDuplicatesCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  return withBackend(args, ctx, { create: false }, async (backend) => {
    if (!backend.cleanupDuplicates) return err(configFailure(`duplicate clean-up is not available on ${backend.target}`));
    const dryRun = !args.apply;
    // A bulk write takes the run lock before it scans, like sync --apply: a run under way is
    // reported at once (exit 1), or waited for with --wait-for-lock; a dry run only reads.
    const lock = dryRun ? undefined : await runLockStep(backend, ctx, {}, args.waitForLock);
    if (lock?.isErr()) return err(lock.error);
    let cleaned: Awaited<ReturnType<NonNullable<typeof backend.cleanupDuplicates>>>;
    try {
      cleaned = await backend.cleanupDuplicates({ dryRun });
    } finally {
      if (lock?.isOk()) await lock.value.release().catch(() => undefined);
    }
    if (cleaned.isErr()) return err(cleaned.error);
    const r = cleaned.value;
    const rows = r.progress.archived + r.licenses.archived;
    const exitCode = dryRun && rows > 0 ? EXIT.attention : EXIT.ok;
    if (ctx.out.jsonMode) {
      ctx.out.json({ command: 'cleanup-duplicates', target: backend.target, ...r, exitCode });
      return ok(exitCode);
    }
    const verb = dryRun ? 'would move' : 'moved';
    ctx.out.out(`${dryRun ? 'Dry run on' : 'Cleaned'} ${backend.target}:`);
    ctx.out.out(`  ${r.progress.table}: ${verb} ${r.progress.archived} duplicate row(s) to ${r.progress.archiveTable}`);
    ctx.out.out(
      `  ${r.licenses.table}: ${verb} ${r.licenses.archived} duplicate row(s) to ${r.licenses.archiveTable}, ${dryRun ? 'would re-point' : 're-pointed'} ${r.licenses.progressionsRepointed} history row(s)`,
    );
    if (rows === 0) ctx.out.out('No duplicates.');
    else if (dryRun) ctx.out.out('Nothing was changed. Run again with --apply to move them (nothing is deleted).');
    else ctx.out.out('Now add the unique (user, specialization) keys so that duplicates cannot come back.');
    return ok(exitCode);
  });
}
