import cliProgress from 'cli-progress';
import type { CliOutput } from './cli-io.js';

/** A progress display: a cli-progress bar on a terminal, nothing otherwise. */
export interface ProgressDisplay {
  update(value: number, total?: number): void;
  stop(): void;
}

const NONE: ProgressDisplay = { update: () => {}, stop: () => {} };

/**
 * A bar on stderr when stderr is a terminal (never in pipes, CI logs or tests), in plain ASCII
 * without colours. `total` may be unknown at first (a scan that only reads differing pairs):
 * then the bar shows a running count.
 */
export function createProgress(out: CliOutput, label: string, unit: string, total?: number): ProgressDisplay {
  if (!out.interactive) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      format: total === undefined ? `${label} {value} ${unit}` : `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted}`,
      stream: out.stderr as unknown as NodeJS.WritableStream,
      barCompleteChar: '#',
      barIncompleteChar: '-',
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
      noTTYOutput: false,
    },
    cliProgress.Presets.legacy,
  );
  bar.start(total ?? 0, 0);
  let stopped = false;
  return {
    update(value, newTotal) {
      if (stopped) return;
      if (newTotal !== undefined) bar.setTotal(newTotal);
      bar.update(value);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
