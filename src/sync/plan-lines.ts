// The plan file's line format (JSON Lines, format v2): encoding, a streaming reader, and the
// two-pass verification of its fingerprint. Over 300 lines because writer, reader and verifier
// must agree byte for byte on one format, and are kept side by side for that reason.
import { createHash } from 'node:crypto';
import { err, ok, type Result } from 'neverthrow';
import { z } from 'zod';
import { SpecializationIdSchema } from '../domain/specialization-id.js';
import { planFingerprintMismatch, unsupportedPlanVersion, validationError, type PlanParseError, type ValidationIssue } from '../errors.js';
import { createLineHasher, stableStringify, type LineHasher } from '../_internal/stable-json.js';
import { toIssues } from '../_internal/zod.js';
import { ACTION_KINDS, type ActionKind, type SyncAction } from './action.js';
import { comparePairKeys } from './pair-key.js';
import type { SyncStore } from './sync-store.js';
import {
  ActionSchema,
  FingerprintSchema,
  PlanHeaderFields,
  PlannedMaxLevelSchema,
  PlanSummarySchema,
  WarningsSchema,
  checkPlanAction,
  type PlanActionContext,
} from './parse-plan.js';
import { PLAN_FORMAT_VERSION, fingerprintHeader, fingerprintTrailer, type PlannedMaxLevel, type SyncPlan } from './plan.js';
import { assemblePlan, collectPlan, streamPlan, type PlanHeader, type PlanPage, type PlanSourceError, type PlanStream, type PlanTrailer } from './plan-stream.js';
import { checkActionPolicy } from './plan-trust.js';

/**
 * The plan file format (version 2): JSON Lines, UTF-8, one JSON object per line, written and
 * read as a stream so that a plan of millions of actions never sits in memory.
 *
 * ```text
 * {"type":"header","formatVersion":2,"createdAt":…,"policy":…,"scope":…,"aliases":…,"maxLevels":…}
 * {"type":"maxLevel","specializationId":"X","maxLevel":5}   (only for a maximum first needed late)
 * {"kind":"SetLicenseLevel","userId":42,…}                   (one action per line, key order)
 * {"type":"trailer","summary":…,"warnings":[…],"fingerprint":"sha256:…"}
 * ```
 *
 * The fingerprint is sha256 over the stable JSON lines of: the header without its maxima, each
 * action, and `{type:"trailer", maxLevels (all of them), summary, warnings}` (see
 * `planFingerprint`). A file without its trailer is truncated and refused.
 */
const LINE_SCHEMAS = once(() => ({
  header: z.strictObject({ type: z.literal('header'), ...PlanHeaderFields }),
  maxLevel: PlannedMaxLevelSchema.extend({ type: z.literal('maxLevel'), specializationId: SpecializationIdSchema }).strict(),
  trailer: z.strictObject({ type: z.literal('trailer'), summary: PlanSummarySchema, warnings: WarningsSchema, fingerprint: FingerprintSchema }),
}));

/** Lines per verified chunk: the second pass of `readPlanLines` holds at most this many. */
const CHUNK_LINES = 1_000;
/** Text handed out by `encodePlanLines` at a time. */
const TEXT_CHUNK = 65_536;

/**
 * True when a text starts with a plan file's header line (JSON Lines), false for a plan as one
 * JSON document.
 */
export function looksLikePlanLines(text: string): boolean {
  const end = text.indexOf('\n');
  const first = (end < 0 ? text : text.slice(0, end)).trim();
  if (!first.startsWith('{')) return false;
  try {
    const value = JSON.parse(first) as unknown;
    return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'header';
  } catch {
    return false;
  }
}

/**
 * A plan as the lines of a plan file, in pieces of text (whole lines, each ending in `\n`) to
 * write as they come. An `err` piece (the scan behind a streamed plan failed) ends it: the
 * caller must discard what it wrote.
 *
 * ```ts
 * const out = createWriteStream('plan.jsonl.tmp');
 * for await (const piece of encodePlanLines(plan)) { if (piece.isErr()) throw …; if (!out.write(piece.value)) await once(out, 'drain'); }
 * ```
 */
