// The command line's options: one zod schema per command and the parsing of argv into them.
// Over 300 lines because every command's flags are declared here, in one table a reader can scan;
// the help text that describes them is in cli-help.ts.
import { parseArgs } from 'node:util';
import { err, ok, type Result } from 'neverthrow';
import { z } from 'zod';
import {
  SYNC_DIRECTIONS,
  SpecializationIdSchema,
  type Shard,
  type SyncDirection,
  type SyncPolicyInput,
  type UserId,
} from '../index.js';
import { UserIdSchema } from '../domain/records.js';
import { parseShard } from '../sync/shard.js';
import { usageFailure, type CliFailure } from './cli-failure.js';

/** The subcommands, in the order `--help` lists them. */
export const COMMANDS = ['check', 'plan', 'apply', 'sync', 'health', 'max-level', 'migrate', 'cleanup-duplicates', 'demo', 'watch', 'capture'] as const;
export type CommandName = (typeof COMMANDS)[number];

export const MAPPINGS = ['levelsync', 'original'] as const;
export type MappingName = (typeof MAPPINGS)[number];

type OptionSpec = { readonly type: 'string' | 'boolean'; readonly multiple?: boolean; readonly short?: string };

const connection = {
  'database-url': { type: 'string' },
  'data-dir': { type: 'string' },
  mapping: { type: 'string' },
  schema: { type: 'string' },
} as const satisfies Record<string, OptionSpec>;
const output = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const satisfies Record<string, OptionSpec>;
const filters = {
  specialization: { type: 'string', multiple: true },
  user: { type: 'string', multiple: true },
  'users-file': { type: 'string' },
  shard: { type: 'string' },
} as const satisfies Record<string, OptionSpec>;
const policy = {
  direction: { type: 'string' },
  'allow-demotion': { type: 'boolean' },
  missing: { type: 'string' },
  'above-max': { type: 'string' },
} as const satisfies Record<string, OptionSpec>;
const applying = { 'batch-size': { type: 'string' }, 'wait-for-lock': { type: 'boolean' }, 'lock-timeout': { type: 'string' } } as const satisfies Record<string, OptionSpec>;
const limit = { limit: { type: 'string' }, 'list-legacy': { type: 'boolean' } } as const satisfies Record<string, OptionSpec>;
const full = { full: { type: 'boolean' } } as const satisfies Record<string, OptionSpec>;

/** The options each subcommand accepts (anything else is a usage error), and its positionals. */
export const COMMAND_SPECS: Readonly<Record<CommandName, { readonly options: Record<string, OptionSpec>; readonly positionals: readonly string[] }>> = {
  check: { options: { ...connection, ...output, ...filters, ...limit, ...full, pending: { type: 'boolean' } }, positionals: [] },
  plan: { options: { ...connection, ...output, ...filters, ...policy, ...limit, out: { type: 'string', short: 'o' } }, positionals: [] },
  apply: { options: { ...connection, ...output, ...applying, limit: limit.limit, ...full, 'expect-fingerprint': { type: 'string' } }, positionals: ['plan-file'] },
  sync: { options: { ...connection, ...output, ...filters, ...policy, ...applying, ...limit, ...full, apply: { type: 'boolean' } }, positionals: [] },
  health: { options: { ...connection, ...output, ...filters, 'list-legacy': { type: 'boolean' } }, positionals: [] },
  'max-level': { options: { ...connection, ...output }, positionals: ['specialization-id'] },
  migrate: { options: { ...connection, ...output }, positionals: [] },
  'cleanup-duplicates': { options: { ...connection, ...output, apply: { type: 'boolean' }, 'wait-for-lock': applying['wait-for-lock'] }, positionals: [] },
  watch: { options: { ...connection, ...output, ...policy, 'batch-size': applying['batch-size'], 'resync-interval': { type: 'string' } }, positionals: [] },
  capture: { options: { ...connection, ...output, 'dry-run': { type: 'boolean' }, notify: { type: 'boolean' }, 'filter-updates': { type: 'boolean' } }, positionals: ['install|uninstall'] },
  demo: {
    options: { 'database-url': connection['database-url'], 'data-dir': connection['data-dir'], schema: connection.schema, ...output, users: { type: 'string' }, seed: { type: 'string' } },
    positionals: [],
  },
};

