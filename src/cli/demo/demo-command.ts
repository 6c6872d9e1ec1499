// `levelsync demo`: builds the original system's tables with planted drift, then walks the user
// through check, plan, apply and health on them. Over 300 lines because it is one guided story
// (the steps print in order and share the demo's database and timings); the data and the schema
// it seeds are in demo-data.ts and demo-schema.ts.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import {
  createMaxLevelResolver,
  createPlan,
  renderPlan,
  type DesyncKind,
  type DesyncScan,
  type FlagReason,
  type SyncPlan,
} from '../../index.js';
import { healthReport, type HealthReport } from '../../sync/health.js';
import { pairKeyId } from '../../sync/pair-key.js';
import { createPgMapping, createPgMaxLevelRepository, createPgSyncStore, ORIGINAL_SYSTEM_MAPPING, type PgConnection } from '../../pg/index.js';
import { applyExitCode, applyStep, printApplyReport } from '../apply-step.js';
import type { CliBackend, CommandContext } from '../cli-backend.js';
import { EXIT, configFailure, usageFailure, type CliFailure } from '../cli-failure.js';
import type { CommandArgs } from '../cli-options.js';
import { checkReport } from '../commands/check-command.js';
import { displayPath, writeFileAtomically } from '../plan-file.js';
import { resolveTarget } from '../connection-target.js';
import { countByKind, describeDesync, formatCount, formatDuration, pairsNeedingWork, plural } from '../format.js';
import { formatTable } from '../../_internal/format-table.js';
import type { DataDirLock } from '../data-dir-lock.js';
import { isDataDir, lockEmbeddedFolder, openDatabase, startTicker, type OpenDatabase } from '../open-database.js';
import { countStep, scanStep } from '../scan-step.js';
import { DEMO_UNKNOWN_SPECIALIZATION, generateDemoData, type DemoData } from './demo-data.js';
import { createDemoTables, recreateDemoSchema, seedOriginalSchema } from './demo-schema.js';

export const DEMO_DATA_DIR = '.levelsync/demo';
export const DEMO_SERVER_SCHEMA = 'levelsync_demo';
/** The file that marks a folder as the demo's own (so that a re-run may recreate it). */
export const DEMO_MARKER = 'LEVELSYNC_DEMO';

/** What each kind of desync is in the demo's story (the original system's incidents). */
const STORY: Readonly<Record<DesyncKind, string>> = {
  LevelMismatch: 'progress and license differ: a level-up hook failed, or staff advanced a license by hand',
  MissingLicense: 'progress without a license: a bulk import skipped the licenses',
  MissingProgress: 'a license without progress: a failed advancement created the license anyway',
  DuplicateRecord: 'two progress rows for one learner: a migration duplicated them (no unique key)',
  AboveMaxLevel: 'internship licenses at 4 or 5: left over from the old five-level ladder (maximum 3)',
  InvalidLevel: 'progress with a NULL level (the column is nullable)',
  MaxAchievedBelowLevel: "a license whose highest achieved level is below its current level",
  UnknownSpecialization: `${DEMO_UNKNOWN_SPECIALIZATION}: a semester-only id whose max_levels is NULL; nobody knows its maximum`,
  UnreadableRecord: 'rows whose values levelsync could not read (flagged for review)',
  LegacySpecializationId: 'rows still stored under PLAYER after the rename to GANCUJU_PLAYER (information only)',
};

/** Why a flagged action is left to a person, by its first reason. */
const REVIEW: Readonly<Partial<Record<FlagReason, string>>> = {
  SpecializationRowMissing: 'records to create under a specialization with no row in the specializations table (its foreign key would refuse them)',
  DuplicateRecord: 'duplicate progress rows: clean them up first (levelsync/pg cleanupDuplicates keeps the best row and archives the rest)',
  AboveMaxLevel: 'levels above the maximum: a person decides, or plan with --above-max clamp',
  UnknownSpecialization: `${DEMO_UNKNOWN_SPECIALIZATION} has no maximum level: give it one in the specializations table (or the catalog)`,
  InvalidLevel: 'NULL levels: a person sets the right level',
  LevelMismatch: 'changes that would lower a level (the policy never demotes)',
  MissingLicense: 'missing licenses (policy: flag)',
  MissingProgress: 'missing progress records (policy: flag)',
};

