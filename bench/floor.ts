// The SQL floor: what hand-written SQL does for the same two steps, on the same tables.
import pg from 'pg';
import { secondsSince } from './support.js';

/**
 * Detection floor: the bare FULL JOIN diff, counted server-side (no row leaves the server).
 * Same joins and same filters as levelsync's statement: progress ⟗ licenses on user id and
 * specialization id, the maximum level looked up per specialization, and a pair kept unless it
 * is in sync (both rows, levels equal, ≥ 1, ≤ the maximum, max achieved ≥ level).
 */
export const FLOOR_DETECT_SQL = `SELECT count(*) AS n FROM (
  SELECT coalesce(p.student_id, l.user_id) AS u, coalesce(p.specialization_id, l.specialization_type) AS sid,
         p.current_level AS p_lvl, p.total_xp, p.completed_sessions, l.current_level AS l_lvl, l.max_achieved_level
  FROM specialization_progress p
  FULL JOIN user_licenses l ON l.user_id = p.student_id AND l.specialization_type = p.specialization_id
  LEFT JOIN specializations s ON s.id = coalesce(p.specialization_id, l.specialization_type)
  WHERE NOT coalesce(p.current_level >= 1 AND p.current_level = l.current_level AND p.current_level <= s.max_levels
                     AND l.max_achieved_level >= l.current_level, false)
) d`;

/**
 * Detection floor on data stored under legacy ids (data set `legacy`): the same count, with each
 * stored id mapped to its canonical id first, as hand-written SQL must to pair a `PLAYER` row
 * with a `GANCUJU_PLAYER` one (a CASE over the catalog's aliases; the maximum looked up under the
 * canonical id). With no aliases it is {@link FLOOR_DETECT_SQL}.
 */
export function floorDetectSql(aliases: ReadonlyMap<string, string>): string {
  if (aliases.size === 0) return FLOOR_DETECT_SQL;
  const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const canon = (column: string) => `CASE ${column} ${[...aliases].map(([a, c]) => `WHEN ${lit(a)} THEN ${lit(c)}`).join(' ')} ELSE ${column} END`;
  return `SELECT count(*) AS n FROM (
  SELECT coalesce(p.student_id, l.user_id) AS u, coalesce(p.c, l.c) AS sid,
         p.current_level AS p_lvl, p.total_xp, p.completed_sessions, l.current_level AS l_lvl, l.max_achieved_level
  FROM (SELECT *, ${canon('specialization_id')}::text AS c FROM specialization_progress) p
  FULL JOIN (SELECT *, ${canon('specialization_type')}::text AS c FROM user_licenses) l ON l.user_id = p.student_id AND l.c = p.c
  LEFT JOIN specializations s ON s.id = coalesce(p.c, l.c)
  WHERE NOT coalesce(p.current_level >= 1 AND p.current_level = l.current_level AND p.current_level <= s.max_levels
                     AND l.max_achieved_level >= l.current_level, false)
) d`;
}

/** The reference document's form of the bare diff (appendix of sql-performance.md), for comparison. */
export const REFERENCE_DETECT_SQL = `SELECT count(*) AS n FROM (
  SELECT coalesce(p.student_id, l.user_id), coalesce(p.specialization_id, l.specialization_type), p.current_level, l.current_level, l.max_achieved_level
  FROM specialization_progress p
  FULL JOIN user_licenses l ON l.user_id = p.student_id AND l.specialization_type = p.specialization_id
  LEFT JOIN specializations s ON s.id = coalesce(p.specialization_id, l.specialization_type)
  WHERE p.student_id IS NULL OR l.user_id IS NULL OR p.current_level IS DISTINCT FROM l.current_level
     OR l.current_level > s.max_levels OR p.current_level > s.max_levels
) d`;

/** Runs the detection floor once: seconds and the number of differing pairs. */
export async function floorDetect(client: pg.Client, sql = FLOOR_DETECT_SQL): Promise<{ seconds: number; rows: number }> {
  const started = process.hrtime.bigint();
  const result = await client.query(sql);
  const seconds = secondsSince(started);
  return { seconds, rows: Number((result.rows[0] as { n: string }).n) };
}

/**
 * The detection floor on a session opened just before (connected outside the clock), as the
 * levelsync detection process meets its sessions: a new PostgreSQL backend runs its first
 * statement on these tables slower than a warm one (measured ≈ 200 ms on `legacy`), so this is
 * the floor in the same state as the contender it is compared with. Informational beside
 * {@link floorDetect}, which runs on the bench's long-lived, warm connection.
 */
