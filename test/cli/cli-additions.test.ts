// The command's additions: --users-file (a file or standard input), cleanup-duplicates (a dry run
// unless --apply, on the original system's tables with PLAYER/COACH rows), demo hints that paste,
// and the built-in progress bar.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ORIGINAL_SYSTEM_MAPPING, createPgMapping, createPgSyncStore, pgPool } from 'levelsync/pg';
import { runLockKeys } from '../../src/pg/advisory-run-lock.js';
import { createTerminalProgress, renderProgressLine } from '../../src/cli/progress-bar.js';
import { runCli } from '../../src/cli/run-cli.js';
import { MAX_USER_IDS, parseUsersFile } from '../../src/cli/users-file.js';
import { createOriginalSchema } from '../support/original-schema.js';
import { SERVER_URL, dropSchemas, serverPool, uniqueName, urlWithPassword } from './cli-process.js';
import { memoryBackend, removeTempDirs, run, sampleStore, tempDir } from './in-process.js';
import { until } from '../reliability/support/cli-spawn.js';

afterAll(removeTempDirs);

const checkedUsers = (stdout: string) => [...new Set((JSON.parse(stdout) as { desyncs: { userId: number }[] }).desyncs.map((d) => d.userId))].sort((a, b) => a - b);

describe('--users-file', () => {
  it('reads one id per line (comments, blanks and repeats skipped), merged with --user', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'ids.txt'), '# users to check\n2\n\n  3  \n2 # again\n');
    const backend = memoryBackend(sampleStore());
    const r = await run(['check', '--users-file', 'ids.txt', '--json'], { cwd, openBackend: backend.open });
    expect(r.code).toBe(1);
    expect(checkedUsers(r.stdout)).toEqual([2, 3]);
    const both = await run(['check', '--users-file', 'ids.txt', '--user', '4', '--json'], { cwd, openBackend: backend.open });
    expect(checkedUsers(both.stdout)).toEqual([2, 3, 4]);
  });

  it('- reads standard input', async () => {
    let stdout = '';
    const stdin = (async function* () {
      yield '5\n';
      yield new TextEncoder().encode('6\n');
    })();
    const code = await runCli(
      ['check', '--users-file', '-', '--json'],
      { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true }, env: {}, cwd: tempDir(), stdin },
      { openBackend: memoryBackend(sampleStore()).open },
    );
    expect(code).toBe(1);
    expect(checkedUsers(stdout)).toEqual([5, 6]);
  });

  it('takes 40 000 ids, more than a command line holds', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'many.txt'), Array.from({ length: 40_000 }, (_, i) => String(i + 1)).join('\n'));
    const r = await run(['check', '--users-file', 'many.txt', '--json'], { cwd, openBackend: memoryBackend(sampleStore()).open });
    expect(r.code).toBe(1);
    expect(checkedUsers(r.stdout)).toEqual([2, 3, 4, 5, 6]); // 7 is in sync under a legacy id: summarised, not listed
    expect(parseUsersFile(Array.from({ length: MAX_USER_IDS + 1 }, (_, i) => String(i + 1)).join('\n'), 'x')._unsafeUnwrap()).toHaveLength(MAX_USER_IDS + 1);
    writeFileSync(join(cwd, 'too-many.txt'), Array.from({ length: MAX_USER_IDS + 1 }, (_, i) => String(i + 1)).join('\n'));
    const tooMany = await run(['check', '--users-file', 'too-many.txt'], { cwd, openBackend: memoryBackend(sampleStore()).open });
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/at most 100000 per run/);
  });

  it('exit 2 naming the line of a bad id, a missing file, an empty list; nothing opened', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'bad.txt'), `1\n2\n${'x'.repeat(201)}\n`);
    writeFileSync(join(cwd, 'empty.txt'), '# nobody\n\n');
    const backend = memoryBackend(sampleStore());
    const bad = await run(['check', '--users-file', 'bad.txt'], { cwd, openBackend: backend.open });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--users-file bad\.txt line 3: "x+": must be at most 200 characters/);
    const missing = await run(['check', '--users-file', 'nope.txt'], { cwd, openBackend: backend.open });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--users-file nope\.txt: no such file/);
    const empty = await run(['plan', '--users-file', 'empty.txt'], { cwd, openBackend: backend.open });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/holds no user id/);
    const noStdin = await run(['check', '--users-file', '-'], { cwd, openBackend: backend.open });
    expect(noStdin.code).toBe(2);
    expect(backend.stats.opened).toBe(0);
  });
});

