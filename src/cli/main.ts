// The `levelsync` command. Thin: `runCli` parses, calls the library and prints; this file only
// wires it to the process (streams, environment, Ctrl-C, exit code).
import { runCli } from './run-cli.js';

const controller = new AbortController();
let applying = false;
process.on('SIGINT', () => {
  if (applying && !controller.signal.aborted) {
    controller.abort();
    process.stderr.write('\nStopping after the current batch (Ctrl-C again to quit now)…\n');
    return;
  }
  process.exit(130);
});

// SIGTERM (a service manager stopping us): like Ctrl-C, let a running batch finish.
process.on('SIGTERM', () => {
  if (applying && !controller.signal.aborted) {
    controller.abort();
    return;
  }
  process.exit(143);
});

const code = await runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() },
  { signal: controller.signal, onApplying: (value) => (applying = value) },
);
process.exitCode = code;