interface Timings {
  database: number;
  seed: number;
  total: number;
}

/**
 * `levelsync demo`: a fresh embedded database (or a dedicated schema on a server) holding the
 * original system's tables and several thousand learners with every kind of desync, then
 * check → plan → apply → check and a summary. Deterministic: the same seed gives the same data.
 */
export async function demoCommand(args: CommandArgs, ctx: CommandContext): Promise<Result<number, CliFailure>> {
  const started = Date.now();
  const { out, environment } = ctx;
  const learners = args.users ?? 4_000;
  const seed = args.seed ?? 42;
  const target = resolveTarget({ ...(args.databaseUrl ? { databaseUrl: args.databaseUrl } : {}), ...(args.dataDir ? { dataDir: args.dataDir } : {}) }, environment.env, environment.cwd, {
    dataDir: DEMO_DATA_DIR,
    ignoreEnv: true,
  });
  if (target.isErr()) return err(target.error);
  const where = target.value;
  const schema = args.schema ?? (where.kind === 'embedded' ? 'public' : DEMO_SERVER_SCHEMA);

  // The demo's own folder (it carries the demo's marker) is recreated on every run; any other
  // folder, an embedded database of yours included, is never deleted. The folder is locked before
  // it is deleted: a second demo (or any command) on it meanwhile is refused, not corrupted.
  let heldLock: DataDirLock | undefined;
  if (where.kind === 'embedded') {
    mkdirSync(dirname(where.dataDir), { recursive: true });
    const locked = lockEmbeddedFolder(where.dataDir, where.display);
    if (locked.isErr()) return err(locked.error);
    heldLock = locked.value;
    if (existsSync(where.dataDir) && readdirSync(where.dataDir).length > 0) {
      if (!isDataDir(where.dataDir) || !existsSync(join(where.dataDir, DEMO_MARKER))) {
        heldLock.release();
        return err(configFailure(`${where.display} exists and was not made by \`levelsync demo\`: choose another --data-dir (the demo only recreates its own folder)`));
      }
      rmSync(where.dataDir, { recursive: true, force: true });
    }
  }
  const planFile =
    where.kind === 'embedded' ? join(dirname(where.dataDir), `${basename(where.dataDir)}-plan.json`) : join(environment.cwd, '.levelsync', 'demo-plan.json');

  out.out(out.color.bold('levelsync demo'));
  out.out("A school tracks each learner's level twice: a progress record that climbs with XP and sessions,");
  out.out('and a license that staff advance by hand. The two drift apart. This demo builds the original');
  out.out(`system's tables with ${formatCount(learners)} learners, plants every kind of drift, and lets levelsync repair it.`);
  out.out();

  const dbStarted = Date.now();
  const opened = await openDatabase(where, out, { create: true, ...(heldLock ? { heldLock } : {}) });
  if (opened.isErr()) {
    heldLock?.release(); // idempotent: openDatabase may have released it already
    return err(opened.error);
  }
  const db = opened.value;
  if (db.kind === 'embedded') writeFileSync(join(db.target.dataDir, DEMO_MARKER), 'Made by `levelsync demo`, which deletes and recreates this folder on its next run.\n');
  const timings: Timings = { database: Date.now() - dbStarted, seed: 0, total: 0 };
  try {
    return await runDemo(args, ctx, db, { schema, learners, seed, planFile, timings, started });
  } finally {
    await db.close();
  }
}

