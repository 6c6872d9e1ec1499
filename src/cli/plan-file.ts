import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import { describeCause, parsePlan, type SyncPlan } from '../index.js';
import { configFailure, usageFailure, type CliFailure } from './cli-failure.js';

/** The plan file `plan` writes when no `--out` is given. */
export const DEFAULT_PLAN_FILE = 'levelsync-plan.json';

/** Writes a file atomically: a reader never sees half a plan, and a failed write leaves no file. */
export function writeFileAtomically(path: string, text: string): Result<void, CliFailure> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text, { encoding: 'utf8', flag: 'wx' });
    renameSync(temporary, path);
    return ok(undefined);
  } catch (cause) {
    rmSync(temporary, { force: true });
    return err(configFailure(`cannot write ${path}: ${describeCause(cause)}`));
  }
}

/** Fails early (before any scan) when the plan could not be written there. */
export function checkWritable(file: string, cwd: string): Result<void, CliFailure> {
  const shown = displayPath(file, cwd);
  if (!existsSync(dirname(file))) return err(usageFailure(`--out ${shown}: the folder ${displayPath(dirname(file), cwd)} does not exist`));
  if (existsSync(file) && statSync(file).isDirectory()) return err(usageFailure(`--out ${shown} is a folder: give a file name`));
  return ok(undefined);
}

/** A path as the user should type it from the working directory. */
export function displayPath(path: string, cwd: string): string {
  const shown = relative(cwd, path);
  return shown === '' || shown.startsWith('..') || isAbsolute(shown) ? path : shown;
}

/** Reads and validates a plan file; any problem is a usage error and nothing is applied. */
export function readPlanFile(path: string, cwd: string): Result<SyncPlan, CliFailure> {
  const file = resolve(cwd, path);
  const shown = displayPath(file, cwd);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ENOENT') return err(configFailure(`plan file ${shown} does not exist: make one with \`levelsync plan --out ${shown}\``));
    return err(configFailure(`cannot read plan file ${shown}: ${describeCause(cause)}`));
  }
  const plan = parsePlan(text);
  if (plan.isErr()) {
    const hint = plan.error._tag === 'PlanFingerprintMismatch' ? '' : ': make a new plan with `levelsync plan`';
    return err(usageFailure(`plan file ${shown} was refused: ${plan.error.message}${hint}`));
  }
  return ok(plan.value);
}
