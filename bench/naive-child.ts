// Contender 2, the baseline: a faithful TypeScript port of the original sync service
// (reference/original-system.md §4, app/services/progress_license_sync_service.py), run in its
// own process on one connection, as its SQLAlchemy session did.
//
// - find_desync_issues(): three queries (mismatches through an inner join with users, filtered
//   row by row in application code; progress without license; license without progress), no
//   ORDER BY; issues in that order.
// - auto_sync_all("progress_to_license"): per issue, its own transaction: BEGIN, re-read the
//   progress row, re-read the license row (FOR UPDATE, as sql-performance.md's naive variant;
//   the original took no lock), UPDATE the license (level = progress level, max achieved =
//   max(old, new), last advanced = now), INSERT one license_progressions row, COMMIT.
//   A missing license is created from the progress (no history row); a missing progress from
//   the license.
//
// The loop runs on the first `--sample` issues (the original order puts mismatches first) and
// reports rows/s; the caller resets the tables afterwards.
//
//   tsx bench/naive-child.ts --url <database url> --sample 3000
import { parseArgs } from 'node:util';
import pg from 'pg';
import { peakRssMiB, secondsSince } from './support.js';

export interface NaiveRun {
  readonly detectSeconds: number;
  readonly issues: number;
  readonly mismatches: number;
  readonly missingLicenses: number;
  readonly missingProgress: number;
  readonly sample: number;
  readonly loopSeconds: number;
  readonly synced: number;
  readonly failed: number;
  readonly statements: number;
  readonly rowsPerSecond: number;
  readonly peakRssMiB: number;
}

interface Issue {
  readonly user_id: number;
  readonly user_email: string | null;
  readonly specialization: string;
  readonly progress_level: number | null;
  readonly license_level: number | null;
  readonly difference: number | null;
  readonly recommended_action: string;
  readonly issue_type?: 'missing_license' | 'missing_progress';
}

interface SyncResult {
  readonly success: boolean;
  readonly action?: string;
  readonly message?: string;
}

const { values } = parseArgs({ options: { url: { type: 'string' }, sample: { type: 'string' } } });
if (!values.url) throw new Error('--url is required');
const sample = Number(values.sample ?? 3_000);

const db = new pg.Client({ connectionString: values.url });
await db.connect();
let statements = 0;
const query = (text: string, params?: unknown[]) => {
  statements++;
  return db.query(text, params);
};

/** find_desync_issues(specialization=None): three queries, mismatches first. */
async function findDesyncIssues(): Promise<Issue[]> {
  const issues: Issue[] = [];
  const joined = await query(
    `SELECT p.student_id, u.email, p.specialization_id, p.current_level AS progress_level, l.current_level AS license_level
     FROM specialization_progress p
     JOIN user_licenses l ON p.student_id = l.user_id AND p.specialization_id = l.specialization_type
     JOIN users u ON u.id = p.student_id`,
  );
  for (const row of joined.rows as { student_id: number; email: string | null; specialization_id: string; progress_level: number | null; license_level: number }[]) {
    if (row.progress_level !== row.license_level) {
      // abs(None - int) raised in the original: a NULL progress level fails the whole call.
      if (row.progress_level === null) throw new TypeError("unsupported operand type(s) for -: 'NoneType' and 'int'");
      issues.push({
        user_id: row.student_id,
        user_email: row.email,
        specialization: row.specialization_id,
        progress_level: row.progress_level,
        license_level: row.license_level,
        difference: Math.abs(row.progress_level - row.license_level),
        recommended_action: row.progress_level > row.license_level ? 'sync_progress_to_license' : 'sync_license_to_progress',
      });
    }
  }
  const noLicense = await query(
    `SELECT p.student_id, u.email, p.specialization_id, p.current_level
     FROM specialization_progress p
     LEFT JOIN user_licenses l ON p.student_id = l.user_id AND p.specialization_id = l.specialization_type
     JOIN users u ON u.id = p.student_id
     WHERE l.id IS NULL`,
  );
  for (const row of noLicense.rows as { student_id: number; email: string | null; specialization_id: string; current_level: number | null }[]) {
    issues.push({
      user_id: row.student_id,
      user_email: row.email,
      specialization: row.specialization_id,
      progress_level: row.current_level,
      license_level: null,
      difference: null,
      recommended_action: 'create_license_from_progress',
      issue_type: 'missing_license',
    });
  }
  const noProgress = await query(
    `SELECT l.user_id, u.email, l.specialization_type, l.current_level
     FROM user_licenses l
     LEFT JOIN specialization_progress p ON p.student_id = l.user_id AND p.specialization_id = l.specialization_type
     JOIN users u ON u.id = l.user_id
     WHERE p.id IS NULL`,
  );
  for (const row of noProgress.rows as { user_id: number; email: string | null; specialization_type: string; current_level: number }[]) {
    issues.push({
      user_id: row.user_id,
      user_email: row.email,
      specialization: row.specialization_type,
      progress_level: null,
      license_level: row.current_level,
      difference: null,
      recommended_action: 'create_progress_from_license',
      issue_type: 'missing_progress',
    });
  }
  return issues;
}

interface ProgressRow {
  id: number;
  student_id: number;
  specialization_id: string;
  current_level: number | null;
  total_xp: number | null;
  completed_sessions: number | null;
  last_activity: Date | null;
  created_at: Date | null;
}
interface LicenseRow {
  id: number;
  user_id: number;
  specialization_type: string;
  current_level: number;
  max_achieved_level: number;
  last_advanced_at: Date | null;
}

