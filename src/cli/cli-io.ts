import { redactSecrets } from '../errors.js';

/** A stream the command writes to. `isTTY` decides colours and progress bars. */
export interface CliStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Everything the command touches in its environment, so that tests can run it in-process. */
export interface CliEnvironment {
  readonly stdout: CliStream;
  readonly stderr: CliStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Standard input, for `--users-file -`. */
  readonly stdin?: AsyncIterable<string | Uint8Array>;
}

/**
 * The command's output: stdout for results (a table, or exactly one JSON document with
 * `--json`), stderr for what it is doing, warnings and errors. Every line passes through a scrub
 * that masks credentials in URLs and any password registered with {@link CliOutput.addSecret}.
 */
export interface CliOutput {
  /** A line of the result on stdout (suppressed with `--json`). */
  out(line?: string): void;
  /** A line of status on stderr. */
  info(line: string): void;
  /** A warning on stderr. */
  warn(line: string): void;
  /** An error on stderr (one line). */
  error(line: string): void;
  /** The one JSON document of a `--json` run. */
  json(document: unknown): void;
  /** Masks this text wherever it would be printed (a password from a URL). */
  addSecret(secret: string): void;
  /** Scrubs a text the way every printed line is scrubbed. */
  scrub(text: string): string;
  readonly jsonMode: boolean;
  readonly color: Colors;
  /** True when stderr is a terminal: progress bars are shown. */
  readonly interactive: boolean;
  readonly stderr: CliStream;
}

/** Minimal styling; identity functions when colour is off. */
export interface Colors {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

const plain: Colors = { bold: (t) => t, dim: (t) => t, red: (t) => t, green: (t) => t, yellow: (t) => t };
const ansi = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const colored: Colors = { bold: ansi(1, 22), dim: ansi(2, 22), red: ansi(31, 39), green: ansi(32, 39), yellow: ansi(33, 39) };

/** Colour only on a terminal, and never when `NO_COLOR` is set (https://no-color.org) or `TERM=dumb`. */
export function useColor(stream: CliStream, env: CliEnvironment['env']): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export function createOutput(environment: CliEnvironment, options: { readonly json: boolean }): CliOutput {
  const secrets = new Set<string>();
  const scrub = (text: string): string => {
    let out = redactSecrets(text);
    for (const secret of secrets) out = out.split(secret).join('***');
    return out;
  };
  const stdoutColor = useColor(environment.stdout, environment.env);
  const stderrColor = useColor(environment.stderr, environment.env);
  const color = stdoutColor && !options.json ? colored : plain;
  const errColor = stderrColor ? colored : plain;
  return {
    jsonMode: options.json,
    color,
    interactive: environment.stderr.isTTY === true,
    stderr: environment.stderr,
    out(line = '') {
      if (!options.json) environment.stdout.write(`${scrub(line)}\n`);
    },
    info(line) {
      environment.stderr.write(`${scrub(line)}\n`);
    },
    warn(line) {
      environment.stderr.write(`${errColor.yellow('warning:')} ${scrub(line)}\n`);
    },
    error(line) {
      environment.stderr.write(`${errColor.red('levelsync:')} ${scrub(line)}\n`);
    },
    json(document) {
      environment.stdout.write(`${scrub(JSON.stringify(document, jsonReplacer, 2))}\n`);
    },
    addSecret(secret) {
      // Very short secrets would mask innocent text; URLs are masked structurally anyway.
      if (secret.length >= 3) secrets.add(secret);
      const decoded = safeDecode(secret);
      if (decoded !== secret && decoded.length >= 3) secrets.add(decoded);
    },
    scrub,
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** JSON of values that may hold Maps, bigints or errors. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