async function runDemo(
  args: CommandArgs,
  ctx: CommandContext,
  db: OpenDatabase,
  options: { schema: string; learners: number; seed: number; planFile: string; timings: Timings; started: number },
): Promise<Result<number, CliFailure>> {
  const { out, environment } = ctx;
  const c = out.color;
  const { schema, timings } = options;
  const connection: PgConnection = db.connection;

  // 1. Tables and data.
  const data = generateDemoData({ learners: options.learners, seed: options.seed });
  const seedStarted = Date.now();
  const stop = startTicker(out, `Seeding ${formatCount(data.learners)} learners into the original system's tables (schema ${schema})`);
  try {
    if (db.kind === 'embedded' && schema === 'public') await createDemoTables(connection.run, schema);
    else if (!(await recreateDemoSchema(connection.run, schema))) {
      stop(false);
      return err(usageFailure(`schema ${schema} exists and was not made by \`levelsync demo\`: pass --schema with another name (the demo only drops its own schema)`));
    }
    await seedOriginalSchema(connection.run, schema, data);
  } catch (cause) {
    stop(false);
    return err(configFailure(`could not create the demo tables in schema ${schema}: ${(cause as Error).message}`));
  }
  stop(true);
  timings.seed = Date.now() - seedStarted;

  const mapping = createPgMapping({ schema }, ORIGINAL_SYSTEM_MAPPING);
  if (mapping.isErr()) return err(usageFailure(mapping.error.message));
  const backend: CliBackend = {
    target: db.kind === 'server' ? `${db.target.display} (schema ${schema})` : `the embedded database in ${db.target.display}`,
    mapping: 'original',
    store: createPgSyncStore(connection, { mapping: mapping.value }),
    resolver: createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(connection, { mapping: mapping.value })] }),
    migrate: async () => err(usageFailure('not used by the demo')),
    close: async () => {},
  };
  out.out(
    `Seeded ${plural(data.progress.length, 'progress row')}, ${plural(data.licenses.length, 'license')} and ${plural(data.progressions.length, 'license history row')} ` +
      `(seed ${data.seed}).`,
  );
  out.out();

  // 2. check
  const scanArgs: CommandArgs = { ...args, mapping: 'original' };
  out.out(c.bold('Step 1/4  check: find every desync'));
  const first = await scanStep(scanArgs, backend, ctx);
  if (first.isErr()) return err(first.error);
  const total = await countStep(scanArgs, backend, first.value);
  if (total.isErr()) return err(total.error);
  const before = checkReport(first.value, total.value);
  const healthBefore = healthReport({ totalPairs: before.totalPairs, desyncs: first.value.desyncs });
  printStories(ctx, first.value, before.pairsNeedingWork, before.totalPairs);
  out.out();
  printExamples(ctx, first.value);
  out.out(`  Health: ${healthBefore.status}, ${healthBefore.consistencyRate.toFixed(2)} % of pairs consistent.`);
  out.out();

  // 3. plan
  out.out(c.bold('Step 2/4  plan: decide what to do, for a person to review'));
  const planned = createPlan(first.value, { policy: {} });
  if (planned.isErr()) return err(usageFailure(planned.error.message));
  const plan = planned.value;
  mkdirSync(dirname(options.planFile), { recursive: true });
  const written = writeFileAtomically(options.planFile, `${JSON.stringify(plan, null, 2)}\n`);
  if (written.isErr()) return err(written.error);
  const planShown = displayPath(options.planFile, environment.cwd);
  for (const line of renderPlan(plan, { limit: 12 }).split('\n')) out.out(`  ${line}`);
  const naive = naiveDemotions(first.value);
  out.out();
  out.out(`  Saved as ${planShown}. The policy is higher-wins: the lower record is raised, nothing is ever lowered.`);
  if (naive > 0) {
    out.out(
      `  The original's 6-hour job (progress → license) would have ${c.bold(`lowered ${plural(naive, 'license')}`)} that staff had advanced by hand; levelsync raises their progress instead.`,
    );
  }
  out.out();

  // 4. apply
  out.out(c.bold(`Step 3/4  apply: write the plan (compare-and-set, in batches)`));
  const applied = await applyStep(plan, backend, ctx, {});
  if (applied.isErr()) return err(applied.error);
  const report = applied.value;
  printApplyReport(out, plan, report, 20, '  ');
  out.out();

  // 5. check again
  out.out(c.bold('Step 4/4  check again'));
  const second = await scanStep(scanArgs, backend, ctx);
  if (second.isErr()) return err(second.error);
  const totalAfter = await countStep(scanArgs, backend, second.value);
  if (totalAfter.isErr()) return err(totalAfter.error);
  const after = checkReport(second.value, totalAfter.value);
  const healthAfter = healthReport({ totalPairs: after.totalPairs, desyncs: second.value.desyncs });
  const leftKinds = Object.entries(after.counts)
    .filter(([k, n]) => k !== 'total' && k !== 'LegacySpecializationId' && n > 0)
    .map(([k, n]) => `${k} ${formatCount(n)}`);
  out.out(
    after.pairsNeedingWork === 0
      ? `  In sync: no desyncs in ${plural(after.totalPairs, 'pair')}.`
      : `  ${plural(after.pairsNeedingWork, 'pair')} of ${formatCount(after.totalPairs)} still differ, exactly the ones flagged for review above (${leftKinds.join(', ')}).`,
  );
  out.out(`  Health: ${healthAfter.status}, ${healthAfter.consistencyRate.toFixed(2)} % of pairs consistent.`);
  out.out();

  timings.total = Date.now() - options.started;
  const fixed = fixedByKind(plan, report.outcomes.filter((o) => o.status === 'Applied').map((o) => o.index));
  const review = reviewByReason(plan);
  const exitCode = applyExitCode(report);
  if (out.jsonMode) {
    out.json({
      command: 'demo',
      target: backend.target,
      mapping: 'original',
      schema,
      seed: data.seed,
      learners: data.learners,
      rows: { progress: data.progress.length, licenses: data.licenses.length, progressions: data.progressions.length },
      planted: data.planted,
      before: { totalPairs: before.totalPairs, pairsNeedingWork: before.pairsNeedingWork, counts: before.counts, health: healthSummary(healthBefore) },
      plan: { file: planShown, fingerprint: plan.fingerprint, summary: plan.summary, warnings: plan.warnings },
      naiveJobWouldLowerLicenses: naive,
      apply: { status: report.status, counts: report.counts, batches: report.batches.length, durationMs: report.durationMs },
      fixed,
      leftForReview: review.map(([reason, count]) => ({ reason, count, what: REVIEW[reason] ?? reason })),
      after: { totalPairs: after.totalPairs, pairsNeedingWork: after.pairsNeedingWork, counts: after.counts, health: healthSummary(healthAfter) },
      durationsMs: timings,
      exitCode,
    });
    return ok(exitCode);
  }

  printSummary(ctx, { data, before, after, healthBefore, healthAfter, fixed, review, naive, timings, first: first.value });
  printNextSteps(ctx, db, schema, planShown);
  return ok(exitCode);
}


