import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPlan, createMaxLevelResolver, createPlan, parsePlan, scanDesyncs, type SyncAction } from 'levelsync';
import {
  createLevelsyncMapping,
  createPgMapping,
  createPgMaxLevelRepository,
  createPgSyncStore,
  migrate,
  ORIGINAL_SYSTEM_MAPPING,
  upsertSpecializations,
  type PgConnection,
  type PgMapping,
} from 'levelsync/pg';
import { runLevelsync } from '../../cli/cli-process.js';
import { createOriginalSchema, ensureOriginalUsers } from '../../support/original-schema.js';
import { dropSchema, type PgTestTarget } from './target.js';

// Issue 11: "a write whose specialization row is missing (FK) is flagged for review with that
// reason instead of planned", on PostgreSQL, with rows stored under the legacy ids PLAYER and
// COACH as the original system's tables hold them. A table that lost one of its foreign keys (a
// hand-migrated database) holds records under ids the specializations table does not have.

const flagsOf = (actions: readonly SyncAction[]) =>
  actions.filter((a) => a.kind === 'FlagForReview').map((a) => [a.userId, a.specializationId, a.kind === 'FlagForReview' ? a.reasons : [], a.kind === 'FlagForReview' ? a.message : '']);
const writesOf = (actions: readonly SyncAction[]) => actions.filter((a) => a.kind !== 'FlagForReview').map((a) => [a.userId, a.kind, a.write]);

async function planAndApply(connection: PgConnection, mapping: PgMapping) {
  const store = createPgSyncStore(connection, { mapping });
  const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(connection, { mapping })] });
  const scan = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
  const plan = createPlan(scan)._unsafeUnwrap();
  const report = (await applyPlan(plan, store))._unsafeUnwrap();
  const again = createPlan((await scanDesyncs(store, { resolver }))._unsafeUnwrap())._unsafeUnwrap();
  return { scan, plan, report, again };
}

/**
 * The plan flags creations under a specialization id with no row (exact stored id) where the
 * table written to holds a foreign key to the specializations table; `cliUrl` (server only) also
 * runs `levelsync check` and `levelsync plan` on the original-schema data.
 */