describe('cleanup-duplicates', () => {
  it('is listed in the help; refused where the backend cannot clean', async () => {
    expect((await run(['--help'])).stdout).toMatch(/cleanup-duplicates/);
    expect((await run(['cleanup-duplicates', '--help'])).stdout).toMatch(/DRY RUN \(counts only\)\s+unless --apply/);
    const r = await run(['cleanup-duplicates'], { openBackend: memoryBackend(sampleStore()).open });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not available on memory/);
  });

  describe.skipIf(!SERVER_URL)('on the original system\'s tables without unique keys (PostgreSQL server)', () => {
    const pool = SERVER_URL ? serverPool() : undefined;
    const schema = uniqueName('cli_dups');
    const lockedSchema = uniqueName('cli_dups_lock');
    afterAll(async () => {
      if (!pool) return;
      await dropSchemas(pool, [schema, lockedSchema]);
      await pool.end();
    });

    /** The original's tables without unique keys, with duplicates under its legacy ids: user 1 twice in PLAYER, user 2 twice in COACH. */
    const seedDuplicates = async (schema: string) => {
      const run0 = pgPool(pool!).run;
      await createOriginalSchema(run0, { schema, uniqueKeys: false });
      await run0(`INSERT INTO "${schema}".users (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
      await run0(`INSERT INTO "${schema}".specializations (id, name, max_levels) VALUES ('PLAYER', 'Player', 8), ('COACH', 'Coach', 8), ('GANCUJU_PLAYER', 'GanCuju Player', 8), ('LFA_COACH', 'LFA Coach', 8)`);
      await run0(`INSERT INTO "${schema}".specialization_progress (student_id, specialization_id, current_level, updated_at) VALUES
        (1, 'PLAYER', 2, now() - interval '1 day'), (1, 'PLAYER', 3, now()), (2, 'COACH', 1, now()), (3, 'LFA_COACH', 2, now())`);
      await run0(`INSERT INTO "${schema}".user_licenses (user_id, specialization_type, current_level, max_achieved_level, started_at, updated_at) VALUES
        (1, 'PLAYER', 3, 3, now(), now()), (2, 'COACH', 1, 1, now(), now() - interval '1 day'), (2, 'COACH', 2, 2, now(), now())`);
      await run0(`INSERT INTO "${schema}".license_progressions (user_license_id, from_level, to_level) SELECT id, 1, current_level FROM "${schema}".user_licenses WHERE user_id = 2`);
      const counts = async () => (await run0(`SELECT (SELECT count(*) FROM "${schema}".specialization_progress)::int AS p, (SELECT count(*) FROM "${schema}".user_licenses)::int AS l`)).rows[0];
      return { run0, counts, conn: ['--database-url', urlWithPassword(SERVER_URL!), '--mapping', 'original', '--schema', schema] };
    };

    it('counts without changing anything, then moves the duplicates with --apply', async () => {
      const { run0, counts, conn } = await seedDuplicates(schema);

      const dry = await run(['cleanup-duplicates', ...conn, '--json']);
      expect(dry.code, dry.stderr).toBe(1);
      expect(JSON.parse(dry.stdout)).toMatchObject({ command: 'cleanup-duplicates', dryRun: true, progress: { archived: 1 }, licenses: { archived: 1, progressionsRepointed: 1 }, exitCode: 1 });
      expect(await counts()).toEqual({ p: 4, l: 3 });
      expect(dry.stdout + dry.stderr).not.toContain('secret-password');

      const applied = await run(['cleanup-duplicates', ...conn, '--apply']);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toMatch(/moved 1 duplicate row\(s\)/);
      expect(await counts()).toEqual({ p: 3, l: 2 });
      const kept = await run0(`SELECT current_level AS level FROM "${schema}".specialization_progress WHERE student_id = 1`);
      expect(kept.rows).toEqual([{ level: 3 }]);
      const history = await run0(`SELECT count(*)::int AS n FROM "${schema}".license_progressions h JOIN "${schema}".user_licenses l ON l.id = h.user_license_id WHERE l.user_id = 2`);
      expect(history.rows[0]).toEqual({ n: 2 });

      const again = await run(['cleanup-duplicates', ...conn]);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/No duplicates/);
      expect(createPgMapping({ schema }, ORIGINAL_SYSTEM_MAPPING).isOk()).toBe(true);
    }, 120_000);

    it('--apply takes the run lock first: held by another run, it exits 1 at once and moves nothing; --wait-for-lock waits, then cleans', async () => {
      const { counts, conn } = await seedDuplicates(lockedSchema);
      const own = new pg.Pool({ connectionString: SERVER_URL, max: 3 });
      const other = createPgSyncStore(own, { mapping: createPgMapping({ schema: lockedSchema }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap() });
      // The run key of these tables, as pg_locks shows an advisory bigint key (classid: high half, objid: low half).
      const key = BigInt.asUintN(64, BigInt(runLockKeys(other.lockNamespace).run));
      const waitingForKey = async () =>
        (
          await own.query(
            `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1 AND classid = $1::oid AND objid = $2::oid
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
            [String(key >> 32n), String(key & 0xffffffffn)],
          )
        ).rows.length > 0;
      let held = (await other.acquireRunLock({}))._unsafeUnwrap(); // "another run"
      try {
        const refused = await run(['cleanup-duplicates', ...conn, '--apply', '--json']);
        expect(refused.code, refused.stderr).toBe(1);
        expect(JSON.parse(refused.stdout)).toMatchObject({ command: 'cleanup-duplicates', error: { kind: 'busy', message: expect.stringMatching(/--wait-for-lock/) }, exitCode: 1 });
        expect(await counts()).toEqual({ p: 4, l: 3 }); // nothing moved
        const human = await run(['cleanup-duplicates', ...conn, '--apply']);
        expect(human.code).toBe(1);
        expect(human.stderr).toMatch(/Another levelsync run holds the lock.*--wait-for-lock/);

        const waiting = run(['cleanup-duplicates', ...conn, '--apply', '--wait-for-lock', '--json']);
        await until(waitingForKey, 'cleanup-duplicates to wait for the run lock');
        expect(await counts()).toEqual({ p: 4, l: 3 }); // still nothing moved while it waits
        await held.release();
        const waited = await waiting;
        expect(waited.code, waited.stderr).toBe(0);
        expect(JSON.parse(waited.stdout)).toMatchObject({ dryRun: false, progress: { archived: 1 }, licenses: { archived: 1, progressionsRepointed: 1 } });
        expect(await counts()).toEqual({ p: 3, l: 2 });
        // The dry run takes no lock: it counts even while another run holds it.
        held = (await other.acquireRunLock({}))._unsafeUnwrap();
        const dry = await run(['cleanup-duplicates', ...conn]);
        expect(dry.code, dry.stderr).toBe(0);
        console.log(`cli/cleanup-duplicates-run-lock: refusedExit=${refused.code} movedWhileHeld=0 waitedExit=${waited.code} movedAfterWait=2 dryRunWhileHeldExit=${dry.code}`);
      } finally {
        await held.release();
        await own.end();
      }
    }, 120_000);
  });
});

