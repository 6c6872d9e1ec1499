import { err, ok, type Result } from 'neverthrow';
import type { RunLock, RunScope } from '../index.js';
import { storeFailure, type CliBackend, type CommandContext } from './cli-backend.js';
import { interruptedFailure, type CliFailure } from './cli-failure.js';

/**
 * Takes the run lock of a writing command BEFORE it scans, so that a second run is told at
 * once (exit 1) instead of after a long scan, and `--wait-for-lock` waits first and then scans
 * (a plan made after the wait, on the data the other run left). A signal ends the wait.
 */
export async function runLockStep(
  backend: CliBackend,
  ctx: CommandContext,
  scope: RunScope,
  wait: boolean,
): Promise<Result<RunLock, CliFailure>> {
  if (wait) ctx.out.info('Waiting for the run lock (another run may hold it)…');
  const acquiring = backend.store.acquireRunLock(scope, { wait });
  const aborted = new Promise<'aborted'>((resolve) => {
    if (ctx.signal.aborted) resolve('aborted');
    else ctx.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  const first = await Promise.race([acquiring, aborted]);
  if (first === 'aborted') {
    // The lock may still arrive: give it back then (the process is about to exit anyway).
    void acquiring.map((lock) => lock.release());
    return err(interruptedFailure(ctx.signal, 'while waiting for the run lock'));
  }
  if (first.isErr()) return err(storeFailure(first.error, backend));
  return ok(first.value);
}
