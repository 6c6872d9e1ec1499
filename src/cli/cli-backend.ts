import { err, type Result } from 'neverthrow';
import type { MaxLevelResolver, StoreError, SyncStore } from '../index.js';
import type { CleanupDuplicatesReport } from '../pg/cleanup-duplicates.js';
import type { ListenSource, PgConnection, PgMapping } from '../pg/index.js';
import { describeCause } from '../index.js';
import { busyFailure, configFailure, Interrupted, interruptedFailure, usageFailure, type CliFailure } from './cli-failure.js';
import type { CliEnvironment, CliOutput } from './cli-io.js';
import type { CommandArgs } from './cli-options.js';

/** What `migrate` did, for printing. */
export interface MigrateSummary {
  /** Migrations applied by this run, by name (empty when the schema was up to date). */
  readonly applied: readonly string[];
  /** Every migration the schema now has. */
  readonly current: readonly string[];
  readonly schema: string;
  /** Specializations of the default catalog added to an empty or incomplete table. */
  readonly specializationsAdded: readonly string[];
}

/** What every data command works with: the store, the resolver and a way to close both. */
export interface CliBackend {
  /** The database, safe to print (`postgres://user:***@host/db` or the embedded folder). */
  readonly target: string;
  readonly mapping: CommandArgs['mapping'];
  readonly store: SyncStore;
  readonly resolver: MaxLevelResolver;
  /** The PostgreSQL side, for continuous mode (`watch`, `capture`, `check --pending`); absent on other backends. */
  readonly pg?: { readonly connection: PgConnection; readonly mapping: PgMapping; readonly listenSource: ListenSource };
  /** Creates or updates levelsync's own tables. */
  migrate(): Promise<Result<MigrateSummary, CliFailure>>;
  /** Archives duplicate rows per (user, specialization) (`cleanupDuplicates`); absent where the backend cannot. */
  cleanupDuplicates?(options: { readonly dryRun: boolean }): Promise<Result<CleanupDuplicatesReport, CliFailure>>;
  close(): Promise<void>;
}

/** Opens the backend a command's arguments name. `create` lets it create the embedded database. */
export type OpenBackend = (args: CommandArgs, out: CliOutput, options: { readonly create: boolean }) => Promise<Result<CliBackend, CliFailure>>;

/** Everything a command needs besides its arguments. */
export interface CommandContext {
  readonly out: CliOutput;
  readonly environment: CliEnvironment;
  readonly openBackend: OpenBackend;
  /** Fires on Ctrl-C: apply stops between batches. */
  readonly signal: AbortSignal;
  /** Told when applying starts and stops, so that Ctrl-C waits for the batch instead of quitting. */
  readonly onApplying?: (applying: boolean) => void;
}

/** True when a store error says the mapped tables or columns are not there (a configuration problem). */
export function isMissingTables(error: StoreError | undefined): boolean {
  return error !== undefined && error._tag === 'StoreUnavailable' && missingObject(error.cause);
}

/** What a driver error says about the schema, when it says the mapped tables or columns are not there. */
function missingObject(cause: unknown): boolean {
  const code = sqlStateOf(cause);
  const text = describeCause(cause);
  if (code === '3F000') return true; // invalid_schema_name
  if (code === '42P01') return /relation .* does not exist/.test(text); // undefined_table (not a FROM-clause bug)
  if (code === '42703') return /column .* does not exist/.test(text); // undefined_column
  return false;
}

function sqlStateOf(cause: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof cause !== 'object' || cause === null) return undefined;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  return sqlStateOf((cause as { cause?: unknown }).cause, depth + 1);
}

/**
 * A store error as a command failure: another run holding the lock is exit 1 (try again
 * later); a store that cannot be read (unreachable, tables missing) is exit 2, with a hint when
 * the tables or columns the mapping names are not there.
 */
export function storeFailure(error: StoreError, backend: Pick<CliBackend, 'mapping'>): CliFailure {
  switch (error._tag) {
    case 'RunInProgress':
      return busyFailure(`${error.message} (or pass --wait-for-lock)`);
    case 'ValidationError':
      return usageFailure(error.message);
    case 'StoreUnavailable': {
      if (error.cause instanceof Interrupted) return interruptedFailure(error.cause.signal, 'while scanning');
      if (missingObject(error.cause)) {
        const hint =
          backend.mapping === 'levelsync'
            ? 'run `levelsync migrate` first, or pass --mapping original (and --schema) for the original system\'s tables'
            : 'check --schema, or use --mapping levelsync for levelsync\'s own tables';
        return configFailure(`the tables are not there: ${describeCause(error.cause)}: ${hint}`);
      }
      return configFailure(error.message);
    }
  }
}

/** Opens the backend, runs the work, and always closes the backend (so that the process exits). */
export async function withBackend<T>(
  args: CommandArgs,
  ctx: CommandContext,
  options: { readonly create: boolean },
  work: (backend: CliBackend) => Promise<Result<T, CliFailure>>,
): Promise<Result<T, CliFailure>> {
  const opened = await ctx.openBackend(args, ctx.out, options);
  if (opened.isErr()) return err(opened.error);
  try {
    if (ctx.signal.aborted) return err(interruptedFailure(ctx.signal, 'while opening the database'));
    return await work(opened.value);
  } finally {
    // After a signal a session may still be blocked (a lock wait the server cannot be told to
    // end): give closing a moment, then let the process exit (the server ends its sessions).
    const closing = opened.value.close();
    if (ctx.signal.aborted) await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    else await closing;
  }
}
