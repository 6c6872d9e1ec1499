import { inspect } from 'node:util';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  applyPlan,
  checkHealth,
  createMaxLevelResolver,
  createPlan,
  parsePlan,
  planFingerprint,
  renderPlan,
  scanDesyncs,
  syncPair,
  type Logger,
  type SyncPlan,
} from 'levelsync';
import {
  cleanupDuplicates,
  createLevelsyncMapping,
  createPgMapping,
  createPgMaxLevelRepository,
  createPgSyncStore,
  LEVELSYNC_MAPPING,
  migrate,
  ORIGINAL_SYSTEM_MAPPING,
  parsePgMapping,
  pgClient,
  upsertSpecializations,
  type PgMapping,
} from 'levelsync/pg';
import { quoteIdentifier } from '../../src/pg/identifier.js';
import { countingPool } from '../support/counting-client.js';
import { describeWithServer, useTestDatabase } from '../support/postgres-server.js';
import { runLevelsync } from '../cli/cli-process.js';
import { printFigures, runnerOf } from './support/reliability.js';
import { createWorld, insertRows } from './support/world.js';

// Hostile identifiers in a mapping are refused before any SQL runs; hostile values (SQL text as
// user ids, reasons, specialization-like strings) are bound as parameters and stored verbatim;
// a password in a connection string appears in no output, error, cause or log line.

const SECRET = 'secret-password';

const HOSTILE_IDENTIFIERS = [
  `x"; DROP TABLE levelsync.licenses; --`,
  `licenses; DELETE FROM progress`,
  `a b`,
  `"quoted"`,
  `level--`,
  `a.b.c`,
  `.x`,
  `x.`,
  ``,
  `1abc`,
  'a'.repeat(64),
  `ünï`,
  `x\n`,
  `x'`,
  `$1`,
  `public.x; --`,
  `pg_sleep(10)`,
];

const HOSTILE_VALUES = [
  `1'; DROP TABLE levelsync.licenses; --`,
  `' OR '1'='1`,
  `"; DELETE FROM progress; --`,
  `back\\slash \\' \\"`,
  `{braces,commas}`,
  `NULL`,
  `  spaced  `,
  `ünï©ødé 日本 😀`,
  `$1::text`,
  `%_*?`,
  `x`.repeat(200),
  `E'\\x41'`,
  `/* comment */ SELECT 1`,
];

/** Every identifier field of a mapping: `schema` and `<section>.<field>` for its string fields. */
function identifierFields(mapping: PgMapping): string[] {
  const out = ['schema'];
  for (const section of ['specializations', 'progress', 'licenses', 'progressions'] as const) {
    for (const [field, value] of Object.entries(mapping[section])) if (typeof value === 'string') out.push(`${section}.${field}`);
  }
  return out;
}

function withField(mapping: PgMapping, path: string, value: string): Record<string, unknown> {
  const copy = structuredClone(mapping) as unknown as Record<string, Record<string, unknown>>;
  const [section, field] = path.split('.') as [string, string | undefined];
  if (field === undefined) (copy as Record<string, unknown>)[section] = value;
  else copy[section]![field] = value;
  return copy;
}

