// The bench data set: the original system's tables (test/support/original-schema.ts, from
// reference/original-system.md §1) filled by set-based SQL (generate_series, setseed), pristine
// copies of every drifted pair's rows, and the reset that restores them before each apply.
import type pg from 'pg';
import { pgClient } from 'levelsync/pg';
import { createOriginalSchema } from '../test/support/original-schema.js';
import { DRIFT_M, log, secondsSince, type DriftMix } from './support.js';

/**
 * The five specializations and their maximum levels, stored in `specializations.max_levels`.
 * The first four are the original system's catalog (levelsync's `DEFAULT_CATALOG`); the fifth
 * is known only to the database, so the resolver must discover it there.
 */
export const BENCH_SPECIALIZATIONS: readonly { readonly id: string; readonly maxLevel: number }[] = [
  { id: 'GANCUJU_PLAYER', maxLevel: 8 },
  { id: 'INTERNSHIP', maxLevel: 3 },
  { id: 'LFA_COACH', maxLevel: 8 },
  { id: 'LFA_FOOTBALL_PLAYER', maxLevel: 8 },
  { id: 'LFA_FUTSAL_PLAYER', maxLevel: 8 },
];

/** The drift the generator aims at for M and L (fractions of the users × specializations grid). */
export const DRIFT: DriftMix = DRIFT_M;

/**
 * The legacy layout (issue 10, `../shared/reference/original-system.md` §2.1): the
 * specializations table as the original's seed and rename left it — the Oct 2025 rows PLAYER,
 * COACH, INTERNSHIP and the Nov 2025 ids GANCUJU_PLAYER, LFA_COACH, LFA_FOOTBALL_PLAYER — and every
 * progress and license row stored under PLAYER, COACH or INTERNSHIP.
 */
export const LEGACY_SPECIALIZATIONS: readonly { readonly id: string; readonly maxLevel: number }[] = [
  { id: 'COACH', maxLevel: 8 },
  { id: 'GANCUJU_PLAYER', maxLevel: 8 },
  { id: 'INTERNSHIP', maxLevel: 3 },
  { id: 'LFA_COACH', maxLevel: 8 },
  { id: 'LFA_FOOTBALL_PLAYER', maxLevel: 8 },
  { id: 'PLAYER', maxLevel: 8 },
];
/** The ids the legacy layout's rows are stored under. */
export const LEGACY_STORED_IDS: readonly string[] = ['COACH', 'INTERNSHIP', 'PLAYER'];
/** The catalog's legacy aliases (`DEFAULT_CATALOG`: PLAYER → GANCUJU_PLAYER, COACH → LFA_COACH). */
export const LEGACY_ALIASES: ReadonlyMap<string, string> = new Map([
  ['PLAYER', 'GANCUJU_PLAYER'],
  ['COACH', 'LFA_COACH'],
]);

/** Which rows a data set has: the specializations table and the ids rows are stored under. */
export interface DatasetLayout {
  readonly specializations: readonly { readonly id: string; readonly maxLevel: number }[];
  readonly storedIds: readonly string[];
}

/** The layout of `canonical` (M, L, drift) or `legacy` data sets. */
export function layoutOf(layout: 'canonical' | 'legacy'): DatasetLayout {
  return layout === 'legacy'
    ? { specializations: LEGACY_SPECIALIZATIONS, storedIds: LEGACY_STORED_IDS }
    : { specializations: BENCH_SPECIALIZATIONS, storedIds: BENCH_SPECIALIZATIONS.map((s) => s.id) };
}

/** What the generator produced. */
export interface DatasetFacts {
  readonly users: number;
  readonly pairs: number;
  readonly progressRows: number;
  readonly licenseRows: number;
  readonly missingProgress: number;
  readonly missingLicense: number;
  readonly levelMismatch: number;
  readonly aboveMax: number;
  /** Pairs not in sync (any reason): the rows the pristine copies hold. */
  readonly differingPairs: number;
  readonly progressMb: number;
  readonly licensesMb: number;
  readonly generateSeconds: number;
}

/**
 * Creates the original schema in `public` and fills it: `users` 1..n, the five
 * specializations, then one grid cell per (user, specialization) with its random draws,
 * from which the progress and license rows are inserted in key order. Deterministic for a seed
 * (one serial statement draws every random number). Foreign keys are not checked row by row
 * during the load (`session_replication_role = replica`): the rows satisfy them by
 * construction. Ends with VACUUM ANALYZE.
 */
