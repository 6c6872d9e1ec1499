import { createReadStream, createWriteStream, existsSync, openSync, closeSync, readSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { err, ok, type Result } from 'neverthrow';
import { describeCause, encodePlanLines, parsePlan, readPlanLines, type PlanStream } from '../index.js';
import type { ReadPlanLinesOptions } from '../sync/plan-lines.js';
import { validationError } from '../errors.js';
import type { PlanParseError } from '../errors.js';
import { streamPlan, type PlanSourceError } from '../sync/plan-stream.js';
import { configFailure, usageFailure, type CliFailure } from './cli-failure.js';

/** The plan file `plan` writes when no `--out` is given. */
export const DEFAULT_PLAN_FILE = 'levelsync-plan.jsonl';

/** A plan file as one JSON document (not JSON Lines) is read whole; above this size it is refused. */
const DOCUMENT_PLAN_LIMIT = 64 * 1024 * 1024;

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

/**
 * Writes a streamed plan as a plan file (JSON Lines) as its pages come: to a temporary file
 * beside it, renamed into place at the end, so a reader never sees half a plan. If the plan
 * fails midway (its scan failed) or the write fails, no file is left behind.
 */
export async function writePlanFile(path: string, plan: PlanStream): Promise<Result<void, CliFailure | PlanSourceError>> {
  const temporary = `${path}.${process.pid}.tmp`;
  let out: ReturnType<typeof createWriteStream> | undefined;
  try {
    out = createWriteStream(temporary, { encoding: 'utf8', flags: 'wx' });
    const failed = new Promise<never>((_, reject) => out!.once('error', reject));
    failed.catch(() => {});
    await Promise.race([once(out, 'open'), failed]);
    for await (const piece of encodePlanLines(plan)) {
      if (piece.isErr()) {
        out.destroy();
        rmSync(temporary, { force: true });
        return err(piece.error);
      }
      if (!out.write(piece.value)) await Promise.race([once(out, 'drain'), failed]);
    }
    await Promise.race([new Promise<void>((done) => out!.end(done)), failed]);
    renameSync(temporary, path);
    return ok(undefined);
  } catch (cause) {
    out?.destroy();
    rmSync(temporary, { force: true });
    return err(configFailure(`cannot write ${path}: ${describeCause(cause)}`));
  }
}

/**
 * Opens a plan file for applying, in bounded memory: a JSON Lines plan file is verified whole
 * (every line, the summary, the fingerprint) by a first pass before anything is returned; the
 * stream returned is the second pass. A plan saved as one JSON document (`JSON.stringify(plan)`)
 * is read whole (up to 64 MiB). Any problem is a usage error and nothing is applied.
 */
export async function openPlanFile(path: string, cwd: string, options: ReadPlanLinesOptions = {}): Promise<Result<PlanStream, CliFailure>> {
  const file = resolve(cwd, path);
  const shown = displayPath(file, cwd);
  const refused = (error: PlanParseError) => {
    const hint = error._tag === 'PlanFingerprintMismatch' || error._tag === 'UnsupportedPlanVersion' ? '' : ': make a new plan with `levelsync plan`';
    return err(usageFailure(`plan file ${shown} was refused: ${error.message}${hint}`));
  };
  let size: number;
  let head: string;
  try {
    size = statSync(file).size;
    head = readHead(file);
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ENOENT') return err(configFailure(`plan file ${shown} does not exist: make one with \`levelsync plan --out ${shown}\``));
    return err(configFailure(`cannot read plan file ${shown}: ${describeCause(cause)}`));
  }
  if (!startsWithHeaderLine(head)) {
    if (size > DOCUMENT_PLAN_LIMIT) {
      return err(usageFailure(`plan file ${shown} was refused: it is not a plan file in JSON Lines (its first line is not a plan header) and too large (${Math.round(size / 1048576)} MiB) to read as one JSON document: make a new plan with \`levelsync plan --out ${shown}\``));
    }
    const plan = parsePlan(readFileSync(file, 'utf8'));
    if (plan.isErr()) return refused(plan.error);
    const checkUserId = options.store?.checkUserId;
    if (checkUserId) {
      const issues = plan.value.actions.flatMap((action, i) => checkUserId(action.userId, `actions[${i}].userId`) ?? []).slice(0, 20);
      if (issues.length > 0) return refused(validationError('plan', issues));
    }
    return ok(streamPlan(plan.value));
  }
  const lines = () => createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    const plan = await readPlanLines(lines, options);
    if (plan.isErr()) return refused(plan.error);
    return ok(plan.value);
  } catch (cause) {
    return err(configFailure(`cannot read plan file ${shown}: ${describeCause(cause)}`));
  }
}

/** The first line of a file (at most 1 MiB of it). */
function readHead(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, n).toString('utf8');
    const end = text.indexOf('\n');
    return end < 0 ? text : text.slice(0, end);
  } finally {
    closeSync(fd);
  }
}

function startsWithHeaderLine(line: string): boolean {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'header';
  } catch {
    return false;
  }
}