/** Every option value of a subcommand, validated. Only the options the subcommand accepts are ever set. */
export interface CommandArgs {
  readonly command: CommandName;
  readonly positionals: readonly string[];
  readonly json: boolean;
  readonly help: boolean;
  readonly databaseUrl?: string;
  readonly dataDir?: string;
  readonly mapping: MappingName;
  readonly schema?: string;
  readonly specializationIds?: readonly string[];
  readonly userIds?: readonly UserId[];
  /** `--users-file <path|->`: read by the command runner, merged into `userIds`. */
  readonly usersFile?: string;
  readonly shard?: Shard;
  readonly policy: SyncPolicyInput;
  readonly batchSize?: number;
  readonly waitForLock: boolean;
  /** Longest wait for one row lock, in ms (0: no limit); undefined: the default. */
  readonly lockTimeoutMs?: number;
  /** `apply --expect-fingerprint`: the fingerprint of the plan a reviewer approved. */
  readonly expectFingerprint?: string;
  readonly limit: number;
  /** With --json: list everything (every desync, every notable apply outcome), not the first --limit. */
  readonly full: boolean;
  /** `--list-legacy`: one `LegacySpecializationId` per record stored under a legacy id. */
  readonly listLegacy: boolean;
  readonly out?: string;
  readonly apply: boolean;
  readonly users?: number;
  readonly seed?: number;
  /** `check --pending`: only the pairs with a pending captured change. */
  readonly pending: boolean;
  /** `capture --dry-run`: print the DDL, run nothing. */
  readonly dryRun: boolean;
  /** `capture install --notify`: the capture triggers also NOTIFY. */
  readonly notify: boolean;
  /** `capture install --filter-updates`: an UPDATE records a key only when a level (or the key) changed. */
  readonly filterUpdates: boolean;
  /** `watch --resync-interval`: milliseconds between full resyncs (0: none). */
  readonly resyncIntervalMs?: number;
}

const SchemaNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { error: 'must be a PostgreSQL identifier: a letter or _ then letters, digits or _ (at most 63)' });
const positiveInt = (max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(1, { error: 'must be at least 1' }).max(max, { error: `must be at most ${max}` }));

/** The first problem of a zod parse as `--option 'value': problem`. */
function bad(option: string, value: string, problem: string): CliFailure {
  return usageFailure(`--${option} ${JSON.stringify(value)}: ${problem}`);
}

function check<T>(option: string, value: string, schema: z.ZodType<T>): Result<T, CliFailure> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return ok(parsed.data);
  return err(bad(option, value, parsed.error.issues[0]?.message ?? 'is invalid'));
}

/** Splits repeated and comma-separated values: `--user 1,2 --user 3` → 1, 2, 3. */
function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * A user id as typed: a decimal integer within ±2^53 is a number (serial keys); anything else a
 * string (uuid/text keys, and integer ids beyond 2^53, which levelsync carries as decimal strings
 * and the store converts exactly).
 */
export function parseUserId(text: string): Result<UserId, CliFailure> {
  const candidate: unknown = /^(0|-?[1-9]\d*)$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : text;
  const parsed = UserIdSchema.safeParse(candidate);
  return parsed.success ? ok(parsed.data) : err(bad('user', text, parsed.error.issues[0]?.message ?? 'is invalid'));
}

/**
 * Parses a subcommand's arguments strictly (`node:util` parseArgs): an unknown option, a missing
 * value or a surplus argument is a usage error naming it; then every value is validated.
 */