export async function generateDataset(
  client: pg.Client,
  users: number,
  seed: number,
  options: { readonly layout?: DatasetLayout; readonly drift?: DriftMix } = {},
): Promise<DatasetFacts> {
  const started = process.hrtime.bigint();
  const layout = options.layout ?? layoutOf('canonical');
  const drift = options.drift ?? DRIFT;
  const run = pgClient(client).run;
  await createOriginalSchema(run, { schema: 'public', replace: false });
  await client.query(`INSERT INTO specializations (id, name, max_levels) SELECT id, initcap(replace(id, '_', ' ')), m FROM unnest($1::text[], $2::int4[]) AS s(id, m)`, [
    layout.specializations.map((s) => s.id),
    layout.specializations.map((s) => s.maxLevel),
  ]);
  await client.query('SET session_replication_role = replica');
  await client.query(`INSERT INTO users (id, email, name) SELECT u, 'learner' || u || '@example.test', 'Learner ' || u FROM generate_series(1, $1::int) u`, [users]);
  await client.query(`SELECT setval(pg_get_serial_sequence('users', 'id'), $1::int)`, [users]);
  await client.query('SELECT setseed($1::float8)', [seed]);
  // One row per cell; lvl is the progress level (uniform in 1..max).
  await client.query(
    `CREATE UNLOGGED TABLE bench_grid AS
     SELECT c.u, c.spec, c.mx,
            c.r_p >= $2::float8 AS has_p,
            (c.r_p < $2::float8 OR c.r_l >= $3::float8) AS has_l,
            c.lvl AS p_lvl,
            CASE WHEN c.r_p < $2::float8 THEN c.lvl
                 WHEN c.r_d < $4::float8 THEN CASE WHEN c.lvl < c.mx THEN c.lvl + 1 ELSE c.lvl - 1 END
                 WHEN c.r_d < $4::float8 + $5::float8 THEN c.mx + 2
                 ELSE c.lvl END AS l_lvl,
            c.r_t
     FROM (
       SELECT u, s.id AS spec, s.max_levels AS mx, random() AS r_p, random() AS r_l, random() AS r_d,
              1 + floor(random() * s.max_levels)::int AS lvl, random() AS r_t
       FROM generate_series(1, $1::int) u
       CROSS JOIN (SELECT id, max_levels FROM specializations WHERE id = ANY($6::text[]) ORDER BY id) s
     ) c`,
    [users, drift.missingProgress, drift.missingLicense, drift.levelDrift, drift.aboveMax, layout.storedIds],
  );
  // Timestamps spread over 2025; every level column is an integer within its CHECK-free range.
  await client.query(
    `INSERT INTO specialization_progress (student_id, specialization_id, current_level, total_xp, completed_sessions, completed_projects,
       theory_hours_completed, practice_hours_completed, last_activity, created_at, updated_at)
     SELECT u, spec, p_lvl, p_lvl * 10000 + floor(r_t * 9000)::int, p_lvl * 5 + floor(r_t * 5)::int, 0, 0, 0,
            timestamp '2025-06-01' + r_t * interval '180 days', timestamp '2025-01-01' + r_t * interval '150 days',
            timestamp '2025-06-01' + r_t * interval '180 days'
     FROM bench_grid WHERE has_p ORDER BY u, spec`,
  );
  await client.query(
    `INSERT INTO user_licenses (user_id, specialization_type, current_level, max_achieved_level, started_at, last_advanced_at, created_at, updated_at)
     SELECT u, spec, l_lvl, l_lvl, timestamp '2025-01-01' + r_t * interval '150 days', timestamp '2025-06-01' + r_t * interval '180 days',
            timestamp '2025-01-01' + r_t * interval '150 days', timestamp '2025-06-01' + r_t * interval '180 days'
     FROM bench_grid WHERE has_l ORDER BY u, spec`,
  );
  await client.query('RESET session_replication_role');

  const counts = (
    await client.query(
      `SELECT count(*)::int AS pairs,
              count(*) FILTER (WHERE has_p)::int AS progress_rows,
              count(*) FILTER (WHERE has_l)::int AS license_rows,
              count(*) FILTER (WHERE NOT has_p)::int AS missing_progress,
              count(*) FILTER (WHERE has_p AND NOT has_l)::int AS missing_license,
              count(*) FILTER (WHERE has_p AND has_l AND l_lvl <> p_lvl AND l_lvl <= mx)::int AS level_mismatch,
              count(*) FILTER (WHERE has_p AND has_l AND l_lvl > mx)::int AS above_max
       FROM bench_grid`,
    )
  ).rows[0] as Record<string, number>;

  // The keys of every pair that is not in sync, and pristine copies of their rows.
  await client.query(`CREATE TABLE bench_keys AS SELECT u, spec FROM bench_grid WHERE NOT (has_p AND has_l AND p_lvl = l_lvl)`);
  await client.query('DROP TABLE bench_grid');
  await client.query(
    `CREATE TABLE bench_pristine_progress AS SELECT t.* FROM specialization_progress t JOIN bench_keys k ON t.student_id = k.u AND t.specialization_id = k.spec`,
  );
  await client.query(
    `CREATE TABLE bench_pristine_licenses AS SELECT t.* FROM user_licenses t JOIN bench_keys k ON t.user_id = k.u AND t.specialization_type = k.spec`,
  );
  await client.query('ALTER TABLE bench_pristine_progress ADD PRIMARY KEY (id)');
  await client.query('ALTER TABLE bench_pristine_licenses ADD PRIMARY KEY (id)');
  await client.query(
    `CREATE TABLE bench_state AS SELECT (SELECT max(id) FROM specialization_progress) AS max_progress_id, (SELECT max(id) FROM user_licenses) AS max_license_id`,
  );
  await client.query('VACUUM ANALYZE');
  const sizes = (
    await client.query(
      `SELECT pg_total_relation_size('specialization_progress') / 1048576.0 AS p, pg_total_relation_size('user_licenses') / 1048576.0 AS l`,
    )
  ).rows[0] as { p: string; l: string };
  const differing = (await client.query('SELECT count(*)::int AS n FROM bench_keys')).rows[0] as { n: number };
  return {
    users,
    pairs: counts['pairs']!,
    progressRows: counts['progress_rows']!,
    licenseRows: counts['license_rows']!,
    missingProgress: counts['missing_progress']!,
    missingLicense: counts['missing_license']!,
    levelMismatch: counts['level_mismatch']!,
    aboveMax: counts['above_max']!,
    differingPairs: differing.n,
    progressMb: Number(sizes.p),
    licensesMb: Number(sizes.l),
    generateSeconds: secondsSince(started),
  };
}