export async function* encodePlanLines(plan: SyncPlan | PlanStream): AsyncGenerator<Result<string, PlanSourceError>> {
  const stream = isPlanStream(plan) ? plan : streamPlan(plan);
  const { header } = stream;
  let text = `${stableStringify({ type: 'header', ...header })}\n`;
  for await (const page of stream.pages) {
    if (page.isErr()) {
      yield err(page.error);
      return;
    }
    for (const [specializationId, value] of Object.entries(page.value.maxLevels)) {
      text += `${stableStringify({ type: 'maxLevel', specializationId, ...value })}\n`;
    }
    for (const action of page.value.actions) {
      text += stableStringify(action);
      text += '\n';
      if (text.length >= TEXT_CHUNK) {
        yield ok(text);
        text = '';
      }
    }
  }
  const trailer = stream.trailer();
  if (trailer === undefined) {
    yield err(validationError('plan', [{ field: 'trailer', message: 'is unknown: the plan stream ended before its trailer' }]));
    return;
  }
  text += `${stableStringify({ type: 'trailer', summary: trailer.summary, warnings: trailer.warnings, fingerprint: trailer.fingerprint })}\n`;
  yield ok(text);
}

/** What the first pass over a plan file found: everything but the actions. */
export interface VerifiedPlanFile {
  readonly header: PlanHeader;
  readonly trailer: PlanTrailer;
  /** Lines in the file (blank ones included). */
  readonly lines: number;
  /** sha256 of each chunk of lines, compared again by the second pass. */
  readonly chunkDigests: readonly string[];
}

/**
 * Reads a plan file in two passes, both in bounded memory. The first pass validates every line
 * (shape, per-action checks against the plan's own maxima and policy, key order), the trailer's
 * summary and the fingerprint; nothing is handed out unless the whole file is valid. The
 * returned stream is the second pass: it re-reads the file and compares every chunk of lines
 * with what the first pass verified before handing its actions out, so a file changed in
 * between stops the plan at that chunk (an `err` page) instead of applying what nobody checked.
 *
 * `open` is called once per pass and must give the file's lines (without line ends), e.g.
 * `() => readline.createInterface({ input: createReadStream(path), crlfDelay: Infinity })`.
 *
 * ```ts
 * const plan = await readPlanLines(() => readline.createInterface({ input: createReadStream('plan.jsonl') }));
 * if (plan.isOk()) await applyPlan(plan.value, store);
 * ```
 */
export async function readPlanLines(
  open: () => AsyncIterable<string> | Iterable<string>,
  options: ReadPlanLinesOptions = {},
): Promise<Result<PlanStream, PlanParseError>> {
  const verified = await verifyPlanLines(open(), options);
  if (verified.isErr()) return err(verified.error);
  const file = verified.value;
  return ok({ header: file.header, pages: secondPass(open, file), trailer: () => file.trailer });
}

/** Options of {@link readPlanLines}. */
export interface ReadPlanLinesOptions {
  /**
   * The store the plan will be applied to: every action's user id is checked as it takes them
   * (`SyncStore.checkUserId`) in the first pass, so a file with an id of the wrong type is
   * refused before anything is written (the error names the line).
   */
  readonly store?: Pick<SyncStore, 'checkUserId'>;
}

/** The first pass of {@link readPlanLines}: validates every line, the summary and the fingerprint. */
export async function verifyPlanLines(
  lines: AsyncIterable<string> | Iterable<string>,
  options: ReadPlanLinesOptions = {},
): Promise<Result<VerifiedPlanFile, PlanParseError>> {
  const checkUserId = options.store?.checkUserId;
  // Reported once the file is known intact (as the policy checks are): an accidental edit of an
  // id stays a fingerprint mismatch.
  let userIdIssue: ValidationIssue | undefined;
  const reader = new PlanLineReader();
  const chunkDigests: string[] = [];
  let chunk = createHash('sha256');
  let inChunk = 0;
  for await (const line of lines) {
    const item = reader.feed(line);
    if (item.isErr()) return err(item.error);
    if (item.value !== null && checkUserId && userIdIssue === undefined) {
      const issue = checkUserId(item.value.userId, 'userId');
      if (issue) userIdIssue = { field: `line ${reader.lineNumber}`, message: `userId ${issue.message}` };
    }
    chunk.update(line, 'utf8');
    chunk.update('\n');
    if (++inChunk === CHUNK_LINES) {
      chunkDigests.push(chunk.digest('hex'));
      chunk = createHash('sha256');
      inChunk = 0;
    }
  }
  if (inChunk > 0) chunkDigests.push(chunk.digest('hex'));
  const ended = reader.end();
  if (ended.isErr()) return err(ended.error);
  if (userIdIssue !== undefined) return err(validationError('plan file', [userIdIssue]));
  return ok({ ...ended.value, lines: reader.lineNumber, chunkDigests });
}

