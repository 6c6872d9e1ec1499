// The `levelsync` command. Thin: `runCli` parses, calls the library and prints; this file only
// wires it to the process (streams, environment, signals, exit code).
import { runCli } from './run-cli.js';

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
const controller = new AbortController();
let applying = false;

// SIGINT (Ctrl-C) and SIGTERM (systemd, Kubernetes, docker stop): the first one stops the work at
// the next safe point (between batches, or at once while scanning or waiting for a lock) and the
// command still prints its report (with --json: one document, marked interrupted); committed
// batches stay committed. A second signal exits at once.
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    if (controller.signal.aborted) process.exit(128 + SIGNAL_NUMBERS[name]);
    controller.abort(name);
    process.stderr.write(
      applying
        ? `\n${name}: stopping after the current batch (send it again to quit now)…\n`
        : `\n${name}: stopping (send it again to quit now)…\n`,
    );
  });
}

// A closed pipe (`levelsync check | head -1`) ends the output quietly: nothing more is written
// there, and the command finishes its work (an apply is never cut in the middle by a reader).
const quiet = new WeakSet<NodeJS.WriteStream>();
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      quiet.add(stream);
      return;
    }
    throw error;
  });
}
const guarded = (stream: NodeJS.WriteStream) => ({
  isTTY: stream.isTTY,
  write: (text: string) => (quiet.has(stream) ? true : stream.write(text)),
});

const code = await runCli(
  process.argv.slice(2),
  { stdout: guarded(process.stdout), stderr: guarded(process.stderr), env: process.env, cwd: process.cwd(), stdin: process.stdin },
  { signal: controller.signal, onApplying: (value) => (applying = value) },
);
process.exitCode = code;
// Work left behind by an interrupted step (a lock wait, a query PGlite cannot cancel) must not
// keep the process alive once the command has reported. But the report goes first: on a pipe,
// what the reader has not taken yet (a full pipe buffer: 64 KiB) is queued in the process, and
// `process.exit` would drop it, cutting the one JSON document in the middle. (A second signal
// still exits at once.)
if (controller.signal.aborted) {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

/** Resolves once everything written to the stream so far has been handed to the OS (or the stream failed). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (quiet.has(stream) || stream.destroyed || stream.writableLength === 0) return Promise.resolve();
  // Writes complete in order: the callback of an empty write runs once every earlier one has.
  return new Promise((resolve) => stream.write('', () => resolve()));
}
