import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = `${ROOT}src/cli/main.ts`;
const TSX = pathToFileURL(`${ROOT}node_modules/tsx/dist/loader.mjs`).href;

/** A `levelsync` process under the test's control (signals, SIGSTOP), with its output collected. */
export interface CliChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited: its exit code (or 128 + signal), stdout and stderr. */
  readonly done: Promise<{ code: number; stdout: string; stderr: string }>;
  stdout(): string;
  stderr(): string;
}

export function spawnLevelsync(args: readonly string[], options: { readonly cwd: string; readonly env?: Record<string, string> }): CliChild {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...(options.env ?? {}) };
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => {
      const signals: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
      resolve({ code: code ?? 128 + (signal ? (signals[signal] ?? 0) : 0), stdout: out, stderr: err });
    });
  });
  return { child, pid: child.pid!, done, stdout: () => out, stderr: () => err };
}

/** Polls `condition` every 50 ms until it holds (bounded by the test's own timeout). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, limitMs = 120_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
