import { err, ok, type Result } from 'neverthrow';
import { openDesyncScan, scanDesyncs, storeUnavailable, type DesyncScan, type StoreError, type SyncPair, type SyncStore } from '../index.js';
import type { PlanScope } from '../sync/plan.js';
import type { DesyncScanStream } from '../sync/scan.js';
import { Interrupted } from './cli-failure.js';
import { storeFailure, type CliBackend, type CommandContext } from './cli-backend.js';
import { interruptedFailure, usageFailure, type CliFailure } from './cli-failure.js';
import type { CommandArgs } from './cli-options.js';
import { createProgress } from './progress-bar.js';

/**
 * Checks that every `--specialization` names a specialization the resolver knows (a
 * repository or the fallback constants); an unknown one is a usage error listing the known ids.
 */
export async function checkSpecializations(args: CommandArgs, backend: CliBackend): Promise<Result<void, CliFailure>> {
  if (args.specializationIds === undefined) return ok(undefined);
  for (const id of args.specializationIds) {
    const resolved = await backend.resolver.resolve(id);
    if (resolved.isOk()) continue;
    if (resolved.error._tag === 'UnknownSpecialization') {
      const table = await backend.resolver.resolveAll();
      const known = [...table.resolutions.keys()];
      const aliases = [...backend.resolver.catalog.aliasMap.keys()];
      return err(
        usageFailure(
          `unknown specialization ${id} in --specialization: known ids are ${known.join(', ')}` +
            (aliases.length > 0 ? ` (legacy ids ${aliases.join(', ')} also work)` : ''),
        ),
      );
    }
    return err(usageFailure(`--specialization ${id}: ${resolved.error.message}`));
  }
  return ok(undefined);
}

/** The scope a command's filters describe. */
export function scopeOf(args: CommandArgs): PlanScope {
  return {
    ...(args.specializationIds ? { specializationIds: args.specializationIds } : {}),
    ...(args.userIds ? { userIds: args.userIds } : {}),
    ...(args.shard ? { shard: args.shard } : {}),
  };
}

/** Scans with the command's filters, showing a running count on a terminal. */
export async function scanStep(args: CommandArgs, backend: CliBackend, ctx: CommandContext): Promise<Result<DesyncScan, CliFailure>> {
  const known = await checkSpecializations(args, backend);
  if (known.isErr()) return err(known.error);
  const progress = createProgress(ctx.out, 'Scanning', 'differing pairs read');
  try {
    const scan = await scanDesyncs(stopOnAbort(backend.store, ctx.signal), {
      resolver: backend.resolver,
      ...scopeOf(args),
      ...(args.listLegacy ? { listLegacy: true } : {}),
      onProgress: ({ pairsRead }) => progress.update(pairsRead),
    });
    if (ctx.signal.aborted) return err(interruptedFailure(ctx.signal, 'while scanning'));
    if (scan.isErr()) return err(storeFailure(scan.error, backend));
    return ok(scan.value);
  } finally {
    progress.stop();
  }
}

/**
 * Opens a streamed scan with the command's filters; the running count shows on a terminal
 * until `done()` (call it once the pages have been read).
 */
export async function openScanStep(
  args: CommandArgs,
  backend: CliBackend,
  ctx: CommandContext,
): Promise<Result<{ readonly scan: DesyncScanStream; done(): void }, CliFailure>> {
  const known = await checkSpecializations(args, backend);
  if (known.isErr()) return err(known.error);
  const progress = createProgress(ctx.out, 'Scanning', 'differing pairs read');
  const scan = await openDesyncScan(stopOnAbort(backend.store, ctx.signal), {
    resolver: backend.resolver,
    ...scopeOf(args),
    ...(args.listLegacy ? { listLegacy: true } : {}),
    onProgress: ({ pairsRead }) => progress.update(pairsRead),
  });
  if (scan.isErr()) {
    progress.stop();
    return err(storeFailure(scan.error, backend));
  }
  return ok({ scan: scan.value, done: () => progress.stop() });
}

/**
 * The store, with scans that stop after the current page once the signal fires: the next page
 * is an error whose cause is an {@link Interrupted}, which `storeFailure` reports as an
 * interruption (never as a finished scan, never as a partial plan file).
 */
function stopOnAbort(store: SyncStore, signal: AbortSignal): SyncStore {
  type Pages = AsyncIterable<Result<readonly SyncPair[], StoreError>>;
  const stopping = (pages: Pages): Pages => ({
    async *[Symbol.asyncIterator]() {
      const stop = () => err(storeUnavailable(store.name, new Interrupted(signal), 'stopped scanning'));
      if (signal.aborted) {
        yield stop();
        return;
      }
      for await (const page of pages) {
        yield page;
        if (signal.aborted) {
          yield stop();
          return;
        }
      }
    },
  });
  const differing = store.scanDifferingPairs;
  // Everything else (name, catalog, counts, reads, writes, locks) is the store's own.
  const wrapped: SyncStore = Object.create(store) as SyncStore;
  return Object.assign(wrapped, {
    scanPairs: (query: Parameters<SyncStore['scanPairs']>[0]) => stopping(store.scanPairs(query)),
    ...(differing ? { scanDifferingPairs: (query: Parameters<typeof differing>[0]) => stopping(differing.call(store, query)) } : {}),
  });
}

/** The number of pairs in scope (orphans on both sides included). */
export async function countStep(
  args: CommandArgs,
  backend: CliBackend,
  scan: Pick<DesyncScan, 'scope' | 'aliases'>,
): Promise<Result<number, CliFailure>> {
  const counted = await backend.store.countPairs({ ...scan.scope, ...(backend.store.aliases === undefined ? { aliases: scan.aliases } : {}) });
  if (counted.isErr()) return err(storeFailure(counted.error, backend));
  return ok(Math.max(counted.value, 0));
}

/** Where the maximum levels came from, for JSON output. */
export function maxLevelsOf(scan: Pick<DesyncScan, 'maxLevels'>): Record<string, { maxLevel: number; source: string; repository?: string }> {
  const out: Record<string, { maxLevel: number; source: string; repository?: string }> = {};
  for (const [id, r] of scan.maxLevels.resolutions) {
    out[id] = { maxLevel: r.maxLevel, source: r.source, ...(r.repository !== undefined ? { repository: r.repository } : {}) };
  }
  return out;
}