function healthSummary(h: HealthReport) {
  return { status: h.status, consistencyRate: h.consistencyRate, consistentPairs: h.consistentPairs, inconsistentPairs: h.inconsistentPairs };
}

/** The desyncs found, by kind, each with what happened in the original system. */
function printStories(ctx: CommandContext, scan: DesyncScan, pairs: number, totalPairs: number): void {
  const counts = countByKind(scan.desyncs);
  const rows = (Object.keys(STORY) as DesyncKind[]).filter((k) => counts[k] > 0);
  const width = Math.max(...rows.map((k) => k.length));
  const numbers = Math.max(...rows.map((k) => formatCount(counts[k]).length));
  const info = counts.LegacySpecializationId;
  ctx.out.out(`  ${plural(counts.total - info, 'desync')} in ${formatCount(pairs)} of ${plural(totalPairs, 'pair')} (user, specialization):`);
  for (const kind of rows) {
    if (kind === 'LegacySpecializationId') continue;
    ctx.out.out(`    ${kind.padEnd(width)}  ${formatCount(counts[kind]).padStart(numbers)}  ${STORY[kind]}`);
  }
  if (info > 0) ctx.out.out(`  Information: ${plural(info, 'record')} still stored under PLAYER after the rename to GANCUJU_PLAYER (they block nothing).`);
}

