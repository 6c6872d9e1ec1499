import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlan } from 'levelsync';
import { SECRET, SERVER_URL, SKIP_SERVER_REASON, dropSchemas, runLevelsync, serverPool, transcript, uniqueName, urlWithPassword } from './cli-process.js';
import { removeTempDirs, tempDir } from './in-process.js';

// The `levelsync` command as a process against the real PostgreSQL server: each subcommand,
// --json parsed, every exit code, bad input, and the password never printed.

if (!SERVER_URL) {
  console.warn(`[levelsync tests] ${SKIP_SERVER_REASON}`);
  describe('levelsync on a PostgreSQL server', () => {
    it.skipIf(!SERVER_URL)(SKIP_SERVER_REASON, () => {});
  });
} else {
  const url = urlWithPassword(SERVER_URL);
  const schema = uniqueName('cli_levelsync');
  const demoSchema = uniqueName('cli_demo');
  const pool = serverPool();
  const cwd = tempDir();
  const conn = ['--database-url', url, '--schema', schema];
  const ls = (...args: string[]) => runLevelsync(args, { cwd });

  /** Levels as the tables hold them, to check what the CLI wrote (or did not). */
  const snapshot = async () => {
    const progress = await pool.query(`SELECT user_id::int AS u, specialization_id AS s, level FROM "${schema}".progress ORDER BY 1, 2`);
    const licenses = await pool.query(`SELECT user_id::int AS u, specialization_id AS s, level, max_achieved_level AS m FROM "${schema}".licenses ORDER BY 1, 2`);
    const history = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".license_progressions`);
    return { progress: progress.rows, licenses: licenses.rows, history: history.rows[0].n as number };
  };

  beforeAll(async () => {
    await dropSchemas(pool, [schema, demoSchema]);
  });
  afterAll(async () => {
    await dropSchemas(pool, [schema, demoSchema]);
    await pool.end();
    removeTempDirs();
  });

  describe('levelsync on a PostgreSQL server', () => {
    it('migrate creates the schema with the default specializations, then finds it up to date (exit 0)', async () => {
      const first = await ls('migrate', ...conn);
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/Migrated postgres:\/\/postgres:\*\*\*@.* \(schema cli_levelsync_\w+\): applied "1 create/);
      expect(first.stdout).toContain('Added the default specializations: GANCUJU_PLAYER, LFA_FOOTBALL_PLAYER, LFA_COACH, INTERNSHIP.');
      const again = await ls('migrate', ...conn, '--json');
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ command: 'migrate', applied: [], specializationsAdded: [] });
      const ids = await pool.query(`SELECT id FROM "${schema}".specializations ORDER BY id`);
      expect(ids.rows.map((r) => r.id)).toEqual(['GANCUJU_PLAYER', 'INTERNSHIP', 'LFA_COACH', 'LFA_FOOTBALL_PLAYER']);

      await pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) VALUES
        (1, 'LFA_COACH', 3), (2, 'LFA_COACH', 4), (3, 'LFA_COACH', 2), (4, 'INTERNSHIP', 1), (6, 'INTERNSHIP', 3)`);
      await pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) VALUES
        (1, 'LFA_COACH', 3, 3), (2, 'LFA_COACH', 3, 3), (3, 'LFA_COACH', 3, 3), (5, 'GANCUJU_PLAYER', 2, 2), (6, 'INTERNSHIP', 5, 5)`);
    });

    it('check lists the desyncs and exits 1; --json is one parseable document', async () => {
      const human = await ls('check', ...conn);
      expect(human.code).toBe(1);
      expect(human.stdout).toMatch(/6 desyncs in 5 of 6 pairs need a repair or a review/);
      const json = await ls('check', ...conn, '--json');
      expect(json.code).toBe(1);
      const doc = JSON.parse(json.stdout);
      expect(doc).toMatchObject({ command: 'check', inSync: false, totalPairs: 6, pairsNeedingWork: 5, exitCode: 1 });
      expect(doc.target).toBe(url.replace(SECRET, '***'));
      expect(doc.counts).toMatchObject({ LevelMismatch: 3, MissingLicense: 1, MissingProgress: 1, AboveMaxLevel: 1 });
      expect(doc.maxLevels.INTERNSHIP).toMatchObject({ maxLevel: 3, source: 'repository' });
    });

    it('check with filters: one specialization in sync exits 0', async () => {
      const r = await ls('check', ...conn, '--specialization', 'LFA_COACH', '--user', '1', '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ inSync: true, totalPairs: 1, scope: { specializationIds: ['LFA_COACH'], userIds: [1] } });
    });

    it('an unknown specialization is exit 2 and names the known ids', async () => {
      const r = await ls('check', ...conn, '--specialization', 'BASKETBALL');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/unknown specialization BASKETBALL in --specialization: known ids are GANCUJU_PLAYER, INTERNSHIP, LFA_COACH, LFA_FOOTBALL_PLAYER/);
    });

    it('sync without --apply is a dry run (exit 1, nothing written)', async () => {
      const before = await snapshot();
      const r = await ls('sync', ...conn);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('DRY RUN: nothing was written.');
      expect(await snapshot()).toEqual(before);
    });

    it('an edited plan file is refused (exit 2) and nothing is applied', async () => {
      const made = await ls('plan', ...conn, '--out', 'edited.json');
      expect(made.code).toBe(0);
      const file = join(cwd, 'edited.json');
      const original = readFileSync(file, 'utf8');
      const before = await snapshot();

      // A plan file is JSON Lines: the header, one action per line (line 2 is the first), the trailer.
      const editLine = (n: number, edit: (action: any) => void) => {
        const lines = original.split('\n');
        const action = JSON.parse(lines[n - 1]!);
        edit(action);
        lines[n - 1] = JSON.stringify(action);
        return lines.join('\n');
      };
      writeFileSync(file, editLine(2, (a) => (a.reason = 'edited by hand')));
      const r = await ls('apply', 'edited.json', ...conn);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/plan file edited.json was refused: The plan does not match its fingerprint/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);

      writeFileSync(file, editLine(2, (a) => (a.write.level = 8)));
      const invalid = await ls('apply', 'edited.json', ...conn, '--json');
      expect(invalid.code).toBe(2);
      expect(JSON.parse(invalid.stdout).error.message).toMatch(/Invalid plan file: line 2: write\.maxAchievedLevel/);
      expect(await snapshot()).toEqual(before);
    });

    it('plan writes the file and the review table; apply writes it (exit 0, flagged left for review)', async () => {
      const planned = await ls('plan', ...conn, '--json');
      expect(planned.code).toBe(0);
      const summary = JSON.parse(planned.stdout);
      expect(summary).toMatchObject({ command: 'plan', file: 'levelsync-plan.jsonl', summary: { actions: { total: 5, FlagForReview: 1 } } });
      const plan = parsePlan(readFileSync(join(cwd, 'levelsync-plan.jsonl'), 'utf8'))._unsafeUnwrap();
      expect(plan.fingerprint).toBe(summary.fingerprint);

      const applied = await ls('apply', 'levelsync-plan.jsonl', ...conn, '--json', '--batch-size', '2');
      expect(applied.code).toBe(0);
      const doc = JSON.parse(applied.stdout);
      expect(doc.report).toMatchObject({ status: 'Completed', counts: { Applied: 4, Stale: 0, Failed: 0, Flagged: 1 } });
      expect(doc.report.batches.length).toBeGreaterThanOrEqual(2);
      const after = await snapshot();
      expect(after.licenses.find((l) => l.u === 2)).toMatchObject({ level: 4, m: 4 }); // raised to progress
      expect(after.progress.find((p) => p.u === 3)).toMatchObject({ level: 3 }); // raised to license
      expect(after.licenses.find((l) => l.u === 4)).toMatchObject({ s: 'INTERNSHIP', level: 1 }); // created
      expect(after.progress.find((p) => p.u === 5)).toMatchObject({ s: 'GANCUJU_PLAYER', level: 2 }); // created
      expect(after.licenses.find((l) => l.u === 6)).toMatchObject({ level: 5 }); // flagged, untouched
      expect(after.history).toBe(2); // license 2: 3 → 4, license 4 created
    });

    it('re-applying the same plan changes nothing: every action is already applied (exit 0)', async () => {
      const before = await snapshot();
      const r = await ls('apply', 'levelsync-plan.jsonl', ...conn);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/applied 0 · already applied 4 · stale 0 · failed 0 · flagged for review 1/);
      expect(r.stdout).toContain('already applied: nothing to write');
      expect(await snapshot()).toEqual(before);
    });

    it('a record changed after planning makes its action stale, never overwritten', async () => {
      await pool.query(`UPDATE "${schema}".progress SET level = 5 WHERE user_id = 1`);
      const planned = await ls('plan', ...conn, '--out', 'p2.json', '--specialization', 'LFA_COACH');
      expect(planned.code).toBe(0);
      await pool.query(`UPDATE "${schema}".licenses SET level = 6, max_achieved_level = 6 WHERE user_id = 1`);
      const r = await ls('apply', 'p2.json', ...conn, '--json');
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).report.counts).toMatchObject({ Applied: 0, Stale: 1 });
      expect((await snapshot()).licenses.find((l) => l.u === 1)).toMatchObject({ level: 6 });
    });

    it('sync --apply repairs with the chosen policy, and health reports the result', async () => {
      const sick = await ls('health', ...conn, '--json');
      expect(sick.code).toBe(1);
      expect(JSON.parse(sick.stdout)).toMatchObject({ command: 'health', status: 'critical', totalPairs: 6 });
      const r = await ls('sync', ...conn, '--apply', '--above-max', 'clamp', '--direction', 'license-to-progress', '--allow-demotion');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/applied 2 · stale 0 · failed 0 · flagged for review 0/);
      const after = await snapshot();
      expect(after.licenses.find((l) => l.u === 6)).toMatchObject({ level: 3, m: 5 }); // clamped; max achieved never decreases
      expect(after.progress.find((p) => p.u === 1)).toMatchObject({ level: 6 }); // progress follows the license
      const healthy = await ls('health', ...conn);
      expect(healthy.code).toBe(0);
      expect(healthy.stdout).toMatch(/Health: healthy: 100\.00 % of 6 pairs consistent/);
      expect((await ls('check', ...conn)).code).toBe(0);
    });

    it('max-level gives the value and its source; an unknown id is exit 2', async () => {
      const r = await ls('max-level', 'PLAYER', ...conn, '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ specializationId: 'GANCUJU_PLAYER', requestedId: 'PLAYER', maxLevel: 8, source: 'repository', repository: 'postgres', alias: { id: 'PLAYER' } });
      const unknown = await ls('max-level', 'BASKETBALL', ...conn);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("Unknown specialization 'BASKETBALL'");
    });

    it('reads DATABASE_URL when --database-url is absent', async () => {
      const r = await runLevelsync(['check', '--schema', schema, '--json'], { cwd, env: { DATABASE_URL: url } });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).target).toContain('postgres:***@');
    });

    it('missing tables are exit 2 with what to do', async () => {
      const r = await ls('check', '--database-url', url, '--schema', uniqueName('nothing_here'));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/the tables are not there: .*run `levelsync migrate` first, or pass --mapping original/);
    });

    it('demo --database-url seeds its own schema, repairs it, and the result can be checked', async () => {
      const r = await ls('demo', '--database-url', url, '--schema', demoSchema, '--users', '400', '--json');
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc).toMatchObject({ command: 'demo', mapping: 'original', schema: demoSchema, learners: 400, exitCode: 0 });
      expect(doc.before.pairsNeedingWork).toBeGreaterThan(doc.after.pairsNeedingWork);
      expect(doc.apply.counts).toMatchObject({ Stale: 0, Failed: 0 });
      expect(doc.naiveJobWouldLowerLicenses).toBe(doc.planted.adminAdvanced);
      expect(doc.after.health.status).toBe('healthy');
      const left = await ls('check', '--database-url', url, '--schema', demoSchema, '--mapping', 'original', '--json');
      expect(left.code).toBe(1);
      expect(JSON.parse(left.stdout).pairsNeedingWork).toBe(doc.after.pairsNeedingWork);
      // Run again: the demo drops and recreates only its own schema.
      const again = await ls('demo', '--database-url', url, '--schema', demoSchema, '--users', '400', '--json');
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout).before).toEqual(doc.before);
    });

    it("demo refuses a schema it did not make", async () => {
      const r = await ls('demo', '--database-url', url, '--schema', schema);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`schema ${schema} exists and was not made by \`levelsync demo\``);
      expect((await snapshot()).progress.length).toBeGreaterThan(0);
    });

    it('an unreachable server or a bad URL is exit 2, with the password masked', async () => {
      const unreachable = await ls('check', '--database-url', `postgres://postgres:${SECRET}@127.0.0.1:1/nowhere`);
      expect(unreachable.code).toBe(2);
      expect(unreachable.stderr).toMatch(/^levelsync: cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/);
      const noDatabase = await ls('check', '--database-url', `${url.replace(/\/[^/]*$/, '')}/${uniqueName('nodb')}`, '--json');
      expect(noDatabase.code).toBe(2);
      expect(JSON.parse(noDatabase.stdout).error.message).toMatch(/cannot connect to .*does not exist/);
      const malformed = await ls('check', '--database-url', `postgres://postgres:${SECRET}@127.0.0.1:99999/x`);
      expect(malformed.code).toBe(2);
      expect(malformed.stderr).toMatch(/--database-url is not a valid URL/);
      const wrongScheme = await ls('plan', '--database-url', `mysql://root:${SECRET}@localhost/x`);
      expect(wrongScheme.code).toBe(2);
      expect(wrongScheme.stderr).toMatch(/must start with postgres:\/\//);
    });

    it('never printed the password, in any output of any test above', () => {
      expect(transcript.length).toBeGreaterThan(30);
      for (const text of transcript) expect(text).not.toContain(SECRET);
    });
  });
}
