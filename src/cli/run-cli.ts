import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Result } from 'neverthrow';
import { describeCause } from '../index.js';
import type { CommandContext, OpenBackend } from './cli-backend.js';
import { EXIT, isCliFailure, usageFailure, type CliFailure } from './cli-failure.js';
import { commandHelp, topHelp } from './cli-help.js';
import { createOutput, type CliEnvironment, type CliOutput } from './cli-io.js';
import { COMMANDS, parseCommandArgs, type CommandArgs, type CommandName } from './cli-options.js';

/** Everything `runCli` can be given instead of the real thing (tests run it in-process). */
export interface RunCliOptions {
  /** How data commands reach the database (default: PostgreSQL or PGlite through `levelsync/pg`). */
  readonly openBackend?: OpenBackend;
  /** SIGINT/SIGTERM (its `reason` names the signal): stops a scan, a lock wait, or `apply` between batches. */
  readonly signal?: AbortSignal;
  /** Told when a command starts or stops applying, so that Ctrl-C knows whether to wait. */
  readonly onApplying?: (applying: boolean) => void;
}

type Command = (args: CommandArgs, ctx: CommandContext) => Promise<Result<number, CliFailure>>;

/** Loads a subcommand's module only when it runs: `--help` stays fast and never loads a driver. */
const COMMAND_LOADERS: Readonly<Record<CommandName, () => Promise<Command>>> = {
  check: async () => (await import('./commands/check-command.js')).checkCommand,
  plan: async () => (await import('./commands/plan-command.js')).planCommand,
  apply: async () => (await import('./commands/apply-command.js')).applyCommand,
  sync: async () => (await import('./commands/sync-command.js')).syncCommand,
  health: async () => (await import('./commands/health-command.js')).healthCommand,
  'max-level': async () => (await import('./commands/max-level-command.js')).maxLevelCommand,
  migrate: async () => (await import('./commands/migrate-command.js')).migrateCommand,
  'cleanup-duplicates': async () => (await import('./commands/cleanup-duplicates-command.js')).cleanupDuplicatesCommand,
  watch: async () => (await import('./commands/watch-command.js')).watchCommand,
  capture: async () => (await import('./commands/capture-command.js')).captureCommand,
  demo: async () => (await import('./demo/demo-command.js')).demoCommand,
};

/**
 * Runs the `levelsync` command line and returns its exit code: 0 in sync / done, 1 work
 * remains (desyncs found, actions failed or stale, a lock held elsewhere), 2 bad usage or
 * configuration, 70 an internal error, 130/143 stopped by SIGINT/SIGTERM (see `EXIT`). Never
 * throws; never calls `process.exit`.
 */
export async function runCli(argv: readonly string[], environment: CliEnvironment, options: RunCliOptions = {}): Promise<number> {
  const wantsJson = argv.includes('--json');
  const out = createOutput(environment, { json: wantsJson });
  const first = argv[0];
  const fail = (failure: CliFailure, command?: string): number => reportFailure(out, failure, command);

  if (first === undefined) return fail(usageFailure('missing command: run `levelsync --help` for the list (check, plan, apply, sync, health, max-level, migrate, cleanup-duplicates, demo, watch, capture)'));
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = argv[1];
    if (first === 'help' && topic !== undefined) {
      if (!isCommand(topic)) return fail(unknownCommand(topic));
      environment.stdout.write(commandHelp(topic));
    } else {
      environment.stdout.write(topHelp());
    }
    return EXIT.ok;
  }
  if (first === '--version' || first === '-v') {
    environment.stdout.write(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  if (!isCommand(first)) return fail(unknownCommand(first));
  const parsed = parseCommandArgs(first, argv.slice(1));
  if (parsed.isErr()) return fail(parsed.error, first);
  let args = parsed.value;
  if (args.help) {
    environment.stdout.write(commandHelp(first));
    return EXIT.ok;
  }
  if (args.usersFile !== undefined) {
    const { mergeUserIds, readUsersFile } = await import('./users-file.js');
    const ids = (await readUsersFile(args.usersFile, environment.cwd, environment.stdin)).andThen((fromFile) => mergeUserIds(args.userIds, fromFile));
    if (ids.isErr()) return fail(ids.error, first);
    args = { ...args, userIds: ids.value };
  }
  const openBackend = options.openBackend ?? (async (a, o, opts) => (await import('./pg-backend.js')).openPgBackend(a, o, opts, environment));
  const ctx: CommandContext = {
    out,
    environment,
    openBackend,
    signal: options.signal ?? new AbortController().signal,
    ...(options.onApplying ? { onApplying: options.onApplying } : {}),
  };
  try {
    const command = await COMMAND_LOADERS[first]();
    const result = await command(args, ctx);
    return result.isOk() ? result.value : fail(result.error, first);
  } catch (cause) {
    // A bug, not an expected failure: say so plainly (still without secrets).
    if (isCliFailure(cause)) return fail(cause, first);
    out.error(`internal error in \`levelsync ${first}\`: ${describeCause(cause)}`);
    if (environment.env.LEVELSYNC_DEBUG && cause instanceof Error && cause.stack) out.info(out.scrub(cause.stack));
    if (out.jsonMode) out.json({ command: first, error: { kind: 'internal', message: describeCause(cause) }, exitCode: EXIT.internal });
    return EXIT.internal;
  }
}

function isCommand(text: string): text is CommandName {
  return (COMMANDS as readonly string[]).includes(text);
}

function unknownCommand(text: string): CliFailure {
  const guess = COMMANDS.find((c) => distance(c, text) <= 2);
  const shown = text.startsWith('-') ? `option ${text} before a command` : `command ${JSON.stringify(text)}`;
  return usageFailure(`unknown ${shown}${guess !== undefined && !text.startsWith('-') ? ` (did you mean ${guess}?)` : ''}: expected one of ${COMMANDS.join(', ')} (see levelsync --help)`);
}

/** Prints a failure: one line on stderr, and with `--json` one JSON document on stdout. */
function reportFailure(out: CliOutput, failure: CliFailure, command?: string): number {
  out.error(failure.message);
  if (out.jsonMode) {
    out.json({
      ...(command ? { command } : {}),
      ...(failure.kind === 'interrupted' ? { interrupted: true } : {}),
      error: { kind: failure.kind, message: out.scrub(failure.message) },
      exitCode: failure.exitCode,
    });
  }
  return failure.exitCode;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The version of the installed package (found from this file, in `src/cli` or `dist`). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'levelsync' && pkg.version) return pkg.version;
      } catch {
        // keep looking
      }
    }
    dir = dirname(dir);
  }
  return 'unknown';
}