describeWithServer('reliability: security', () => {
  const database = useTestDatabase('rel_security');

  describe('hostile identifiers', () => {
    it('are refused with a ValidationError naming the field, before any statement runs', async () => {
      const db = database();
      const counting = countingPool(db.pool);
      const checks = { fields: 0, identifiers: HOSTILE_IDENTIFIERS.length, refusals: 0 };
      for (const base of [LEVELSYNC_MAPPING, ORIGINAL_SYSTEM_MAPPING]) {
        for (const path of identifierFields(base)) {
          checks.fields++;
          for (const hostile of HOSTILE_IDENTIFIERS) {
            const raw = withField(base, path, hostile);
            const label = `${path} = ${JSON.stringify(hostile)}`;
            const parsed = parsePgMapping(raw);
            expect(parsed.isErr(), label).toBe(true);
            expect(parsed._unsafeUnwrapErr(), label).toMatchObject({ _tag: 'ValidationError', field: path });
            expect(parsed._unsafeUnwrapErr().message, label).toContain(path);
            const [section, field] = path.split('.');
            const patched = createPgMapping(field === undefined ? { schema: hostile } : { [section!]: { [field]: hostile } }, base);
            expect(patched._unsafeUnwrapErr(), label).toMatchObject({ _tag: 'ValidationError', field: path });
            // Factories: a programmer error, thrown as a TypeError whose cause names the field.
            for (const make of [
              () => createPgSyncStore(counting.connection, { mapping: raw as unknown as PgMapping }),
              () => createPgMaxLevelRepository(counting.connection, { mapping: raw as unknown as PgMapping }),
              () => upsertSpecializations(counting.connection, [{ id: 'LFA_COACH', maxLevel: 8 }], { mapping: raw as unknown as PgMapping }),
              () => cleanupDuplicates(counting.connection, { mapping: raw as unknown as PgMapping }),
            ]) {
              let thrown: unknown;
              let returned: unknown;
              try {
                returned = make();
              } catch (cause) {
                thrown = cause;
              }
              if (thrown === undefined && returned && typeof (returned as PromiseLike<unknown>).then === 'function') {
                // A ResultAsync: it must be an err naming the field.
                const result = (await returned) as { isErr(): boolean; error?: { _tag: string; field: string } };
                expect(result.isErr(), label).toBe(true);
                expect(result.error, label).toMatchObject({ _tag: 'ValidationError', field: path });
              } else {
                expect(thrown, label).toBeInstanceOf(TypeError);
                expect((thrown as TypeError).cause, label).toMatchObject({ _tag: 'ValidationError', field: path });
              }
              checks.refusals++;
            }
          }
        }
      }
      for (const hostile of HOSTILE_IDENTIFIERS) {
        expect((await migrate(counting.connection, { schema: hostile }))._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'schema' });
        expect(createLevelsyncMapping({ schema: hostile })._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'schema' });
        expect(() => quoteIdentifier(hostile)).toThrow(TypeError);
        checks.refusals += 3;
      }
      // An unknown key in a mapping (a typo, or an attempt to smuggle a column) is refused too.
      const smuggled = { ...structuredClone(LEVELSYNC_MAPPING), progress: { ...LEVELSYNC_MAPPING.progress, 'level; DROP TABLE x': 'level' } };
      expect(parsePgMapping(smuggled)._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'progress' });
      // Nothing reached the database.
      expect(counting.statements).toEqual([]);
      printFigures('security/hostile-identifiers', { ...checks, statementsExecuted: counting.statements.length });
    });

    it('the command line refuses a hostile --schema with exit code 2 and names it', async () => {
      const db = database();
      const url = new URL(db.url);
      url.password = SECRET;
      const result = await runLevelsync(['check', '--schema', `x"; DROP TABLE levelsync.licenses; --`, '--database-url', url.toString()], { cwd: process.cwd() });
      printFigures('security/cli-hostile-schema', { exitCode: result.code });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--schema');
      expect(`${result.stdout}\n${result.stderr}`).not.toContain(SECRET);
    }, 60_000);
  });

  describe('hostile values', () => {
    it('SQL text as text user ids, actors, reasons and evidence is bound, stored and read back verbatim through scan, plan file, apply and syncPair', async () => {
      const db = database();
      const schema = 'sec_values';
      await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      (await migrate(db.pool, { schema, userIdType: 'text' }))._unsafeUnwrap();
      const mapping = createLevelsyncMapping({ schema, userIdType: 'text' })._unsafeUnwrap();
      (await upsertSpecializations(db.pool, [{ id: 'LFA_COACH', maxLevel: 8, name: `Coach'); DROP TABLE x; --` }, { id: 'INTERNSHIP', maxLevel: 3 }], { mapping }))._unsafeUnwrap();
      await db.pool.query(`CREATE TABLE "${schema}".canary (id int)`);
      await db.pool.query(`INSERT INTO "${schema}".canary VALUES (1), (2), (3)`);
      // Each hostile id gets drift: progress ahead, license missing, or progress missing.
      const progress: unknown[][] = [];
      const licenses: unknown[][] = [];
      HOSTILE_VALUES.forEach((id, i) => {
        if (i % 3 !== 2) progress.push([id, 'LFA_COACH', 4]);
        if (i % 3 !== 1) licenses.push([id, 'LFA_COACH', 2, 2]);
      });
      await db.pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT * FROM unnest($1::text[], $2::text[], $3::int4[])`, [
        progress.map((r) => r[0]),
        progress.map((r) => r[1]),
        progress.map((r) => r[2]),
      ]);
      await db.pool.query(
        `INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::int4[])`,
        [licenses.map((r) => r[0]), licenses.map((r) => r[1]), licenses.map((r) => r[2]), licenses.map((r) => r[3])],
      );
      const store = createPgSyncStore(db.pool, { mapping });
      const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(db.pool, { mapping })] });
      const tablesOf = async () =>
        (await db.pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema])).rows.map((r) => r.table_name);
      const tablesBefore = await tablesOf();
      expect(tablesBefore).toContain('canary');

      // Filters are parameters: a hostile id finds its own pairs, never everyone's.
      const own = (await scanDesyncs(store, { resolver, userIds: [`' OR '1'='1`] }))._unsafeUnwrap();
      expect(new Set(own.desyncs.map((d) => d.userId))).toEqual(new Set([`' OR '1'='1`]));
      const nobody = (await scanDesyncs(store, { resolver, userIds: [`x' OR 'a'='a`] }))._unsafeUnwrap();
      expect(nobody.pairsRead).toBe(0);
      expect((await store.readPair({ userId: `x' OR 'a'='a`, specializationId: 'LFA_COACH' }))._unsafeUnwrap()).toBeNull();
      expect((await createPgMaxLevelRepository(db.pool, { mapping }).findMaxLevel(`LFA_COACH' OR '1'='1`))._unsafeUnwrap()).toBeNull();

      // The plan file carries the hostile values; an annotated reason (re-fingerprinted) too.
      const scan = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
      const native = JSON.stringify(scan.desyncs);
      expect(JSON.stringify((await scanDesyncs(store, { resolver, nativeDiff: false }))._unsafeUnwrap().desyncs)).toBe(native);
      const plan = createPlan(scan)._unsafeUnwrap();
      const reason = `reviewed'); DELETE FROM "${schema}".licenses; --`;
      const annotated = {
        ...plan,
        actions: plan.actions.map((a) => (a.kind === 'FlagForReview' ? a : { ...a, reason, ...('evidence' in a ? { evidence: `evidence $1 '; --` } : {}) })),
      } as SyncPlan;
      const file = JSON.stringify({ ...annotated, fingerprint: planFingerprint(annotated) });
      const parsed = parsePlan(file)._unsafeUnwrap();
      const actor = HOSTILE_VALUES[0]!;
      const report = (await applyPlan(parsed, store, { actor }))._unsafeUnwrap();
      expect(report.counts).toMatchObject({ Applied: plan.summary.actions.total - plan.summary.actions.FlagForReview, Stale: 0, Failed: 0 });

      const users = (await db.pool.query(`SELECT user_id FROM "${schema}".licenses UNION SELECT user_id FROM "${schema}".progress`)).rows.map((r) => r.user_id);
      expect(users.sort()).toEqual([...HOSTILE_VALUES].sort());
      const history = (await db.pool.query(`SELECT l.user_id, h.advanced_by, h.reason, h.evidence FROM "${schema}".license_progressions h JOIN "${schema}".licenses l ON l.id = h.license_id`)).rows;
      expect(history.length).toBeGreaterThan(0);
      for (const row of history) expect(row).toMatchObject({ advanced_by: actor, reason, evidence: `evidence $1 '; --` });
      const names = (await db.pool.query(`SELECT name FROM "${schema}".specializations WHERE id = 'LFA_COACH'`)).rows;
      expect(names).toEqual([{ name: `Coach'); DROP TABLE x; --` }]);

      // A hook on a hostile id, in the caller's transaction.
      const hostileUser = HOSTILE_VALUES[1]!;
      await db.pool.query(`UPDATE "${schema}".progress SET level = 6 WHERE user_id = $1`, [hostileUser]);
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        const synced = (await syncPair(createPgSyncStore(pgClient(client), { mapping }), { userId: hostileUser, specializationId: 'LFA_COACH' }, { resolver, actor }))._unsafeUnwrap();
        expect(synced.outcomes).toEqual(['Applied']);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      expect((await db.pool.query(`SELECT level FROM "${schema}".licenses WHERE user_id = $1`, [hostileUser])).rows).toEqual([{ level: 6 }]);

      // Specialization-like strings where an id is expected: refused, nothing read.
      const counting = countingPool(db.pool);
      const countingStore = createPgSyncStore(counting.connection, { mapping });
      const hostileSpec = `LFA_COACH' OR '1'='1`;
      expect((await scanDesyncs(countingStore, { resolver, specializationIds: [hostileSpec] }))._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'specializationIds[0]' });
      expect((await syncPair(countingStore, { userId: hostileUser, specializationId: hostileSpec }, { resolver }))._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'specializationId' });
      expect((await resolver.resolve(hostileSpec))._unsafeUnwrapErr()._tag).toBe('ValidationError');
      expect(counting.statements).toEqual([]);

      // Everything is still there.
      expect((await db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".canary`)).rows[0].n).toBe(3);
      expect(await tablesOf()).toEqual(tablesBefore);
      printFigures('security/hostile-values', { hostileIds: HOSTILE_VALUES.length, applied: report.counts.Applied, historyRows: history.length, statementsForRefusedIds: counting.statements.length });
    });

    it('hostile strings stored as specialization ids (original schema) are reported, never executed nor repaired by guesswork', async () => {
      const db = database();
      const world = await createWorld(db.pool, 'original', 'sec_spec_ids');
      const hostileIds = [`X'); DROP TABLE y;--`, `LFA_COACH' OR 1=1`, `"; --`, `%`, `lfa coach`];
      await db.pool.query(`INSERT INTO "sec_spec_ids".specializations (id, name, max_levels) SELECT id, id, 8 FROM unnest($1::text[]) AS x(id)`, [hostileIds]);
      await insertRows(db.pool, world, {
        progress: hostileIds.map((id, i) => ({ userId: i + 1, specializationId: id, level: 3 })),
        licenses: hostileIds.map((id, i) => ({ userId: i + 1, specializationId: id, level: 2, maxAchievedLevel: 2 })),
      });
      const store = createPgSyncStore(db.pool, { mapping: world.mapping });
      const resolver = world.resolver(db.pool);
      const scan = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
      const core = (await scanDesyncs(store, { resolver, nativeDiff: false }))._unsafeUnwrap();
      expect(JSON.stringify(core.desyncs)).toBe(JSON.stringify(scan.desyncs));
      expect(scan.desyncs.map((d) => [d.specializationId, d.kind])).toEqual(hostileIds.map((id) => [id, 'UnknownSpecialization']));
      const plan = createPlan(scan)._unsafeUnwrap();
      expect(plan.actions.every((a) => a.kind === 'FlagForReview')).toBe(true);
      const report = (await applyPlan(plan, store))._unsafeUnwrap();
      expect(report.counts.Applied).toBe(0);
      const stored = (await db.pool.query(`SELECT specialization_type AS s, current_level AS l FROM "sec_spec_ids".user_licenses ORDER BY user_id`)).rows;
      expect(stored).toEqual(hostileIds.map((s) => ({ s, l: 2 })));
      printFigures('security/hostile-specialization-ids', { ids: hostileIds.length, flagged: plan.actions.length, writes: report.counts.Applied });
    });
  });

  describe('passwords', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it(`a password in the connection string ("${SECRET}") is in no output, error, cause, event or log line`, async () => {
      const db = database();
      // Capture everything the process prints meanwhile.
      const printed: string[] = [];
      for (const stream of [process.stdout, process.stderr]) {
        const write = stream.write.bind(stream);
        vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
          printed.push(String(chunk));
          return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
        }) as typeof stream.write);
      }
      for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
        const original = console[method].bind(console);
        vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
          printed.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 6 }))).join(' '));
          original(...args);
        });
      }
      const lines: string[] = [];
      const capture =
        (level: string) =>
        (objOrMsg: unknown, msg?: unknown): void => {
          lines.push(`${level} ${inspect(objOrMsg, { depth: 6 })} ${msg === undefined ? '' : String(msg)}`);
        };
      const logger: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
      const outputs: string[] = [];
      const seen = (value: unknown) => outputs.push(typeof value === 'string' ? value : inspect(value, { depth: 8 }));

      const withPassword = (base: string) => {
        const url = new URL(base);
        url.username ||= 'postgres';
        url.password = SECRET;
        return url.toString();
      };
      const pools: pg.Pool[] = [];
      const poolFor = (url: string) => {
        const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 3_000, max: 3 });
        pool.on('error', (e) => seen(e));
        pools.push(pool);
        return pool;
      };
      try {
        // A working server (trust auth ignores the password): the whole flow, logged.
        const good = poolFor(withPassword(db.url));
        const schema = 'sec_password';
        await runnerOf(db.pool)(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        seen(await migrate(good, { schema }));
        const mapping = createLevelsyncMapping({ schema })._unsafeUnwrap();
        seen(await upsertSpecializations(good, [{ id: 'LFA_COACH', maxLevel: 8 }], { mapping }));
        await db.pool.query(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 3 FROM generate_series(1, 50) u`);
        await db.pool.query(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 2, 2 FROM generate_series(1, 40) u`);
        const store = createPgSyncStore(good, { mapping, logger });
        const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(good, { mapping })], logger });
        const scan = (await scanDesyncs(store, { resolver, logger }))._unsafeUnwrap();
        seen(scan);
        seen(await checkHealth(store, { resolver, logger }));
        const plan = createPlan(scan)._unsafeUnwrap();
        seen(JSON.stringify(plan));
        seen(renderPlan(plan));
        const events: unknown[] = [];
        seen(await applyPlan(plan, store, { logger, onEvent: (e) => events.push(e), onProgress: (p) => events.push(p) }));
        seen(events);
        const client = await good.connect();
        try {
          await client.query('BEGIN');
          seen(await syncPair(createPgSyncStore(pgClient(client), { mapping, logger }), { userId: 1, specializationId: 'LFA_COACH' }, { resolver, logger }));
          await client.query('COMMIT');
        } finally {
          client.release();
        }
        // A failure in the middle of a run: the apply's connection is terminated.
        const victim = poolFor(withPassword(db.url).replace(/\/[^/]*$/, `/${db.name}?application_name=sec_victim`));
        const victimStore = createPgSyncStore(victim, { mapping, logger });
        await db.pool.query(`UPDATE "${schema}".progress SET level = 4`);
        const blocker = await db.pool.connect();
        await blocker.query('BEGIN');
        await blocker.query(`SELECT 1 FROM "${schema}".progress WHERE user_id = 1 FOR UPDATE`);
        const failing = applyPlan(createPlan((await scanDesyncs(victimStore, { resolver }))._unsafeUnwrap())._unsafeUnwrap(), victimStore, { logger, onEvent: (e) => seen(e) });
        for (let i = 0; i < 400; i++) {
          const pid = (await db.pool.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'sec_victim' AND wait_event_type = 'Lock'`)).rows[0]?.pid;
          if (pid) {
            await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
            break;
          }
          await new Promise((r) => setTimeout(r, 10));
        }
        await blocker.query('ROLLBACK');
        blocker.release();
        const failed = (await failing)._unsafeUnwrap();
        expect(failed.counts.Failed).toBeGreaterThan(0);
        seen(failed);

        // Unreachable, unknown database, unknown role, bad URL: every entry point fails with a typed, clean error.
        const failures = [
          'postgres://postgres:PW@127.0.0.1:1/levelsync',
          withPassword(db.url).replace(/\/[^/]*$/, '/no_such_database_levelsync'),
          withPassword(db.url).replace(/\/\/[^:]*:/, '//no_such_role_levelsync:'),
          'postgres://postgres:PW@[bad-host/levelsync',
        ].map((u) => u.replace('PW', SECRET));
        let errors = 0;
        for (const url of failures) {
          const pool = poolFor(url);
          const bad = createPgSyncStore(pool, { mapping, logger });
          const badResolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(pool, { mapping })], logger });
          const results: { isErr(): boolean; _unsafeUnwrapErr(): unknown }[] = [
            await bad.countPairs({}),
            await bad.readPair({ userId: 1, specializationId: 'LFA_COACH' }),
            await bad.acquireRunLock({}),
            await migrate(pool, { schema }),
            await upsertSpecializations(pool, [{ id: 'X', maxLevel: 1 }], { mapping }),
            await cleanupDuplicates(pool, { mapping }),
            await createPgMaxLevelRepository(pool, { mapping }).findMaxLevel('LFA_COACH'),
            await scanDesyncs(bad, { resolver: badResolver, logger }),
            await applyPlan(plan, bad, { logger }),
            await syncPair(bad, { userId: 1, specializationId: 'LFA_COACH' }, { resolver: badResolver, logger }),
          ];
          for await (const page of bad.scanPairs({})) results.push(page);
          for (const result of results) {
            expect(result.isErr(), url.replace(SECRET, '***')).toBe(true);
            const error = result._unsafeUnwrapErr() as { message: string; cause?: unknown };
            seen(error.message);
            seen(error); // the whole error, its driver cause included
            errors++;
          }
          // The resolver fell back (or failed) and said why: those warnings are logged too.
          seen(await badResolver.resolve('LFA_COACH'));
        }

        const everything = [...outputs, ...lines, ...printed];
        printFigures('security/passwords', { outputs: outputs.length, logLines: lines.length, printedChunks: printed.length, typedErrors: errors });
        expect(lines.length).toBeGreaterThan(10);
        expect(errors).toBe(failures.length * 11);
        const leaks = everything.filter((text) => text.includes(SECRET) || /secret-pass/i.test(text));
        expect(leaks).toEqual([]);

        // The command line too, in its human and --json outputs.
        const cli = await runLevelsync(['check', '--schema', schema, '--database-url', withPassword(db.url), '--json'], { cwd: process.cwd() });
        const unreachable = await runLevelsync(['check', '--database-url', `postgres://postgres:${SECRET}@127.0.0.1:1/x`], { cwd: process.cwd() });
        expect(cli.code).toBeLessThanOrEqual(1);
        expect(unreachable.code).toBe(2);
        expect(`${cli.stdout}${cli.stderr}${unreachable.stdout}${unreachable.stderr}`).not.toContain(SECRET);
      } finally {
        await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
      }
    }, 120_000);
  });
});