describe.skipIf(!SERVER_URL)('demo hints on a server (PostgreSQL server)', () => {
  const pool = SERVER_URL ? serverPool() : undefined;
  const schemas = [uniqueName('cli_demo_hint'), uniqueName('cli_demo_hint')];
  afterAll(async () => {
    if (!pool) return;
    await dropSchemas(pool, schemas);
    await pool.end();
  });
  const hints = (stdout: string) => stdout.slice(stdout.indexOf('What to try next'));

  it('paste as they are: the URL comes from DATABASE_URL, never a masked *** in a command', async () => {
    const plain = new URL(SERVER_URL!);
    plain.password = '';
    const r = await run(['demo', '--database-url', plain.toString(), '--schema', schemas[0]!, '--users', '200']);
    expect(r.code, r.stderr).toBe(0);
    const text = hints(r.stdout);
    expect(text).toContain(`export DATABASE_URL='${plain.toString()}'`);
    expect(text).toContain(`levelsync check --schema ${schemas[0]} --mapping original`);
    expect(text).not.toContain('--database-url');

    const secret = await run(['demo', '--database-url', urlWithPassword(SERVER_URL!), '--schema', schemas[1]!, '--users', '200']);
    expect(secret.code, secret.stderr).toBe(0);
    const secretText = hints(secret.stdout);
    expect(secretText).not.toContain('***');
    expect(secretText).not.toContain('secret-password');
    expect(secretText).not.toContain('export DATABASE_URL');
    expect(secretText).toMatch(/set it to the URL you gave --database-url/);
  }, 180_000);
});

describe('the progress bar', () => {
  it('renders a bar, or a running count while the total is unknown', () => {
    expect(renderProgressLine('Applying', 'actions', 5, 10, 3_000)).toBe(`Applying [${'#'.repeat(15)}${'-'.repeat(15)}] 50% | 5/10 actions | 3s`);
    expect(renderProgressLine('Scanning', 'pairs', 1234, undefined, 61_000)).toBe('Scanning 1234 pairs | 1m01s');
    expect(renderProgressLine('x', 'y', 20, 10, 0)).toContain('100%');
  });

  it('redraws at most every 200 ms on one line and erases itself when it stops', () => {
    let written = '';
    let now = 0;
    const bar = createTerminalProgress({ write: (t: string) => (written += t), isTTY: true }, 'Applying', 'actions', 100, () => now);
    bar.update(10);
    expect(written).not.toContain('10/100');
    now = 250;
    bar.update(20);
    expect(written).toContain('20/100');
    bar.stop();
    bar.update(90);
    expect(written).not.toContain('90/100');
    expect(written.endsWith('\r\u001b[?25h')).toBe(true);
    expect(written).not.toContain('\n');
  });
});