/** sync_progress_to_license(user_id, specialization, synced_by=None): progress is the truth. */
async function syncProgressToLicense(userId: number, specialization: string): Promise<SyncResult> {
  const spec = specialization.toUpperCase();
  await query('BEGIN');
  try {
    const progress = (await query('SELECT * FROM specialization_progress WHERE student_id = $1 AND specialization_id = $2 LIMIT 1', [userId, spec])).rows[0] as
      | ProgressRow
      | undefined;
    if (!progress) {
      await query('COMMIT');
      return { success: false, action: 'none', message: `No progress found for user ${userId} in ${spec}` };
    }
    const license = (await query('SELECT * FROM user_licenses WHERE user_id = $1 AND specialization_type = $2 LIMIT 1 FOR UPDATE', [userId, spec])).rows[0] as
      | LicenseRow
      | undefined;
    const now = new Date();
    if (!license) {
      await query(
        `INSERT INTO user_licenses (user_id, specialization_type, current_level, max_achieved_level, started_at, last_advanced_at, created_at, updated_at)
         VALUES ($1, $2, $3, $3, $4, $5, $6, $6) RETURNING id`,
        [userId, spec, progress.current_level, progress.created_at ?? now, progress.last_activity, now],
      );
      await query('COMMIT');
      return { success: true, action: 'created' };
    }
    if (license.current_level === progress.current_level) {
      await query('COMMIT');
      return { success: true, action: 'none', message: 'Already in sync' };
    }
    const old = license.current_level;
    const level = progress.current_level as number;
    await query('UPDATE user_licenses SET current_level = $1, max_achieved_level = $2, last_advanced_at = $3, updated_at = $3 WHERE user_licenses.id = $4', [
      level,
      Math.max(license.max_achieved_level, level),
      now,
      license.id,
    ]);
    await query(
      `INSERT INTO license_progressions (user_license_id, from_level, to_level, advanced_by, advancement_reason, requirements_met, advanced_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [license.id, old, level, null, 'Auto-sync from SpecializationProgress', `Progress level: ${level}, XP: ${progress.total_xp}, Sessions: ${progress.completed_sessions}`, now],
    );
    await query('COMMIT');
    return { success: true, action: 'updated', message: `License updated: level ${old} -> ${level}` };
  } catch (error) {
    await query('ROLLBACK');
    throw error;
  }
}

/** sync_license_to_progress(user_id, specialization): license is the truth. */
async function syncLicenseToProgress(userId: number, specialization: string): Promise<SyncResult> {
  const spec = specialization.toUpperCase();
  await query('BEGIN');
  try {
    const license = (await query('SELECT * FROM user_licenses WHERE user_id = $1 AND specialization_type = $2 LIMIT 1', [userId, spec])).rows[0] as LicenseRow | undefined;
    if (!license) {
      await query('COMMIT');
      return { success: false, action: 'none', message: `No license found for user ${userId} in ${spec}` };
    }
    const progress = (await query('SELECT * FROM specialization_progress WHERE student_id = $1 AND specialization_id = $2 LIMIT 1', [userId, spec])).rows[0] as
      | ProgressRow
      | undefined;
    const now = new Date();
    if (!progress) {
      await query(
        `INSERT INTO specialization_progress (student_id, specialization_id, current_level, total_xp, completed_sessions, completed_projects, last_activity, created_at, updated_at)
         VALUES ($1, $2, $3, 0, 0, 0, $4, $5, $5) RETURNING id`,
        [userId, spec, license.current_level, license.last_advanced_at ?? now, now],
      );
      await query('COMMIT');
      return { success: true, action: 'created' };
    }
    if (progress.current_level === license.current_level) {
      await query('COMMIT');
      return { success: true, action: 'none' };
    }
    await query('UPDATE specialization_progress SET current_level = $1, last_activity = $2, updated_at = $2 WHERE specialization_progress.id = $3', [
      license.current_level,
      now,
      progress.id,
    ]);
    await query('COMMIT');
    return { success: true, action: 'updated' };
  } catch (error) {
    await query('ROLLBACK');
    throw error;
  }
}

try {
  const detectStarted = process.hrtime.bigint();
  const issues = await findDesyncIssues();
  const detectSeconds = secondsSince(detectStarted);

  // auto_sync_all(sync_direction="progress_to_license"), on the first `sample` issues.
  const todo = issues.slice(0, sample);
  statements = 0;
  let synced = 0;
  let failed = 0;
  const loopStarted = process.hrtime.bigint();
  for (const issue of todo) {
    try {
      const result =
        issue.issue_type === 'missing_license'
          ? await syncProgressToLicense(issue.user_id, issue.specialization)
          : issue.issue_type === 'missing_progress'
            ? await syncLicenseToProgress(issue.user_id, issue.specialization)
            : await syncProgressToLicense(issue.user_id, issue.specialization);
      if (result.success) synced++;
      else failed++;
    } catch {
      failed++;
    }
  }
  const loopSeconds = secondsSince(loopStarted);
  const result: NaiveRun = {
    detectSeconds,
    issues: issues.length,
    mismatches: issues.filter((i) => i.issue_type === undefined).length,
    missingLicenses: issues.filter((i) => i.issue_type === 'missing_license').length,
    missingProgress: issues.filter((i) => i.issue_type === 'missing_progress').length,
    sample: todo.length,
    loopSeconds,
    synced,
    failed,
    statements,
    rowsPerSecond: synced / loopSeconds,
    peakRssMiB: peakRssMiB(),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await db.end();
}