async function* secondPass(open: () => AsyncIterable<string> | Iterable<string>, file: VerifiedPlanFile): AsyncGenerator<Result<PlanPage, PlanSourceError>> {
  let lineNumber = 0;
  let chunkIndex = 0;
  let buffer: string[] = [];
  const changed = (what: string): PlanParseError =>
    validationError('plan file', [
      { field: `line ${lineNumber}`, message: `${what} since it was verified (the file was changed while it was being applied): nothing after line ${chunkIndex * CHUNK_LINES} was applied` },
    ]);
  const release = (lines: readonly string[]): PlanPage => {
    const maxLevels: Record<string, PlannedMaxLevel> = {};
    const actions: SyncAction[] = [];
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '') continue;
      const value = JSON.parse(line) as { type?: unknown; specializationId?: string } & PlannedMaxLevel;
      if (value.type === undefined) actions.push(value as unknown as SyncAction);
      else if (value.type === 'maxLevel') {
        const { type: _t, specializationId, ...rest } = value;
        maxLevels[specializationId!] = rest;
      }
    }
    return { maxLevels, actions };
  };
  for await (const line of open()) {
    lineNumber++;
    buffer.push(line);
    if (buffer.length === CHUNK_LINES) {
      if (digestOf(buffer) !== file.chunkDigests[chunkIndex]) {
        yield err(changed('differs'));
        return;
      }
      chunkIndex++;
      yield ok(release(buffer));
      buffer = [];
    }
  }
  if (buffer.length > 0) {
    if (digestOf(buffer) !== file.chunkDigests[chunkIndex]) {
      yield err(changed('differs'));
      return;
    }
    chunkIndex++;
    yield ok(release(buffer));
  }
  if (chunkIndex !== file.chunkDigests.length || lineNumber !== file.lines) yield err(changed('ends early'));
}

function digestOf(lines: readonly string[]): string {
  const hash = createHash('sha256');
  for (const line of lines) {
    hash.update(line, 'utf8');
    hash.update('\n');
  }
  return hash.digest('hex');
}

/**
 * Parses the text of a whole plan file (JSON Lines) into a plan in memory, with every check of
 * {@link readPlanLines}. For small plans; `parsePlan` calls it for JSON Lines text.
 */
export function parsePlanLines(text: string): Result<SyncPlan, PlanParseError> {
  const reader = new PlanLineReader();
  const actions: SyncAction[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    const item = reader.feed(line);
    if (item.isErr()) return err(item.error);
    if (item.value !== null) actions.push(item.value);
  }
  const ended = reader.end();
  if (ended.isErr()) return err(ended.error);
  const { header, trailer } = ended.value;
  return ok(assemblePlan(header, trailer, actions));
}

/**
 * Validates a plan file line by line, keeping only counts, the maxima and the running
 * fingerprint: its memory does not grow with the number of actions. Errors name the line (1-based)
 * and the field: `line 17: write.level`.
 */
export class PlanLineReader {
  lineNumber = 0;
  private header: PlanHeader | undefined;
  private trailer: PlanTrailer | undefined;
  private context: (PlanActionContext & { maxLevels: Record<string, PlannedMaxLevel> }) | undefined;
  private readonly hasher: LineHasher = createLineHasher();
  private readonly counts = new Map<ActionKind, number>();
  private total = 0;
  private previous: SyncAction | undefined;
  /** The first action the plan's own policy forbids, reported once the fingerprint is known good. */
  private policyIssue: ValidationIssue | undefined;