export async function floorDetectFreshSession(url: string, sql = FLOOR_DETECT_SQL): Promise<{ seconds: number; rows: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await floorDetect(client, sql);
  } finally {
    await client.end();
  }
}

/**
 * The hand-written form of the legacy-id summary that levelsync's scan computes beside its diff
 * (progress rows, license rows and pairs per stored legacy id), with the ids as literals.
 */
export function floorLegacySummarySql(aliases: ReadonlyMap<string, string>): string {
  const ids = [...aliases.keys()].map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
  return `SELECT sid, count(*) FILTER (WHERE side = 1) AS p_rows, count(*) FILTER (WHERE side = 2) AS l_rows, count(DISTINCT u) AS pairs
  FROM (SELECT student_id AS u, specialization_id AS sid, 1 AS side FROM specialization_progress WHERE specialization_id IN (${ids})
        UNION ALL SELECT user_id, specialization_type, 2 FROM user_licenses WHERE specialization_type IN (${ids})) x
  GROUP BY sid`;
}

/**
 * The detection floor doing what levelsync's scan does on a data set with legacy ids: the floor's
 * count and the hand-written legacy-id summary, each on its own warm session, at the same time
 * (as the scan runs its diff and its summary). Informational beside {@link floorDetect}.
 */
export async function floorDetectAndSummary(client: pg.Client, second: pg.Client, detectSql: string, aliases: ReadonlyMap<string, string>): Promise<{ seconds: number; rows: number }> {
  const started = process.hrtime.bigint();
  const [count] = await Promise.all([client.query(detectSql), second.query(floorLegacySummarySql(aliases))]);
  return { seconds: secondsSince(started), rows: Number((count.rows[0] as { n: string }).n) };
}

/** One license repair: set the license to the progress level (the level mismatches of the plan). */
export interface Repair {
  readonly userId: number;
  readonly specializationId: string;
  readonly from: number;
  readonly to: number;
  /** The license's maximum achieved level (the compare-and-set floor checks it). */
  readonly maxAchieved: number;
  readonly reason: string;
  readonly evidence: string;
}

/**
 * The level mismatches within the maximum, in key order: exactly the `SetLicenseLevel` actions
 * of levelsync's plan under the bench policy (progress → license, demotions allowed, missing
 * rows and levels above the maximum flagged). Read once, outside any timing.
 */
export async function readRepairs(client: pg.Client): Promise<Repair[]> {
  const result = await client.query(
    `SELECT l.user_id, l.specialization_type, l.current_level AS f, p.current_level AS t, l.max_achieved_level AS mx, p.total_xp, p.completed_sessions
     FROM specialization_progress p
     JOIN user_licenses l ON l.user_id = p.student_id AND l.specialization_type = p.specialization_id
     JOIN specializations s ON s.id = p.specialization_id
     WHERE p.current_level <> l.current_level AND p.current_level BETWEEN 1 AND s.max_levels AND l.current_level BETWEEN 1 AND s.max_levels
       AND l.max_achieved_level >= l.current_level
     ORDER BY l.user_id, l.specialization_type`,
  );
  return result.rows.map((row: Record<string, unknown>) => ({
    userId: Number(row['user_id']),
    specializationId: String(row['specialization_type']),
    from: Number(row['f']),
    to: Number(row['t']),
    maxAchieved: Number(row['mx']),
    reason: `sync: license ${String(row['f'])} -> ${String(row['t'])}`,
    evidence: `Progress level: ${String(row['t'])}, XP: ${String(row['total_xp'])}, Sessions: ${String(row['completed_sessions'])}`,
  }));
}

/** The floor's chunk size (sql-performance.md §1.2: 5 000-key chunks, one transaction each). */
export const FLOOR_CHUNK = 5_000;

/**
 * Apply floor: `UPDATE … FROM unnest` guarded by the expected level, the history row written by
 * a data-modifying CTE from RETURNING, one statement per chunk inside BEGIN/COMMIT. It writes
 * the same columns levelsync writes (level, max achieved level, last advanced, updated; a
 * history row with license id, from, to, reason, evidence, time).
 */
