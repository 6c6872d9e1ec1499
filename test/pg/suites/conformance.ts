import pg from 'pg';
import { beforeAll, describe } from 'vitest';
import {
  createLevelsyncMapping,
  createPgMapping,
  createPgMaxLevelRepository,
  migrate,
  ORIGINAL_SYSTEM_MAPPING,
  type PgMapping,
  type SqlRunner,
} from 'levelsync/pg';
import { quoteTable } from '../../../src/pg/identifier.js';
import { CONFORMANCE_SECRET_PASSWORD, describeMaxLevelRepositoryConformance, describeSyncStoreConformance, type SyncStoreSeed } from 'levelsync/testing';
import type { MaxLevelRecord } from 'levelsync';
import { createOriginalSchema, ensureOriginalUsers } from '../../support/original-schema.js';
import { pgStoreHarnessFactory } from '../../support/pg-store-harness.js';
import { dropSchema, type PgTestTarget } from './target.js';

const mustMap = (result: ReturnType<typeof createPgMapping>): PgMapping => result._unsafeUnwrap();

/**
 * levelsync's schema has CHECK (max_achieved_level >= level), which the conformance seed breaks
 * on purpose (a license with max achieved 3 below level 5, to be repaired). The harness seeds
 * such rows as legacy data: the constraint is dropped for the seed and re-added NOT VALID, so
 * every write levelsync makes afterwards is still checked.
 */
const ownSchemaHooks = (mapping: PgMapping) => {
  const licenses = quoteTable(mapping.schema, mapping.licenses.table);
  return {
    raiseMaxAchievedOnSetLevel: true,
    beforeSeed: async (run: SqlRunner) => {
      await run(`ALTER TABLE ${licenses} DROP CONSTRAINT IF EXISTS licenses_max_achieved_level_check`);
    },
    afterSeed: async (run: SqlRunner) => {
      await run(`ALTER TABLE ${licenses} ADD CONSTRAINT licenses_max_achieved_level_check CHECK (max_achieved_level >= level) NOT VALID`);
    },
  };
};

/** Users for the original schema's foreign keys: every seeded id plus the actors the suite uses. */
const originalUsers = (schema: string) => async (run: SqlRunner, seed: SyncStoreSeed) => {
  const ids = [...seed.progress, ...seed.licenses].map((r) => Number(r.userId));
  await ensureOriginalUsers(run, schema, [...ids, ...Array.from({ length: 13 }, (_, i) => i)]);
};

/** The SyncStore conformance suite on levelsync's schema (bigint and text ids) and the original schema (with and without unique keys). */
export function defineSyncStoreConformance(target: PgTestTarget, prefix: string): void {
  const own = mustMap(createLevelsyncMapping({ schema: `${prefix}_own` }));
  describe(`${target.label}: levelsync schema, bigint user ids`, () => {
    beforeAll(async () => {
      await dropSchema(target.connection(), own.schema);
      (await migrate(target.connection(), { schema: own.schema }))._unsafeUnwrap();
    });
    describeSyncStoreConformance(`${target.label} levelsync schema (bigint ids)`, {
      setup: pgStoreHarnessFactory({ connection: target.connection, mapping: own, ...ownSchemaHooks(own) }),
    });
  });

  const ownText = mustMap(createLevelsyncMapping({ schema: `${prefix}_own_text`, userIdType: 'text' }));
  describe(`${target.label}: levelsync schema, text user ids`, () => {
    beforeAll(async () => {
      await dropSchema(target.connection(), ownText.schema);
      (await migrate(target.connection(), { schema: ownText.schema, userIdType: 'text' }))._unsafeUnwrap();
    });
    describeSyncStoreConformance(`${target.label} levelsync schema (text ids)`, {
      userIds: 'string',
      setup: pgStoreHarnessFactory({ connection: target.connection, mapping: ownText, storeOptions: { pageSize: 4 }, ...ownSchemaHooks(ownText) }),
    });
  });

  const original = mustMap(createPgMapping({ schema: `${prefix}_orig` }, ORIGINAL_SYSTEM_MAPPING));
  describe(`${target.label}: original schema (2025-10/11, unique keys)`, () => {
    beforeAll(async () => {
      await createOriginalSchema(target.connection().run, { schema: original.schema });
    });
    describeSyncStoreConformance(`${target.label} original schema`, {
      nullLevels: true,
      setup: pgStoreHarnessFactory({
        connection: target.connection,
        mapping: original,
        alsoTruncate: ['users'],
        beforeSeed: originalUsers(original.schema),
      }),
    });
  });

  const noKeys = mustMap(createPgMapping({ schema: `${prefix}_orig_nokeys` }, ORIGINAL_SYSTEM_MAPPING));
  describe(`${target.label}: original schema without unique keys (duplicates possible)`, () => {
    beforeAll(async () => {
      await createOriginalSchema(target.connection().run, { schema: noKeys.schema, uniqueKeys: false });
    });
    describeSyncStoreConformance(`${target.label} original schema without unique keys`, {
      duplicates: true,
      nullLevels: true,
      setup: pgStoreHarnessFactory({
        connection: target.connection,
        mapping: noKeys,
        alsoTruncate: ['users'],
        beforeSeed: originalUsers(noKeys.schema),
      }),
    });
  });
}