export function defineSpecializationRows(target: PgTestTarget, prefix: string, cliUrl?: () => string): void {
  describe(`${target.label}: a creation whose specialization row is missing is flagged, not planned`, () => {
    it('levelsync mapping: progress without a foreign key holds rows under COACH and INTERNSHIP; their licenses are flagged, the rest applied', async () => {
      const schema = `${prefix}_specrows_ls`;
      const connection = target.connection();
      const mapping = createLevelsyncMapping({ schema })._unsafeUnwrap();
      await dropSchema(connection, schema);
      try {
        (await migrate(connection, { schema }))._unsafeUnwrap();
        (await upsertSpecializations(connection, [{ id: 'PLAYER', maxLevel: 8 }, { id: 'LFA_COACH', maxLevel: 8 }], { mapping }))._unsafeUnwrap();
        await connection.run(`ALTER TABLE "${schema}".progress DROP CONSTRAINT progress_specialization_id_fkey`);
        await connection.run(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) VALUES
          (1, 'COACH', 3), (2, 'INTERNSHIP', 2), (3, 'PLAYER', 4), (5, 'COACH', 2)`);
        await connection.run(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) VALUES
          (4, 'LFA_COACH', 2, 2), (5, 'LFA_COACH', 4, 4)`);
        const { scan, plan, report, again } = await planAndApply(connection, mapping);
        expect(scan.specializationRows).toEqual({ table: `${schema}.specializations`, ids: ['LFA_COACH', 'PLAYER'], enforced: { progress: false, license: true } });
        expect(flagsOf(plan.actions)).toEqual([
          [1, 'LFA_COACH', ['SpecializationRowMissing', 'MissingLicense'], `No row for specialization COACH in ${schema}.specializations: creating the license would violate its foreign key (add the row, then plan again)`],
          [2, 'INTERNSHIP', ['SpecializationRowMissing', 'MissingLicense'], `No row for specialization INTERNSHIP in ${schema}.specializations: creating the license would violate its foreign key (add the row, then plan again)`],
        ]);
        // Progress has no foreign key: a progress record may be created (or updated) under any id.
        expect(writesOf(plan.actions)).toEqual([
          [3, 'CreateLicense', { specializationId: 'PLAYER', level: 4, maxAchievedLevel: 4 }],
          [4, 'CreateProgress', { specializationId: 'LFA_COACH', level: 2 }],
          [5, 'SetProgressLevel', { level: 4 }],
        ]);
        expect(report.counts).toMatchObject({ Applied: 3, Failed: 0, Flagged: 2 });
        expect(report.status).toBe('Completed');
        expect(flagsOf(again.actions).map((f) => f.slice(0, 3))).toEqual(flagsOf(plan.actions).map((f) => f.slice(0, 3)));
        expect(writesOf(again.actions)).toEqual([]);
        console.info(`[figures] specialization-rows/${target.label}/levelsync: flagged=${plan.summary.actions.FlagForReview} applied=${report.counts.Applied} failed=${report.counts.Failed}`);
      } finally {
        await dropSchema(connection, schema);
      }
    });

    it('original mapping (specializations.max_levels): licenses without a foreign key hold rows under COACH and INTERNSHIP; their progress records are flagged', async () => {
      const schema = `${prefix}_specrows_orig`;
      const connection = target.connection();
      const mapping = createPgMapping({ schema }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
      const run = (text: string, values?: readonly unknown[]) => connection.run(text, values ?? []);
      await dropSchema(connection, schema);
      try {
        await createOriginalSchema(run, { schema });
        await ensureOriginalUsers(run, schema, [1, 2, 3, 4, 5]);
        // The table knows PLAYER (the legacy id its rows use) and LFA_COACH, not COACH, not INTERNSHIP.
        await run(`INSERT INTO "${schema}".specializations (id, name, max_levels) VALUES ('PLAYER', 'Player', 8), ('LFA_COACH', 'Coach', 8)`);
        await run(`ALTER TABLE "${schema}".user_licenses DROP CONSTRAINT fk_user_licenses_spec`);
        await run(`INSERT INTO "${schema}".specialization_progress (student_id, specialization_id, current_level) VALUES (1, 'PLAYER', 3), (4, 'PLAYER', 2)`);
        await run(`INSERT INTO "${schema}".user_licenses (user_id, specialization_type, current_level, max_achieved_level, started_at) VALUES
          (2, 'COACH', 4, 4, now()), (3, 'INTERNSHIP', 2, 2, now()), (4, 'PLAYER', 5, 5, now()), (5, 'PLAYER', 2, 2, now())`);
        const { scan, plan, report, again } = await planAndApply(connection, mapping);
        expect(scan.specializationRows).toEqual({ table: `${schema}.specializations`, ids: ['LFA_COACH', 'PLAYER'], enforced: { progress: true, license: false } });
        // The maximum of LFA_COACH came from the table itself: only the exact stored id tells that COACH has no row.
        expect(scan.maxLevels.resolutions.get('LFA_COACH')).toMatchObject({ maxLevel: 8, source: 'repository' });
        expect(flagsOf(plan.actions)).toEqual([
          [2, 'LFA_COACH', ['SpecializationRowMissing', 'MissingProgress'], `No row for specialization COACH in ${schema}.specializations: creating the progress record would violate its foreign key (add the row, then plan again)`],
          [3, 'INTERNSHIP', ['SpecializationRowMissing', 'MissingProgress'], `No row for specialization INTERNSHIP in ${schema}.specializations: creating the progress record would violate its foreign key (add the row, then plan again)`],
        ]);
        expect(writesOf(plan.actions)).toEqual([
          [1, 'CreateLicense', { specializationId: 'PLAYER', level: 3, maxAchievedLevel: 3 }],
          [4, 'SetProgressLevel', { level: 5 }],
          [5, 'CreateProgress', { specializationId: 'PLAYER', level: 2 }],
        ]);
        expect(plan.warnings).toContainEqual(expect.stringMatching(new RegExp(`^Specialization COACH has no row in ${schema}\\.specializations: 1 pair\\(s\\)`)));
        expect(report.counts).toMatchObject({ Applied: 3, Failed: 0, Flagged: 2 });
        expect(writesOf(again.actions)).toEqual([]);
        expect(flagsOf(again.actions)).toHaveLength(2);
        console.info(`[figures] specialization-rows/${target.label}/original: flagged=${plan.summary.actions.FlagForReview} applied=${report.counts.Applied} failed=${report.counts.Failed}`);

        if (cliUrl) {
          // What an operator sees: check warns, plan shows the review row and writes the flag.
          await run(`TRUNCATE "${schema}".license_progressions, "${schema}".user_licenses, "${schema}".specialization_progress`);
          await run(`INSERT INTO "${schema}".user_licenses (user_id, specialization_type, current_level, max_achieved_level, started_at) VALUES (2, 'COACH', 4, 4, now())`);
          const cwd = mkdtempSync(join(tmpdir(), 'levelsync-specrows-'));
          try {
            const conn = ['--database-url', cliUrl(), '--mapping', 'original', '--schema', schema];
            const check = await runLevelsync(['check', ...conn], { cwd });
            expect(check.code, check.stderr).toBe(1);
            expect(check.stdout).toContain(`warning: Specialization COACH has no row in ${schema}.specializations: 1 pair(s) missing a record under it are flagged for review`);
            const checkJson = await runLevelsync(['check', '--json', ...conn], { cwd });
            expect(JSON.parse(checkJson.stdout).warnings).toContainEqual(expect.stringContaining('Specialization COACH has no row'));
            const planned = await runLevelsync(['plan', ...conn], { cwd });
            expect(planned.code, planned.stderr).toBe(0);
            expect(planned.stdout).toContain(`review: No row for specialization COACH in ${schema}.specializations`);
            expect(planned.stdout).toContain('0 write action(s), 1 flagged for review');
            const file = parsePlan(readFileSync(join(cwd, 'levelsync-plan.jsonl'), 'utf8'))._unsafeUnwrap();
            expect(flagsOf(file.actions).map((f) => f.slice(0, 3))).toEqual([[2, 'LFA_COACH', ['SpecializationRowMissing', 'MissingProgress']]]);
            const applied = await runLevelsync(['apply', 'levelsync-plan.jsonl', ...conn], { cwd });
            expect(applied.code, applied.stderr).toBe(0);
            console.info(`[figures] specialization-rows/cli: checkExit=${check.code} planExit=${planned.code} applyExit=${applied.code} flagged=${file.summary.actions.FlagForReview}`);
          } finally {
            rmSync(cwd, { recursive: true, force: true });
          }
        }
      } finally {
        await dropSchema(connection, schema);
      }
    });
  });
}