export const FLOOR_APPLY_SQL = `WITH x AS (
  SELECT * FROM unnest($1::int4[], $2::text[], $3::int4[], $4::int4[], $5::text[], $6::text[]) AS x(u, t, f, to_lvl, reason, evidence)
), upd AS (
  UPDATE user_licenses l
  SET current_level = x.to_lvl, max_achieved_level = greatest(l.max_achieved_level, x.to_lvl), last_advanced_at = $7, updated_at = $7
  FROM x
  WHERE l.user_id = x.u AND l.specialization_type = x.t AND l.current_level = x.f
  RETURNING l.id, x.f, x.to_lvl, x.reason, x.evidence
)
INSERT INTO license_progressions (user_license_id, from_level, to_level, advancement_reason, requirements_met, advanced_at)
SELECT id, f, to_lvl, reason, evidence, $7 FROM upd`;

/** The bound values of one floor chunk. */
export function floorValues(chunk: readonly Repair[], now: Date): unknown[] {
  return [
    chunk.map((r) => r.userId),
    chunk.map((r) => r.specializationId),
    chunk.map((r) => r.from),
    chunk.map((r) => r.to),
    chunk.map((r) => r.reason),
    chunk.map((r) => r.evidence),
    now,
  ];
}

/** Runs an apply statement over every repair in FLOOR_CHUNK chunks, BEGIN/COMMIT around each. */
async function applyInChunks(
  client: pg.Client,
  repairs: readonly Repair[],
  sql: string,
  values: (chunk: readonly Repair[], now: Date) => unknown[],
): Promise<{ seconds: number; rows: number; statements: number }> {
  const started = process.hrtime.bigint();
  let rows = 0;
  let statements = 0;
  for (let i = 0; i < repairs.length; i += FLOOR_CHUNK) {
    const chunk = repairs.slice(i, i + FLOOR_CHUNK);
    await client.query('BEGIN');
    const result = await client.query(sql, values(chunk, new Date()));
    await client.query('COMMIT');
    rows += result.rowCount ?? 0;
    statements += 3;
  }
  return { seconds: secondsSince(started), rows, statements };
}

/** Runs the apply floor over every repair: seconds, rows written and statements sent. */
export function floorApply(client: pg.Client, repairs: readonly Repair[]): Promise<{ seconds: number; rows: number; statements: number }> {
  return applyInChunks(client, repairs, FLOOR_APPLY_SQL, floorValues);
}

/**
 * The compare-and-set floor (informational): the least hand-written SQL with levelsync's
 * guarantee for a license repair. The progress row is locked (FOR UPDATE, in key order) and
 * must still hold the level the repair was planned from; the license update is guarded by its
 * level and maximum achieved level; history from RETURNING; 5 000 keys per statement inside
 * BEGIN/COMMIT. The plain floor above neither reads nor locks the progress row.
 */
export const FLOOR_CAS_APPLY_SQL = `WITH x AS (
  SELECT * FROM unnest($1::int4[], $2::text[], $3::int4[], $4::int4[], $5::int4[], $6::text[], $7::text[]) AS x(u, t, f, to_lvl, mx, reason, evidence)
), p AS (
  SELECT x.* FROM x JOIN specialization_progress s ON s.student_id = x.u AND s.specialization_id = x.t
  WHERE s.current_level = x.to_lvl
  ORDER BY x.u, x.t
  FOR UPDATE OF s
), upd AS (
  UPDATE user_licenses l
  SET current_level = p.to_lvl, max_achieved_level = greatest(l.max_achieved_level, p.to_lvl), last_advanced_at = $8, updated_at = $8
  FROM p
  WHERE l.user_id = p.u AND l.specialization_type = p.t AND l.current_level = p.f AND l.max_achieved_level = p.mx
  RETURNING l.id, p.f, p.to_lvl, p.reason, p.evidence
)
INSERT INTO license_progressions (user_license_id, from_level, to_level, advancement_reason, requirements_met, advanced_at)
SELECT id, f, to_lvl, reason, evidence, $8 FROM upd`;

/** The bound values of one compare-and-set floor chunk. */
export function floorCasValues(chunk: readonly Repair[], now: Date): unknown[] {
  return [
    chunk.map((r) => r.userId),
    chunk.map((r) => r.specializationId),
    chunk.map((r) => r.from),
    chunk.map((r) => r.to),
    chunk.map((r) => r.maxAchieved),
    chunk.map((r) => r.reason),
    chunk.map((r) => r.evidence),
    now,
  ];
}

/** Runs the compare-and-set floor over every repair. */
export function floorCasApply(client: pg.Client, repairs: readonly Repair[]): Promise<{ seconds: number; rows: number; statements: number }> {
  return applyInChunks(client, repairs, FLOOR_CAS_APPLY_SQL, floorCasValues);
}
