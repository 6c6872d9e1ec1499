import type { CliOutput, CliStream } from './cli-io.js';

/** A progress display: a one-line bar on a terminal, nothing otherwise. */
export interface ProgressDisplay {
  update(value: number, total?: number): void;
  stop(): void;
}

const NONE: ProgressDisplay = { update: () => {}, stop: () => {} };
const WIDTH = 30;
const FRAME_MS = 200;

/**
 * The bar's line, in plain ASCII: `label [#####-----] 50% | 5/10 unit | 3s`, or, while the total is
 * unknown, `label 5 unit | 3s`.
 */
export function renderProgressLine(label: string, unit: string, value: number, total: number | undefined, elapsedMs: number): string {
  const elapsed = formatElapsed(elapsedMs);
  if (total === undefined || total <= 0) return `${label} ${value} ${unit} | ${elapsed}`;
  const ratio = Math.min(1, Math.max(0, value / total));
  const filled = Math.round(ratio * WIDTH);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${Math.floor(ratio * 100)}% | ${value}/${total} ${unit} | ${elapsed}`;
}

function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * A bar on stderr when stderr is a terminal (never in pipes, CI logs or tests), in plain ASCII
 * without colours, redrawn at most five times a second and erased when it stops. `total` may be
 * unknown at first (a scan that only reads differing pairs): then the bar shows a running count.
 */
export function createProgress(out: CliOutput, label: string, unit: string, total?: number, clock: () => number = Date.now): ProgressDisplay {
  if (!out.interactive) return NONE;
  return createTerminalProgress(out.stderr, label, unit, total, clock);
}

/** The bar itself, on any stream (exported for tests). */
export function createTerminalProgress(stream: CliStream, label: string, unit: string, total: number | undefined, clock: () => number): ProgressDisplay {
  const started = clock();
  let current = 0;
  let known = total;
  let lastDraw = -Infinity;
  let width = 0;
  let stopped = false;
  const draw = () => {
    const line = renderProgressLine(label, unit, current, known, clock() - started);
    // \r returns to the line's start; padding erases a longer previous line.
    stream.write(`\r${line.padEnd(width)}`);
    width = line.length;
    lastDraw = clock();
  };
  stream.write('\u001b[?25l'); // hide the cursor while drawing
  draw();
  return {
    update(value, newTotal) {
      if (stopped) return;
      current = value;
      if (newTotal !== undefined) known = newTotal;
      if (clock() - lastDraw >= FRAME_MS) draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      stream.write(`\r${' '.repeat(width)}\r\u001b[?25h`);
    },
  };
}