/** The MaxLevelRepository conformance suite on levelsync's schema and on the original schema. */
export function defineMaxLevelConformance(target: PgTestTarget, prefix: string): void {
  const unavailable = () => {
    const pool = new pg.Pool({ connectionString: `postgres://levelsync:${CONFORMANCE_SECRET_PASSWORD}@127.0.0.1:1/levelsync`, connectionTimeoutMillis: 2_000 });
    pool.on('error', () => {});
    pools.push(pool);
    return createPgMaxLevelRepository(pool);
  };
  const pools: pg.Pool[] = [];
  const teardown = async () => {
    await Promise.all(pools.splice(0).map((p) => p.end().catch(() => undefined)));
  };
  const setupFor = (mapping: PgMapping) => async (rows: readonly MaxLevelRecord[]) => {
    const { run } = target.connection();
    const S = mapping.specializations;
    const table = quoteTable(mapping.schema, S.table);
    await run(`TRUNCATE ${table} CASCADE`);
    await run(
      `INSERT INTO ${table} ("${S.id}", "${S.maxLevel}", "${S.name ?? S.id}") SELECT x.id, x.max, x.id FROM unnest($1::text[], $2::int4[]) AS x(id, max)`,
      [rows.map((r) => r.specializationId), rows.map((r) => r.maxLevel)],
    );
    return createPgMaxLevelRepository(target.connection(), { mapping });
  };

  const own = mustMap(createLevelsyncMapping({ schema: `${prefix}_ml_own` }));
  describe(`${target.label}: max levels in levelsync's schema`, () => {
    beforeAll(async () => {
      await dropSchema(target.connection(), own.schema);
      (await migrate(target.connection(), { schema: own.schema }))._unsafeUnwrap();
      // The suite stores invalid maxima (0, NULL, -1) to check they come back raw; levelsync's
      // schema refuses them, so this copy of it lets them in.
      await target
        .connection()
        .run(`ALTER TABLE ${quoteTable(own.schema, 'specializations')} DROP CONSTRAINT specializations_max_level_check, ALTER COLUMN max_level DROP NOT NULL`);
    });
    describeMaxLevelRepositoryConformance(`${target.label} levelsync schema`, { setup: setupFor(own), setupUnavailable: async () => unavailable(), teardown });
  });

  const original = mustMap(createPgMapping({ schema: `${prefix}_ml_orig` }, ORIGINAL_SYSTEM_MAPPING));
  describe(`${target.label}: max levels in the original schema (specializations.max_levels)`, () => {
    beforeAll(async () => {
      await createOriginalSchema(target.connection().run, { schema: original.schema, nullableMaxLevels: true });
    });
    describeMaxLevelRepositoryConformance(`${target.label} original schema`, { setup: setupFor(original), setupUnavailable: async () => unavailable(), teardown });
  });
}