  /** One line (without its line end): the action it holds, or null for any other line. */
  feed(raw: string): Result<SyncAction | null, PlanParseError> {
    this.lineNumber++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return ok(null);
    const at = (field: string, message: string) => err(validationError('plan file', [{ field: `line ${this.lineNumber}${field === '' ? '' : `: ${field}`}`, message }]));
    if (this.trailer !== undefined) return at('', 'comes after the trailer line: a plan file ends with its trailer');
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      return at('', `is not valid JSON (${(cause as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return at('', 'must be a JSON object');
    const type = (value as { type?: unknown }).type;
    const schemas = LINE_SCHEMAS();

    if (this.header === undefined) {
      if (type !== 'header') {
        const version = (value as { formatVersion?: unknown }).formatVersion;
        if (version !== undefined && version !== PLAN_FORMAT_VERSION) return err(unsupportedPlanVersion(version, PLAN_FORMAT_VERSION));
        return at('type', 'the first line must be the plan header ({"type":"header","formatVersion":2,…})');
      }
      const version = (value as { formatVersion?: unknown }).formatVersion;
      if (version !== PLAN_FORMAT_VERSION) {
        if (version === undefined) return at('formatVersion', 'is required');
        return err(unsupportedPlanVersion(version, PLAN_FORMAT_VERSION));
      }
      const parsed = schemas.header.safeParse(value);
      if (!parsed.success) return this.issues(parsed.error);
      const { type: _type, ...header } = parsed.data as unknown as PlanHeader & { type: 'header' };
      this.header = header;
      this.context = { maxLevels: { ...header.maxLevels }, aliases: header.aliases, policy: header.policy };
      this.hasher.line(fingerprintHeader(header));
      return ok(null);
    }
    const context = this.context!;

    if (type === 'maxLevel') {
      const parsed = schemas.maxLevel.safeParse(value);
      if (!parsed.success) return this.issues(parsed.error);
      const { type: _type, specializationId, ...maxLevel } = parsed.data;
      if (context.maxLevels[specializationId] !== undefined) return at('specializationId', `${specializationId} already has a maximum level in this plan`);
      context.maxLevels[specializationId] = maxLevel as PlannedMaxLevel;
      return ok(null);
    }
    if (type === 'trailer') {
      const parsed = schemas.trailer.safeParse(value);
      if (!parsed.success) return this.issues(parsed.error);
      const { summary, warnings, fingerprint } = parsed.data as unknown as PlanTrailer;
      for (const kind of ACTION_KINDS) {
        const counted = this.counts.get(kind) ?? 0;
        if (summary.actions[kind] !== counted) return at(`summary.actions.${kind}`, `must equal the number of ${kind} actions (${counted})`);
      }
      if (summary.actions.total !== this.total) return at('summary.actions.total', `must equal the number of actions (${this.total})`);
      const maxLevels = Object.fromEntries(Object.entries(context.maxLevels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      this.hasher.line(fingerprintTrailer({ maxLevels, summary, warnings }));
      const actual = this.hasher.digest();
      if (actual !== fingerprint) return err(planFingerprintMismatch(fingerprint, actual));
      if (this.policyIssue !== undefined) return err(validationError('plan file', [this.policyIssue]));
      this.trailer = { maxLevels, summary, warnings, fingerprint };
      return ok(null);
    }
    if (type !== undefined) return at('type', `must be header, maxLevel or trailer (an action line has no type), not ${JSON.stringify(type)}`);

    const parsed = ActionSchema.safeParse(value);
    if (!parsed.success) return this.issues(parsed.error);
    const action = parsed.data as unknown as SyncAction;
    const issues: ValidationIssue[] = [];
    checkPlanAction(action, context, `line ${this.lineNumber}: `, issues, { policy: false });
    if (issues.length > 0) return err(validationError('plan file', issues));
    // What the plan's own policy forbids is reported after the fingerprint is checked (an
    // accidental edit is a fingerprint mismatch; a re-fingerprinted one is named here).
    if (this.policyIssue === undefined) this.policyIssue = checkActionPolicy(action, context, `line ${this.lineNumber}: `)[0];
    if (this.previous !== undefined && comparePairKeys(this.previous, action) > 0) {
      return at('userId', 'is out of key order (actions are sorted by user id, then specialization id)');
    }
    this.previous = action;
    this.counts.set(action.kind, (this.counts.get(action.kind) ?? 0) + 1);
    this.total++;
    this.hasher.line(action);
    return ok(action);
  }

  /** After the last line: the header and the trailer, or why the file is incomplete. */
  end(): Result<{ readonly header: PlanHeader; readonly trailer: PlanTrailer }, PlanParseError> {
    if (this.header === undefined) return err(validationError('plan file', [{ field: 'line 1', message: 'is missing: the file is empty' }]));
    if (this.trailer === undefined) {
      return err(
        validationError('plan file', [
          {
            field: `line ${this.lineNumber + 1}`,
            message: 'the trailer line is missing: the file is truncated (an interrupted write or copy); make a new plan',
          },
        ]),
      );
    }
    return ok({ header: this.header, trailer: this.trailer });
  }

  private issues(error: z.ZodError): Result<never, PlanParseError> {
    return err(validationError('plan file', toIssues(error).map((issue) => ({ ...issue, field: `line ${this.lineNumber}: ${issue.field}` }))));
  }
}

/** Reads a whole plan file's lines into a plan in memory (small plans, tools, tests). */
export async function readPlanLinesToPlan(open: () => AsyncIterable<string> | Iterable<string>): Promise<Result<SyncPlan, PlanSourceError>> {
  const stream = await readPlanLines(open);
  if (stream.isErr()) return err(stream.error);
  return collectPlan(stream.value);
}

function isPlanStream(plan: SyncPlan | PlanStream): plan is PlanStream {
  return 'pages' in plan && 'header' in plan;
}

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