/** One example of each kind, as `check` prints them. */
function printExamples(ctx: CommandContext, scan: DesyncScan): void {
  const seen = new Set<DesyncKind>();
  const table: string[][] = [['user', 'specialization', 'problem', 'detail']];
  for (const d of scan.desyncs) {
    if (seen.has(d.kind)) continue;
    seen.add(d.kind);
    table.push([String(d.userId), d.specializationId, d.kind, describeDesync(d)]);
  }
  ctx.out.out('  One example of each, as `check` lists them:');
  for (const line of formatTable(table, { indent: '    ' })) ctx.out.out(line);
}

/** License demotions a progress→license job allowed to demote would plan (the original's job). */
function naiveDemotions(scan: DesyncScan): number {
  const naive = createPlan(scan, { policy: { direction: 'progress-to-license', allowDemotion: true } });
  if (naive.isErr()) return 0;
  return naive.value.actions.filter((a) => a.kind === 'SetLicenseLevel' && typeof a.expected.license?.level === 'number' && a.write.level < a.expected.license.level).length;
}

/** What the applied actions did, in words a person reads. */
function fixedByKind(plan: SyncPlan, applied: readonly number[]) {
  const fixed = { licensesRaised: 0, progressRaised: 0, licensesCreated: 0, progressCreated: 0, maxAchievedRaised: 0, pairs: 0 };
  const pairs = new Set<string>();
  for (const index of applied) {
    const a = plan.actions[index]!;
    pairs.add(pairKeyId(a));
    switch (a.kind) {
      case 'CreateLicense':
        fixed.licensesCreated++;
        break;
      case 'CreateProgress':
        fixed.progressCreated++;
        break;
      case 'SetProgressLevel':
        fixed.progressRaised++;
        break;
      case 'SetLicenseLevel':
        if (a.write.level !== a.expected.license?.level) fixed.licensesRaised++;
        else fixed.maxAchievedRaised++;
        break;
      case 'FlagForReview':
        break;
    }
  }
  fixed.pairs = pairs.size;
  return fixed;
}

/** Flagged actions grouped by their first reason, most frequent first. */
function reviewByReason(plan: SyncPlan): [FlagReason, number][] {
  const counts = new Map<FlagReason, number>();
  for (const a of plan.actions) if (a.kind === 'FlagForReview') counts.set(a.reasons[0]!, (counts.get(a.reasons[0]!) ?? 0) + 1);
  return [...counts].sort((x, y) => y[1] - x[1]);
}

