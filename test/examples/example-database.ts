import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { beforeAll } from 'vitest';
import { DEFAULT_CATALOG } from 'levelsync';
import { LEVELSYNC_MAPPING, migrate, toPgConnection, upsertSpecializations, type SqlRunner } from 'levelsync/pg';
import { pgliteSessions, type SessionPoolLike } from '../../examples/shared/example-database.js';
import { usePGlite } from '../support/pglite-instance.js';
import { TEST_DATABASE_URL, useTestDatabase } from '../support/postgres-server.js';

/** A database for an example's tests: its own database on the test server when there is one, else PGlite. */
export interface ExampleTestDatabase {
  readonly kind: 'server' | 'pglite';
  /** What the example's `pool` option takes. */
  readonly connection: pg.Pool | PGlite;
  /** Sessions for transactions (a pg.Pool, or PGlite's one session lent out). */
  readonly pool: SessionPoolLike;
  readonly run: SqlRunner;
  /** Another pool on the same database (server), for a second process's view; the same db on PGlite. */
  other(): pg.Pool | PGlite;
}

/**
 * One database per test file, with levelsync's schema migrated and the default specializations.
 * On the server the tests exercise real sessions and advisory locks; without a server they still
 * run, on PGlite (one session), so that `npm test` covers the examples everywhere.
 */
export function useExampleDatabase(label: string): () => ExampleTestDatabase {
  let database: ExampleTestDatabase | undefined;
  if (TEST_DATABASE_URL) {
    const server = useTestDatabase(`example_${label}`);
    beforeAll(async () => {
      const db = server();
      database = { kind: 'server', connection: db.pool, pool: db.pool, run: toPgConnection(db.pool).run, other: () => db.newPool({ max: 2 }) };
    }, 60_000);
  } else {
    const lite = usePGlite();
    beforeAll(() => {
      const db = lite();
      database = { kind: 'pglite', connection: db, pool: pgliteSessions(db), run: toPgConnection(db).run, other: () => db };
    });
  }
  beforeAll(async () => {
    const db = database!;
    (await migrate(db.connection))._unsafeUnwrap();
    const rows = DEFAULT_CATALOG.specializations.map((s) => ({ id: s.id, name: s.name, maxLevel: s.maxLevel }));
    (await upsertSpecializations(db.connection, rows, { mapping: LEVELSYNC_MAPPING }))._unsafeUnwrap();
  }, 120_000);
  return () => {
    if (!database) throw new Error('the example database is not ready');
    return database;
  };
}

/** Empties levelsync's tables and inserts the rows given as SQL VALUES lists. */
export async function reset(run: SqlRunner, rows: { progress?: string; licenses?: string; progressions?: string }): Promise<void> {
  await run('TRUNCATE levelsync.license_progressions, levelsync.licenses, levelsync.progress RESTART IDENTITY');
  if (rows.progress) await run(`INSERT INTO levelsync.progress (user_id, specialization_id, level, xp, sessions) VALUES ${rows.progress}`);
  if (rows.licenses) await run(`INSERT INTO levelsync.licenses (user_id, specialization_id, level, max_achieved_level) VALUES ${rows.licenses}`);
  if (rows.progressions) await run(rows.progressions);
}

/** Levels by side, as `user/SPEC` → level, for assertions. */
export async function levels(run: SqlRunner): Promise<{ progress: Record<string, number>; licenses: Record<string, number>; history: number }> {
  const p = await run('SELECT user_id::int AS u, specialization_id AS s, level FROM levelsync.progress');
  const l = await run('SELECT user_id::int AS u, specialization_id AS s, level FROM levelsync.licenses');
  const h = await run('SELECT count(*)::int AS n FROM levelsync.license_progressions');
  const map = (rows: readonly Record<string, unknown>[]) => Object.fromEntries(rows.map((r) => [`${String(r['u'])}/${String(r['s'])}`, Number(r['level'])]));
  return { progress: map(p.rows), licenses: map(l.rows), history: Number(h.rows[0]?.['n']) };
}

/** The sample data of the examples: in sync, progress ahead, license ahead (advanced by staff), orphans both sides. */
export const SAMPLE = {
  progress: `(1, 'LFA_COACH', 3, 60000, 20), (2, 'GANCUJU_PLAYER', 2, 25000, 12), (3, 'INTERNSHIP', 1, 10000, 15), (5, 'LFA_FOOTBALL_PLAYER', 4, 5000, 40)`,
  licenses: `(1, 'LFA_COACH', 2, 2), (2, 'GANCUJU_PLAYER', 3, 3), (4, 'LFA_FOOTBALL_PLAYER', 2, 2), (5, 'LFA_FOOTBALL_PLAYER', 4, 4)`,
  progressions: `INSERT INTO levelsync.license_progressions (license_id, from_level, to_level, advanced_by, reason)
    SELECT id, 2, 3, 900, 'Passed the practical assessment' FROM levelsync.licenses WHERE user_id = 2`,
};
