// The CLI contender (issue 10): per repetition `levelsync sync --apply` timed as a whole process;
// in the first repetition also `check --json`, `plan --out`, `apply <plan file>` and a re-apply of
// the same file, each with its own peak RSS, and whether each wrote what it should.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { CLI_POLICY_FLAGS, cliConnection, cliFailed, describeCli, runCli, writeMark, type CliRun, type WriteMark } from './cli-runs.js';
import { log } from './support.js';

/** What one repetition of the CLI contender measured. */
export interface CliRepetition {
  readonly sync: CliRun;
  /** History rows `sync --apply` wrote (one per level change). */
  readonly syncHistoryRows: number;
  readonly check?: CliRun;
  readonly plan?: CliRun;
  readonly planFileBytes?: number;
  readonly apply?: CliRun;
  readonly applyHistoryRows?: number;
  readonly reapply?: CliRun;
  /** History rows the re-apply of the same file wrote, and whether it touched any row's updated_at. */
  readonly reapplyHistoryRows?: number;
  readonly reapplyTouchedRows?: boolean;
}

export interface CliRepetitionOptions {
  readonly client: pg.Client;
  readonly databaseUrl: string;
  readonly scratch: string;
  /** Restores the drifted state (the caller's reset). */
  readonly reset: () => Promise<number>;
  /** Also check, plan --out, apply of the file and its re-apply (first repetition). */
  readonly full: boolean;
  /** Extra flags for the writing commands (`--batch-size n`). */
  readonly applyFlags: readonly string[];
}

/** One repetition, starting from the drifted state (the caller has just reset it). */
export async function cliRepetition(o: CliRepetitionOptions): Promise<CliRepetition> {
  const conn = cliConnection(o.databaseUrl);
  const run = (args: string[], keep?: number) => runCli(args, { scratch: o.scratch, ...(keep !== undefined ? { keepStdout: keep } : {}) });
  const planFile = join(o.scratch, 'levelsync-plan.jsonl');
  let check: CliRun | undefined;
  let plan: CliRun | undefined;
  let planFileBytes: number | undefined;
  if (o.full) {
    check = await run(['check', '--json', ...conn], 64 * 1024 * 1024);
    log(`cli ${describeCli(check)}`);
    plan = await run(['plan', '--out', planFile, ...conn, ...CLI_POLICY_FLAGS]);
    // A plan run that exits 0 or 1 without writing its file failed too (an internal error caught late).
    planFileBytes = !cliFailed(plan) && existsSync(planFile) ? statSync(planFile).size : undefined;
    log(`cli ${describeCli(plan)}${planFileBytes !== undefined ? `, plan file ${(planFileBytes / 1048576).toFixed(1)} MB` : ''}`);
  }
  const before = await writeMark(o.client);
  const sync = await run(['sync', '--apply', ...conn, ...CLI_POLICY_FLAGS, ...o.applyFlags]);
  const afterSync = await writeMark(o.client);
  log(`cli ${describeCli(sync)}, ${afterSync.historyRows - before.historyRows} history rows written`);
  const result: CliRepetition = { sync, syncHistoryRows: afterSync.historyRows - before.historyRows, ...(check ? { check } : {}), ...(plan ? { plan } : {}), ...(planFileBytes !== undefined ? { planFileBytes } : {}) };
  if (!o.full || planFileBytes === undefined) return result;

  await o.reset();
  const start = await writeMark(o.client);
  const apply = await run(['apply', planFile, ...conn, ...o.applyFlags]);
  const applied = await writeMark(o.client);
  log(`cli ${describeCli(apply)}, ${applied.historyRows - start.historyRows} history rows written`);
  const reapply = await run(['apply', planFile, ...conn, ...o.applyFlags]);
  const reapplied = await writeMark(o.client);
  log(`cli re-${describeCli(reapply)}, ${reapplied.historyRows - applied.historyRows} history rows written`);
  return {
    ...result,
    apply,
    applyHistoryRows: applied.historyRows - start.historyRows,
    reapply,
    reapplyHistoryRows: reapplied.historyRows - applied.historyRows,
    reapplyTouchedRows: touched(applied, reapplied),
  };
}

function touched(a: WriteMark, b: WriteMark): boolean {
  return a.lastLicenseUpdate !== b.lastLicenseUpdate || a.lastProgressUpdate !== b.lastProgressUpdate;
}

/** Per stored legacy id: its rows on each side and the pairs they belong to, counted in SQL. */
export interface LegacyIdCount {
  readonly storedId: string;
  readonly canonicalId: string;
  readonly progressRows: number;
  readonly licenseRows: number;
  readonly pairs: number;
}

/** The legacy-id counts the CLI's summary must match (computed here, independently of levelsync). */
export async function legacyIdCounts(client: pg.Client, aliases: ReadonlyMap<string, string>): Promise<LegacyIdCount[]> {
  const counts: LegacyIdCount[] = [];
  for (const [storedId, canonicalId] of aliases) {
    const row = (
      await client.query(
        `SELECT (SELECT count(*) FROM specialization_progress WHERE specialization_id = $1)::int AS p,
                (SELECT count(*) FROM user_licenses WHERE specialization_type = $1)::int AS l,
                (SELECT count(*) FROM (SELECT student_id FROM specialization_progress WHERE specialization_id = $1
                                        UNION SELECT user_id FROM user_licenses WHERE specialization_type = $1) u)::int AS pairs`,
        [storedId],
      )
    ).rows[0] as { p: number; l: number; pairs: number };
    counts.push({ storedId, canonicalId, progressRows: row.p, licenseRows: row.l, pairs: row.pairs });
  }
  return counts;
}

/** How big `check --json`'s answer is and what it says, when it could be parsed. */
export function checkJsonFacts(run: CliRun): { bytes: number; parsed: Record<string, unknown> | null } {
  let parsed: Record<string, unknown> | null = null;
  if (run.stdout !== null) {
    try {
      parsed = JSON.parse(run.stdout) as Record<string, unknown>;
    } catch {
      parsed = null;
    }
  }
  return { bytes: run.stdoutBytes, parsed };
}
