import { err, ok, type Result } from 'neverthrow';
import type { Logger } from '../../index.js';
import { createPgMaxLevelInvalidation, createReconciler, isCaptureInstalled, type ReconcilerEvent } from '../../pg/index.js';
import { withBackend, type CliBackend, type CommandContext } from '../cli-backend.js';
import { configFailure, EXIT, type CliFailure } from '../cli-failure.js';
import type { CliOutput } from '../cli-io.js';
import type { CommandArgs } from '../cli-options.js';
import { formatCount } from '../format.js';

/**
 * `levelsync watch`: runs a reconciler until Ctrl-C or SIGTERM (the batch in flight commits
 * first), with the resolver subscribed to max-level notifications.
 */
export function watchCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  return withBackend(args, ctx, { create: false }, (backend) => watchWith(args, ctx, backend));
}

async function watchWith(args: CommandArgs, ctx: CommandContext, backend: CliBackend): Promise<Result<number, CliFailure>> {
  const pg = backend.pg;
  if (!pg) return err(configFailure('continuous mode needs PostgreSQL or the embedded database'));
  const installed = await isCaptureInstalled(pg.connection, { mapping: pg.mapping });
  if (installed.isErr()) return err(configFailure(`${installed.error.message} on ${backend.target}`));
  if (!installed.value) {
    const how = backend.mapping === 'levelsync' ? '`levelsync migrate`' : '`levelsync capture install --mapping original` (review it first with --dry-run)';
    return err(configFailure(`change capture is not installed in schema ${pg.mapping.schema} on ${backend.target}: run ${how}`));
  }
  const out = ctx.out;
  const logger = cliLogger(out);
  const totals = { batches: 0, changes: 0, applied: 0, stale: 0, deferred: 0, flagged: 0 };
  const print = (event: ReconcilerEvent) => {
    if (event.type === 'batch') {
      totals.batches++;
      totals.changes += event.changes;
      totals.applied += event.applied;
      totals.stale += event.stale;
      totals.deferred += event.deferred;
      totals.flagged += event.flagged;
    }
    if (event.type === 'claimed') return;
    if (out.jsonMode) {
      const { repaired: _repaired, ...rest } = event as ReconcilerEvent & { repaired?: unknown };
      const line = event.type === 'error' ? { type: 'error', message: event.error.message, retryInMs: event.retryInMs } : rest;
      ctx.environment.stdout.write(`${out.scrub(JSON.stringify({ at: new Date().toISOString(), ...line }))}\n`);
    } else {
      const text = describeEvent(event);
      if (text) out.out(`${new Date().toISOString()} ${text}`);
    }
  };
  const invalidation = createPgMaxLevelInvalidation(pg.listenSource, { resolver: backend.resolver, logger });
  const reconciler = createReconciler(pg.connection, {
    mapping: pg.mapping,
    resolver: backend.resolver,
    policy: args.policy,
    ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
    ...(args.resyncIntervalMs !== undefined ? { resyncIntervalMs: args.resyncIntervalMs } : {}),
    logger,
    onEvent: print,
  });
  if (!out.jsonMode) out.info(`Watching ${backend.target} (schema ${pg.mapping.schema}); Ctrl-C stops after the batch in flight.`);
  ctx.onApplying?.(true);
  try {
    reconciler.start();
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      void reconciler.stopped.then(resolve);
    });
    await reconciler.stop();
  } finally {
    await invalidation.close();
    ctx.onApplying?.(false);
  }
  if (!out.jsonMode) {
    out.out(
      `Stopped: ${formatCount(totals.batches)} batches, ${formatCount(totals.changes)} changes, ${formatCount(totals.applied)} writes applied, ${formatCount(totals.stale)} stale and ${formatCount(totals.deferred)} busy (queued again), ${formatCount(totals.flagged)} pairs flagged for review.`,
    );
  }
  return ok(EXIT.ok);
}

function describeEvent(event: ReconcilerEvent): string | undefined {
  switch (event.type) {
    case 'started':
      return 'reconciler started';
    case 'batch':
      return `batch: ${event.changes} changes, ${event.pairs} pairs, ${event.applied} writes applied, ${event.stale} stale, ${event.deferred} busy, ${event.flagged} flagged, ${event.durationMs} ms (oldest change ${event.oldestChangeMs} ms)`;
    case 'error':
      return `batch failed, retrying in ${event.retryInMs} ms (its changes stay queued): ${event.error.message}`;
    case 'recovered':
      return `recovered after ${event.afterMs} ms`;
    case 'resync-started':
      return 'full resync started';
    case 'resync-finished':
      return `full resync: ${event.desyncs} desyncs, ${event.applied} writes applied, ${event.durationMs} ms`;
    case 'resync-skipped':
      return `full resync skipped: ${event.reason}`;
    case 'lag':
      return event.lag.pending > 0 ? `lag: ${event.lag.pending} pending changes, oldest ${event.lag.oldestMs} ms` : undefined;
    case 'stopped':
      return 'reconciler stopped';
    case 'claimed':
      return undefined;
  }
}

function cliLogger(out: CliOutput): Logger {
  return {
    debug: () => {},
    info: () => {},
    warn: (_context, message) => out.warn(message ?? ''),
    error: (_context, message) => out.error(message ?? ''),
  };
}
