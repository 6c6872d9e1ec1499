import { describe, expect, it } from 'vitest';
import { createMaxLevelResolver, DEFAULT_CATALOG } from 'levelsync';
import {
  cleanupDuplicates,
  createLevelsyncMapping,
  createPgMapping,
  createPgMaxLevelRepository,
  createPgSyncStore,
  LEVELSYNC_MIGRATIONS,
  migrate,
  ORIGINAL_SYSTEM_MAPPING,
  upsertSpecializations,
} from 'levelsync/pg';
import { createOriginalSchema, ensureOriginalUsers } from '../../support/original-schema.js';
import { seedMapped } from '../../support/pg-store-harness.js';
import { dropSchema, type PgTestTarget } from './target.js';

async function sqlState(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

/** Migrations, their constraints, the duplicate clean-up and the max-level column that vanished. */
export function defineSchemaTools(target: PgTestTarget, prefix: string): void {
  describe(`${target.label}: migrations`, () => {
    it('creates the schema once; a second run applies nothing', async () => {
      const schema = `${prefix}_migrate`;
      const connection = target.connection();
      await dropSchema(connection, schema);
      const first = (await migrate(connection, { schema }))._unsafeUnwrap();
      expect(first.applied.map((m) => m.version)).toEqual(LEVELSYNC_MIGRATIONS.map((m) => m.version));
      const second = (await migrate(connection, { schema }))._unsafeUnwrap();
      expect(second.applied).toEqual([]);
      expect(second.version).toBe(LEVELSYNC_MIGRATIONS.at(-1)!.version);
      const recorded = await connection.run(`SELECT version FROM "${schema}".levelsync_migrations ORDER BY version`);
      expect(recorded.rows.map((r) => r['version'])).toEqual(LEVELSYNC_MIGRATIONS.map((m) => m.version));
    });

    it('enforces unique keys, RESTRICT foreign keys and CHECK constraints on levels and totals', async () => {
      const schema = `${prefix}_constraints`;
      const connection = target.connection();
      const { run } = connection;
      await dropSchema(connection, schema);
      (await migrate(connection, { schema }))._unsafeUnwrap();
      const mapping = createLevelsyncMapping({ schema })._unsafeUnwrap();
      (await upsertSpecializations(connection, [{ id: 'INTERNSHIP', maxLevel: 3 }], { mapping }))._unsafeUnwrap();
      await run(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) VALUES (1, 'INTERNSHIP', 1)`);
      await run(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) VALUES (1, 'INTERNSHIP', 1, 1)`);
      expect(await sqlState(run(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) VALUES (1, 'INTERNSHIP', 2)`))).toBe('23505');
      expect(await sqlState(run(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) VALUES (1, 'INTERNSHIP', 1, 1)`))).toBe('23505');
      expect(await sqlState(run(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) VALUES (2, 'INTERNSHIP', 0)`))).toBe('23514');
      expect(await sqlState(run(`INSERT INTO "${schema}".progress (user_id, specialization_id, level, xp) VALUES (2, 'INTERNSHIP', 1, -5)`))).toBe('23514');
      expect(await sqlState(run(`INSERT INTO "${schema}".licenses (user_id, specialization_id, level, max_achieved_level) VALUES (2, 'INTERNSHIP', 3, 2)`))).toBe('23514');
      expect(await sqlState(run(`INSERT INTO "${schema}".specializations (id, name, max_level) VALUES ('ZERO', 'zero', 0)`))).toBe('23514');
      expect(await sqlState(run(`INSERT INTO "${schema}".progress (user_id, specialization_id, level) VALUES (3, 'UNKNOWN', 1)`))).toBe('23503');
      // RESTRICT: foreign_key_violation on PostgreSQL 15, restrict_violation (23001) from PostgreSQL 18 (PGlite).
      expect(['23503', '23001']).toContain(await sqlState(run(`DELETE FROM "${schema}".specializations WHERE id = 'INTERNSHIP'`)));
      const license = await run(`SELECT id FROM "${schema}".licenses`);
      await run(`INSERT INTO "${schema}".license_progressions (license_id, from_level, to_level, reason) VALUES ($1, NULL, 1, 'created')`, [license.rows[0]!['id']]);
      expect(['23503', '23001']).toContain(await sqlState(run(`DELETE FROM "${schema}".licenses`)));
      const store = createPgSyncStore(connection, { mapping });
      const facts = (await store.tableFacts())._unsafeUnwrap();
      expect([facts.progress.uniqueKey, facts.licenses.uniqueKey]).toEqual([true, true]);
    });

    if (target.server) {
      it('two concurrent migrate() calls are safe: the migrations run once', async () => {
        const schema = `${prefix}_concurrent_migrate`;
        const connection = target.connection();
        await dropSchema(connection, schema);
        const results = await Promise.all([migrate(connection, { schema }), migrate(connection, { schema }), migrate(connection, { schema })]);
        const applied = results.map((r) => r._unsafeUnwrap().applied.length);
        expect(applied.reduce((a, b) => a + b, 0)).toBe(LEVELSYNC_MIGRATIONS.length);
      });
    }
  });

  describe(`${target.label}: duplicate clean-up`, () => {
    it('keeps the highest level, then the latest update, archives the rest and re-points history', async () => {
      const schema = `${prefix}_dups`;
      const connection = target.connection();
      const { run } = connection;
      await createOriginalSchema(run, { schema, uniqueKeys: false });
      const mapping = createPgMapping({ schema }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
      await ensureOriginalUsers(run, schema, [1, 2, 3]);
      await seedMapped(run, mapping, { specializations: [{ id: 'LFA_COACH', maxLevel: 8 }, { id: 'INTERNSHIP', maxLevel: 3 }], progress: [], licenses: [] });
      await run(`INSERT INTO "${schema}".specialization_progress (student_id, specialization_id, current_level, updated_at) VALUES
        (1, 'LFA_COACH', 3, '2025-10-01'), (1, 'LFA_COACH', 5, '2025-09-01'), (1, 'LFA_COACH', 5, '2025-10-20'), (1, 'LFA_COACH', NULL, '2025-11-01'),
        (2, 'LFA_COACH', 2, NULL), (2, 'INTERNSHIP', 1, NULL), (2, 'INTERNSHIP', 1, '2025-10-01')`);
      await run(`INSERT INTO "${schema}".user_licenses (user_id, specialization_type, current_level, max_achieved_level, started_at, updated_at) VALUES
        (1, 'LFA_COACH', 4, 4, now(), '2025-10-01'), (1, 'LFA_COACH', 2, 6, now(), '2025-11-01'), (3, 'INTERNSHIP', 1, 1, now(), NULL)`);
      await run(`INSERT INTO "${schema}".license_progressions (user_license_id, from_level, to_level) VALUES (2, 1, 2), (2, 0, 1), (1, 3, 4)`);

      const dry = (await cleanupDuplicates(connection, { mapping, dryRun: true }))._unsafeUnwrap();
      expect(dry).toMatchObject({ dryRun: true, progress: { archived: 4 }, licenses: { archived: 1, progressionsRepointed: 2 } });
      expect((await run(`SELECT count(*)::int4 AS n FROM "${schema}".specialization_progress`)).rows[0]!['n']).toBe(7);

      const report = (await cleanupDuplicates(connection, { mapping }))._unsafeUnwrap();
      expect(report).toMatchObject({
        dryRun: false,
        progress: { table: `${schema}.specialization_progress`, archiveTable: `${schema}.specialization_progress_archive`, archived: 4 },
        licenses: { table: `${schema}.user_licenses`, archiveTable: `${schema}.user_licenses_archive`, archived: 1, progressionsRepointed: 2 },
      });
      const kept = await run(`SELECT student_id, specialization_id, current_level, updated_at::text AS u FROM "${schema}".specialization_progress ORDER BY 1, 2`);
      expect(kept.rows).toEqual([
        { student_id: 1, specialization_id: 'LFA_COACH', current_level: 5, u: '2025-10-20 00:00:00' },
        { student_id: 2, specialization_id: 'INTERNSHIP', current_level: 1, u: '2025-10-01 00:00:00' },
        { student_id: 2, specialization_id: 'LFA_COACH', current_level: 2, u: null },
      ]);
      const archived = await run(`SELECT student_id, current_level, archive_reason FROM "${schema}".specialization_progress_archive ORDER BY id`);
      expect(archived.rows.map((r) => r['current_level'])).toEqual([3, 5, null, 1]);
      expect(archived.rows.every((r) => r['archive_reason'] === 'levelsync duplicate clean-up')).toBe(true);
      const licenses = await run(`SELECT id, current_level FROM "${schema}".user_licenses ORDER BY id`);
      expect(licenses.rows).toEqual([{ id: 1, current_level: 4 }, { id: 3, current_level: 1 }]);
      const history = await run(`SELECT user_license_id AS l, count(*)::int4 AS n FROM "${schema}".license_progressions GROUP BY 1 ORDER BY 1`);
      expect(history.rows).toEqual([{ l: 1, n: 3 }]);
      // The unique keys can now be added, and a second clean-up finds nothing.
      await run(`ALTER TABLE "${schema}".specialization_progress ADD CONSTRAINT uq_sp UNIQUE (student_id, specialization_id)`);
      await run(`ALTER TABLE "${schema}".user_licenses ADD CONSTRAINT uq_ul UNIQUE (user_id, specialization_type)`);
      expect((await cleanupDuplicates(connection, { mapping }))._unsafeUnwrap()).toMatchObject({ progress: { archived: 0 }, licenses: { archived: 0, progressionsRepointed: 0 } });
    });
  });

  describe(`${target.label}: max levels when the column is gone`, () => {
    it('a missing max_levels column or table is err(RepositoryUnavailable), and the resolver falls back', async () => {
      const schema = `${prefix}_nov2025`;
      const connection = target.connection();
      await createOriginalSchema(connection.run, { schema, maxLevels: false });
      const mapping = createPgMapping({ schema }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
      const repository = createPgMaxLevelRepository(connection, { mapping });
      const found = await repository.findMaxLevel('LFA_COACH');
      expect(found._unsafeUnwrapErr()).toMatchObject({ _tag: 'RepositoryUnavailable', repository: repository.name });
      expect(found._unsafeUnwrapErr().message).toContain('max_levels');
      expect((await repository.findAll!())._unsafeUnwrapErr()._tag).toBe('RepositoryUnavailable');
      const missingTable = createPgMaxLevelRepository(connection, { mapping: createPgMapping({ schema: `${prefix}_nowhere` }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap() });
      expect((await missingTable.findMaxLevel('LFA_COACH'))._unsafeUnwrapErr()._tag).toBe('RepositoryUnavailable');

      const resolver = createMaxLevelResolver({ repositories: [repository], catalog: DEFAULT_CATALOG });
      const resolved = (await resolver.resolve('COACH'))._unsafeUnwrap();
      expect(resolved).toMatchObject({ specializationId: 'LFA_COACH', maxLevel: 8, source: 'fallback' });
      expect(resolved.errors[0]).toMatchObject({ _tag: 'RepositoryUnavailable' });
    });
  });
}