/**
 * Restores the drifted state: rows created by a contender go (ids above the pristine maxima,
 * sequences set back), every row of a drifted pair gets its pristine values back, the history
 * is emptied, and VACUUM clears the dead row versions so that every contender starts from the
 * same table state (statistics are left as ANALYZE made them). Then checks the restore.
 */
export async function resetDrift(client: pg.Client): Promise<number> {
  const started = process.hrtime.bigint();
  await client.query('BEGIN');
  await client.query('TRUNCATE license_progressions RESTART IDENTITY');
  await client.query('DELETE FROM user_licenses WHERE id > (SELECT max_license_id FROM bench_state)');
  await client.query('DELETE FROM specialization_progress WHERE id > (SELECT max_progress_id FROM bench_state)');
  await client.query(`SELECT setval(pg_get_serial_sequence('user_licenses', 'id'), (SELECT max_license_id FROM bench_state))`);
  await client.query(`SELECT setval(pg_get_serial_sequence('specialization_progress', 'id'), (SELECT max_progress_id FROM bench_state))`);
  await client.query(
    `UPDATE user_licenses t SET current_level = b.current_level, max_achieved_level = b.max_achieved_level, started_at = b.started_at,
            last_advanced_at = b.last_advanced_at, created_at = b.created_at, updated_at = b.updated_at
     FROM bench_pristine_licenses b
     WHERE t.id = b.id AND (t.current_level, t.max_achieved_level, t.started_at, t.last_advanced_at, t.created_at, t.updated_at)
       IS DISTINCT FROM (b.current_level, b.max_achieved_level, b.started_at, b.last_advanced_at, b.created_at, b.updated_at)`,
  );
  await client.query(
    `UPDATE specialization_progress t SET current_level = b.current_level, total_xp = b.total_xp, completed_sessions = b.completed_sessions,
            last_activity = b.last_activity, created_at = b.created_at, updated_at = b.updated_at
     FROM bench_pristine_progress b
     WHERE t.id = b.id AND (t.current_level, t.total_xp, t.completed_sessions, t.last_activity, t.created_at, t.updated_at)
       IS DISTINCT FROM (b.current_level, b.total_xp, b.completed_sessions, b.last_activity, b.created_at, b.updated_at)`,
  );
  await client.query('COMMIT');
  await client.query('VACUUM user_licenses, specialization_progress, license_progressions');
  await client.query('CHECKPOINT').catch(() => undefined);
  const check = (
    await client.query(
      `SELECT (SELECT count(*) FROM user_licenses t JOIN bench_pristine_licenses b USING (id)
                WHERE (t.current_level, t.max_achieved_level, t.last_advanced_at, t.updated_at)
                  IS DISTINCT FROM (b.current_level, b.max_achieved_level, b.last_advanced_at, b.updated_at))
            + (SELECT count(*) FROM specialization_progress t JOIN bench_pristine_progress b USING (id)
                WHERE (t.current_level, t.updated_at) IS DISTINCT FROM (b.current_level, b.updated_at))
            + (SELECT count(*) FROM license_progressions) AS off`,
    )
  ).rows[0] as { off: string };
  if (Number(check.off) !== 0) throw new Error(`reset left ${check.off} rows different from the pristine copies`);
  const seconds = secondsSince(started);
  log(`reset to the drifted state in ${seconds.toFixed(1)} s`);
  return seconds;
}