export function parseCommandArgs(command: CommandName, argv: readonly string[]): Result<CommandArgs, CliFailure> {
  const spec = COMMAND_SPECS[command];
  let parsed: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: spec.options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (cause) {
    return err(describeParseError(command, cause));
  }
  const v = parsed.values;
  if (v.help === true) return ok(defaults(command, parsed.positionals, { help: true, json: v.json === true }));

  const expected = spec.positionals;
  if (parsed.positionals.length > expected.length) {
    const extra = parsed.positionals[expected.length]!;
    return err(usageFailure(`unexpected argument ${JSON.stringify(extra)} for \`levelsync ${command}\` (see levelsync ${command} --help)`));
  }
  if (parsed.positionals.length < expected.length) {
    return err(usageFailure(`\`levelsync ${command}\` needs <${expected[parsed.positionals.length]}> (see levelsync ${command} --help)`));
  }
  const str = (name: string) => v[name] as string | undefined;
  const result: { -readonly [K in keyof CommandArgs]: CommandArgs[K] } = defaults(command, parsed.positionals, { help: false, json: v.json === true });

  const url = str('database-url');
  if (url !== undefined) {
    if (url.trim() === '') return err(usageFailure('--database-url is empty: give a URL such as postgres://user:password@host:5432/database'));
    result.databaseUrl = url;
  }
  const dataDir = str('data-dir');
  if (dataDir !== undefined) {
    if (dataDir.trim() === '') return err(usageFailure('--data-dir is empty: give a folder for the embedded database'));
    result.dataDir = dataDir;
  }
  if (url !== undefined && dataDir !== undefined) {
    return err(usageFailure('--database-url and --data-dir exclude each other: pick the server or the embedded database'));
  }
  const mapping = str('mapping');
  if (mapping !== undefined) {
    const m = check('mapping', mapping, z.enum(MAPPINGS, { error: `must be ${MAPPINGS.join(' or ')}` }));
    if (m.isErr()) return err(m.error);
    result.mapping = m.value;
  }
  const schema = str('schema');
  if (schema !== undefined) {
    const s = check('schema', schema, SchemaNameSchema);
    if (s.isErr()) return err(s.error);
    result.schema = s.value;
  }

  const specs = splitList(v.specialization as string[] | undefined);
  if (v.specialization !== undefined && specs.length === 0) return err(usageFailure('--specialization is empty: give an id such as LFA_COACH'));
  if (specs.length > 0) {
    const ids: string[] = [];
    for (const raw of specs) {
      const id = check('specialization', raw, SpecializationIdSchema);
      if (id.isErr()) return err(id.error);
      if (!ids.includes(id.value)) ids.push(id.value);
    }
    result.specializationIds = ids;
  }
  const users = splitList(v.user as string[] | undefined);
  if (v.user !== undefined && users.length === 0) return err(usageFailure('--user is empty: give a user id such as 42'));
  if (users.length > 0) {
    const ids: UserId[] = [];
    for (const raw of users) {
      const id = parseUserId(raw);
      if (id.isErr()) return err(id.error);
      if (!ids.includes(id.value)) ids.push(id.value);
    }
    result.userIds = ids;
  }
  const usersFile = str('users-file');
  if (usersFile !== undefined) {
    if (usersFile.trim() === '') return err(usageFailure('--users-file is empty: give a file with one user id per line, or - for standard input'));
    result.usersFile = usersFile;
  }
  const shard = str('shard');
  if (shard !== undefined) {
    const parsedShard = parseShard(shard);
    if (parsedShard === undefined) return err(bad('shard', shard, 'expected k/n with 1 ≤ k ≤ n (e.g. 2/8 for the second of eight workers)'));
    result.shard = parsedShard;
  }

  const policyInput: { -readonly [K in keyof SyncPolicyInput]: SyncPolicyInput[K] } = {};
  const direction = str('direction');
  if (direction !== undefined) {
    const d = check('direction', direction, z.enum(SYNC_DIRECTIONS, { error: `must be one of ${SYNC_DIRECTIONS.join(', ')}` }));
    if (d.isErr()) return err(d.error);
    policyInput.direction = d.value as SyncDirection;
  }
  if (v['allow-demotion'] === true) policyInput.allowDemotion = true;
  const missing = str('missing');
  if (missing !== undefined) {
    const m = check('missing', missing, z.enum(['create', 'flag'], { error: 'must be create or flag' }));
    if (m.isErr()) return err(m.error);
    policyInput.missing = m.value;
  }
  const aboveMax = str('above-max');
  if (aboveMax !== undefined) {
    const a = check('above-max', aboveMax, z.enum(['flag', 'clamp'], { error: 'must be flag or clamp' }));
    if (a.isErr()) return err(a.error);
    policyInput.aboveMax = a.value;
  }
  result.policy = policyInput;

  const batchSize = str('batch-size');
  if (batchSize !== undefined) {
    const b = check('batch-size', batchSize, positiveInt(100_000));
    if (b.isErr()) return err(b.error);
    result.batchSize = b.value;
  }
  result.waitForLock = v['wait-for-lock'] === true;
  const lockTimeout = str('lock-timeout');
  if (lockTimeout !== undefined) {
    const t = check(
      'lock-timeout',
      lockTimeout,
      z
        .string()
        .regex(/^\d+(ms|s)?$/, { error: 'must be a duration such as 5s, 500ms or 0 (no limit)' })
        .transform((text) => (text.endsWith('ms') ? Number(text.slice(0, -2)) : text.endsWith('s') ? Number(text.slice(0, -1)) * 1_000 : Number(text)))
        .pipe(z.number().int().min(0).max(3_600_000, { error: 'must be at most 1 hour' })),
    );
    if (t.isErr()) return err(t.error);
    result.lockTimeoutMs = t.value;
  }
  const approved = str('expect-fingerprint');
  if (approved !== undefined) {
    const f = check('expect-fingerprint', approved, z.string().regex(/^sha256:[0-9a-f]{64}$/, { error: 'must be a plan fingerprint: sha256: followed by 64 hex digits (levelsync plan prints it)' }));
    if (f.isErr()) return err(f.error);
    result.expectFingerprint = f.value;
  }
  result.listLegacy = v['list-legacy'] === true;
  const limitText = str('limit');
  if (limitText !== undefined) {
    const l = check('limit', limitText, positiveInt(1_000_000));
    if (l.isErr()) return err(l.error);
    result.limit = l.value;
  }
  const out = str('out');
  if (out !== undefined) {
    if (out.trim() === '') return err(usageFailure('--out is empty: give a file name such as levelsync-plan.jsonl'));
    result.out = out;
  }
  result.apply = v.apply === true;
  result.full = v.full === true;
  result.pending = v.pending === true;
  result.dryRun = v['dry-run'] === true;
  result.notify = v.notify === true;
  result.filterUpdates = v['filter-updates'] === true;
  const resync = str('resync-interval');
  if (resync !== undefined) {
    const ms = parseDuration(resync);
    if (ms === undefined) return err(bad('resync-interval', resync, 'expected a duration such as 6h, 30m, 90s or 0 (no periodic resync)'));
    result.resyncIntervalMs = ms;
  }
  if (command === 'capture' && parsed.positionals[0] !== 'install' && parsed.positionals[0] !== 'uninstall') {
    return err(usageFailure(`\`levelsync capture\` needs install or uninstall (got ${JSON.stringify(parsed.positionals[0])})`));
  }
  const usersText = str('users');
  if (usersText !== undefined) {
    const n = check('users', usersText, positiveInt(200_000));
    if (n.isErr()) return err(n.error);
    result.users = n.value;
  }
  const seed = str('seed');
  if (seed !== undefined) {
    const s = check('seed', seed, z.string().regex(/^\d+$/, { error: 'must be a whole number' }).transform(Number).pipe(z.number().int().min(0).max(2 ** 32 - 1, { error: 'must be below 2^32' })));
    if (s.isErr()) return err(s.error);
    result.seed = s.value;
  }
  return ok(result);
}