function printSummary(
  ctx: CommandContext,
  s: {
    data: DemoData;
    before: ReturnType<typeof checkReport>;
    after: ReturnType<typeof checkReport>;
    healthBefore: HealthReport;
    healthAfter: HealthReport;
    fixed: ReturnType<typeof fixedByKind>;
    review: [FlagReason, number][];
    naive: number;
    timings: Timings;
    first: DesyncScan;
  },
): void {
  const { out } = ctx;
  const c = out.color;
  const f = s.fixed;
  out.out(c.bold('Summary'));
  out.out(
    `  Found      ${plural(s.before.pairsNeedingWork, 'pair')} out of sync among ${formatCount(s.before.totalPairs)} ` +
      `(${s.healthBefore.consistencyRate.toFixed(2)} % consistent, ${s.healthBefore.status}).`,
  );
  const fixes: [number, string][] = [
    [f.licensesRaised, 'licenses raised to their progress level (a level-up hook had failed)'],
    [f.progressRaised, 'progress levels raised to their license (staff had advanced the license)'],
    [f.licensesCreated, 'missing licenses created from progress'],
    [f.progressCreated, 'missing progress records created from the license'],
    [f.maxAchievedRaised, 'max-achieved levels corrected'],
  ];
  out.out(`  Fixed      ${plural(f.pairs, 'pair')}, every license change with its history row:`);
  for (const [count, what] of fixes) if (count > 0) out.out(`             ${formatCount(count).padStart(5)}  ${what}`);
  if (s.naive > 0) out.out(`  Protected  ${plural(s.naive, 'license')} advanced by staff, which a progress→license job would have lowered.`);
  const left = s.review.reduce((n, [, k]) => n + k, 0);
  out.out(`  Review     ${plural(left, 'pair')} left for a person, nothing written to them:`);
  for (const [reason, count] of s.review) out.out(`             ${formatCount(count).padStart(5)}  ${REVIEW[reason] ?? reason}`);
  const legacy = countByKind(s.first.desyncs).LegacySpecializationId;
  if (legacy > 0) out.out(`  Info       ${plural(legacy, 'record')} under the legacy id PLAYER, paired with GANCUJU_PLAYER; migrate them when convenient.`);
  out.out(
    `  Now        ${s.healthAfter.consistencyRate.toFixed(2)} % consistent (${s.healthAfter.status}); ${plural(pairsNeedingWork(s.first.desyncs) - f.pairs, 'pair')} need a person.`,
  );
  out.out(
    `  Took       ${formatDuration(s.timings.total)} (database start ${formatDuration(s.timings.database)}, seeding ${formatDuration(s.timings.seed)}).`,
  );
  out.out();
}

function printNextSteps(ctx: CommandContext, db: OpenDatabase, schema: string, planFile: string): void {
  const { out, environment } = ctx;
  const viaNpm = environment.env.npm_lifecycle_event === 'demo';
  const cli = viaNpm ? 'npm run levelsync --' : 'levelsync';
  // On a server the commands read the URL from DATABASE_URL: a printed URL would have its
  // password masked (***) and could not be pasted.
  const where = db.kind === 'embedded' ? `--data-dir ${db.target.display}${schema !== 'public' ? ` --schema ${schema}` : ''}` : `--schema ${schema}`;
  const conn = `${where} --mapping original`;
  out.out(out.color.bold('What to try next'));
  if (db.kind === 'server') {
    if (db.target.password === null) out.out(`  export DATABASE_URL=${shellQuote(db.target.display)}`);
    else out.out('  (the commands below read DATABASE_URL: set it to the URL you gave --database-url; its password is not printed)');
  }
  const rows: [string, string][] = [
    [`${cli} check ${conn}`, 'what is left (exit code 1: pairs need review)'],
    [`${cli} health ${conn}`, 'the consistency rate'],
    [`${cli} max-level PLAYER ${conn}`, 'a legacy alias resolved, and where the value came from'],
    [`${cli} max-level ${DEMO_UNKNOWN_SPECIALIZATION} ${conn}`, 'an unknown specialization: refused, never a silent default'],
    [`${cli} apply ${planFile} ${conn}`, 'apply the same plan again: every action is already applied, nothing is written twice'],
    [`${cli} sync --above-max clamp ${conn}`, 'a dry run with another policy'],
    [`${cli} --help`, 'every command and option'],
  ];
  for (const [command, what] of rows) {
    out.out(`  ${command}`);
    out.out(`      ${out.color.dim(what)}`);
  }
}

/** A word for a POSIX shell: single-quoted, with single quotes escaped. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