function defaults(command: CommandName, positionals: readonly string[], flags: { help: boolean; json: boolean }) {
  return {
    command,
    positionals,
    help: flags.help,
    json: flags.json,
    mapping: 'levelsync' as MappingName,
    policy: {},
    waitForLock: false,
    limit: 20,
    full: false,
    listLegacy: false,
    apply: false,
    pending: false,
    dryRun: false,
    notify: false,
    filterUpdates: false,
  } as { -readonly [K in keyof CommandArgs]: CommandArgs[K] };
}

/** `6h`, `30m`, `90s`, `500ms` or a bare number of seconds → milliseconds; `0` turns a period off. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = match[2] ?? 's';
  const ms = n * (unit === 'ms' ? 1 : unit === 's' ? 1_000 : unit === 'm' ? 60_000 : 3_600_000);
  return Number.isSafeInteger(ms) && ms <= 30 * 24 * 3_600_000 ? ms : undefined;
}

/** Turns a `parseArgs` exception into one line that names the option and where to look. */
function describeParseError(command: CommandName, cause: unknown): CliFailure {
  const code = (cause as { code?: unknown }).code;
  const message = cause instanceof Error ? cause.message : String(cause);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  const see = `(see levelsync ${command} --help)`;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return usageFailure(`unknown option ${quoted} for \`levelsync ${command}\` ${see}`);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const option = /--[a-z][a-z-]*/.exec(quoted)?.[0] ?? quoted.split(' ')[0] ?? quoted;
    if (/argument missing/.test(message)) return usageFailure(`${option} needs a value ${see}`);
    if (/does not take an argument/.test(message)) return usageFailure(`${option} is a switch and takes no value ${see}`);
    return usageFailure(`bad value for ${option} ${see}`);
  }
  return usageFailure(`${message} ${see}`);
}
