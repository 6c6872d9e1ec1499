import { describe, expect, it } from 'vitest';
import {
  createLevelsyncMapping,
  createPgMapping,
  createPgMaxLevelRepository,
  createPgSyncStore,
  LEVELSYNC_MAPPING,
  migrate,
  ORIGINAL_SYSTEM_MAPPING,
  parsePgMapping,
  pgClient,
  pglite,
  pgPool,
  toPgConnection,
  type SqlQueryable,
} from 'levelsync/pg';
import { IDENTIFIER_PATTERN, quoteIdentifier, quoteTable } from '../../src/pg/identifier.js';

const HOSTILE = ['x"; DROP TABLE users; --', 'a b', 'a;b', "o'neil", 'a.b.c', '1abc', '', 'x'.repeat(64), 'tab\tle', 'ä'];

/** A client that answers nothing and records what it was asked. */
function recordingClient(answer: (text: string) => readonly Record<string, unknown>[] = () => []) {
  const seen: string[] = [];
  const client: SqlQueryable = {
    query: async (text: string) => {
      seen.push(text);
      return { rows: [...answer(text)], rowCount: 0 };
    },
  };
  return { client, seen };
}

describe('identifiers', () => {
  it('accepts plain identifiers and refuses everything else', () => {
    for (const ok of ['a', '_x', 'student_id', 'T1', 'x'.repeat(63)]) expect(IDENTIFIER_PATTERN.test(ok)).toBe(true);
    for (const bad of HOSTILE) expect(IDENTIFIER_PATTERN.test(bad)).toBe(false);
  });

  it('always double-quotes, and throws for a hostile name rather than escaping it', () => {
    expect(quoteIdentifier('current_level')).toBe('"current_level"');
    expect(quoteTable('public', 'user_licenses')).toBe('"public"."user_licenses"');
    expect(quoteTable('public', 'other.user_licenses')).toBe('"other"."user_licenses"');
    for (const bad of HOSTILE) expect(() => quoteIdentifier(bad)).toThrow(TypeError);
  });
});

describe('mappings', () => {
  it('ships the levelsync schema and the original system mappings', () => {
    expect(LEVELSYNC_MAPPING).toMatchObject({ schema: 'levelsync', userIdType: 'bigint', progress: { table: 'progress' }, licenses: { table: 'licenses' } });
    expect(ORIGINAL_SYSTEM_MAPPING).toMatchObject({
      schema: 'public',
      userIdType: 'integer',
      specializations: { table: 'specializations', id: 'id', maxLevel: 'max_levels' },
      progress: { table: 'specialization_progress', userId: 'student_id', specializationId: 'specialization_id', level: 'current_level', xp: 'total_xp', sessions: 'completed_sessions' },
      licenses: { table: 'user_licenses', userId: 'user_id', specializationId: 'specialization_type', level: 'current_level', maxAchievedLevel: 'max_achieved_level', startedAt: 'started_at' },
      progressions: { table: 'license_progressions', licenseId: 'user_license_id', reason: 'advancement_reason', evidence: 'requirements_met', creationFromLevel: 0 },
    });
  });

  it('builds variants: another schema, renamed columns, removed optional columns', () => {
    const variant = createPgMapping({ schema: 'app', progress: { userId: 'user_id', updatedAt: null }, licenses: { table: 'licenses_v2' } }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
    expect(variant.schema).toBe('app');
    expect(variant.progress.userId).toBe('user_id');
    expect(variant.progress.updatedAt).toBeUndefined();
    expect(variant.progress.level).toBe('current_level');
    expect(variant.licenses.table).toBe('licenses_v2');
    expect(createLevelsyncMapping({ schema: 'sync', userIdType: 'text' })._unsafeUnwrap()).toMatchObject({ schema: 'sync', userIdType: 'text' });
  });

  it('rejects hostile identifiers with a ValidationError naming the mapping field', () => {
    const cases: [Parameters<typeof createPgMapping>[0], string][] = [
      [{ schema: 'public; DROP SCHEMA public' }, 'schema'],
      [{ progress: { table: 'specialization_progress"; DELETE FROM users; --' } }, 'progress.table'],
      [{ progress: { level: "current_level' OR 1=1" } }, 'progress.level'],
      [{ licenses: { maxAchievedLevel: 'max achieved' } }, 'licenses.maxAchievedLevel'],
      [{ specializations: { maxLevel: 'max_levels)--' } }, 'specializations.maxLevel'],
      [{ progressions: { reason: 'advancement_reason,(SELECT 1)' } }, 'progressions.reason'],
      [{ licenses: { table: 'a.b.c' } }, 'licenses.table'],
    ];
    for (const [patch, field] of cases) {
      const result = createPgMapping(patch, ORIGINAL_SYSTEM_MAPPING);
      expect(result.isErr()).toBe(true);
      const error = result._unsafeUnwrapErr();
      expect(error._tag).toBe('ValidationError');
      expect(error.field).toBe(field);
      expect(error.message).toContain(field);
    }
    expect(createLevelsyncMapping({ schema: 'x"y' })._unsafeUnwrapErr().field).toBe('schema');
    expect(parsePgMapping({ ...ORIGINAL_SYSTEM_MAPPING, extra: 1 }).isErr()).toBe(true);
    expect(parsePgMapping({ ...ORIGINAL_SYSTEM_MAPPING, userIdType: 'serial' })._unsafeUnwrapErr().field).toBe('userIdType');
    const noHistoryKey = createPgMapping({ progressions: { licenseId: null } }, ORIGINAL_SYSTEM_MAPPING);
    expect(noHistoryKey._unsafeUnwrapErr().field).toBe('progressions.licenseId');
  });

  it('factories throw a TypeError carrying the ValidationError for an invalid mapping, before any SQL', () => {
    const { client, seen } = recordingClient();
    const hostile = { ...ORIGINAL_SYSTEM_MAPPING, licenses: { ...ORIGINAL_SYSTEM_MAPPING.licenses, table: 'x"; DROP TABLE y; --' } };
    expect(() => createPgSyncStore(client, { mapping: hostile })).toThrow(TypeError);
    try {
      createPgMaxLevelRepository(client, { mapping: hostile });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).cause).toMatchObject({ _tag: 'ValidationError', field: 'licenses.table' });
    }
    expect(seen).toEqual([]);
  });

  it('migrate() refuses a hostile schema name without running anything', async () => {
    const { client, seen } = recordingClient();
    const result = await migrate(client, { schema: 'levelsync"; DROP SCHEMA public CASCADE; --' });
    expect(result._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'schema' });
    expect(seen).toEqual([]);
  });
});

describe('clients', () => {
  it('recognises pools, checked-out clients and PGlite, and wraps each explicitly too', () => {
    const query = async () => ({ rows: [] });
    const pool = { query, connect: async () => ({ query, release: () => {} }), totalCount: 0, idleCount: 0 };
    const client = { query, release: () => {} };
    const db = { query, exec: async () => [], transaction: async <T>(fn: (tx: SqlQueryable) => Promise<T>) => fn({ query }) };
    expect(toPgConnection(pool).kind).toBe('pool');
    expect(toPgConnection(client).kind).toBe('client');
    expect(toPgConnection(db).kind).toBe('pglite');
    expect(toPgConnection({ query }).kind).toBe('client');
    expect(pgPool(pool).kind).toBe('pool');
    expect(pgClient(client).kind).toBe('client');
    expect(pglite(db).kind).toBe('pglite');
    const wrapped = pgPool(pool);
    expect(toPgConnection(wrapped)).toBe(wrapped);
    expect(() => toPgConnection({} as SqlQueryable)).toThrow(TypeError);
  });

  it('never issues BEGIN, COMMIT or ROLLBACK on a caller client, even for a multi-statement batch', async () => {
    const { client, seen } = recordingClient((text) => (text.startsWith('WITH action AS') ? [{ idx: 0, done: false }, { idx: 1, done: false }] : []));
    const store = createPgSyncStore(pgClient(client), { chunkSize: 1 });
    const expected = { progress: { specializationId: 'LFA_COACH', level: 2 }, license: { specializationId: 'LFA_COACH', level: 1, maxAchievedLevel: 1 } };
    const result = await store.applyBatch(
      [
        { userId: 1, specializationId: 'LFA_COACH', expected, kind: 'SetLicenseLevel', write: { level: 2, maxAchievedLevel: 2 }, reason: 'r', evidence: 'e' },
        { userId: 2, specializationId: 'LFA_COACH', expected, kind: 'SetLicenseLevel', write: { level: 2, maxAchievedLevel: 2 }, reason: 'r', evidence: 'e' },
      ],
      { actor: null, now: new Date(), aliases: new Map() },
    );
    expect(result.isOk()).toBe(true);
    expect(seen.filter((text) => text.startsWith('WITH action AS'))).toHaveLength(2);
    expect(seen.some((text) => /^\s*(BEGIN|COMMIT|ROLLBACK)/i.test(text))).toBe(false);
  });

  it('flags a malformed row for review with the mapped column named, never a crash nor the end of the scan', async () => {
    const { client } = recordingClient((text) => {
      if (text.includes('pg_index')) {
        return [
          { side: 'progress', present: true, unique_key: true, columns: [['current_level', 'int4']] },
          { side: 'licenses', present: true, unique_key: true, columns: [] },
        ];
      }
      if (text.startsWith('FETCH')) {
        return [{ u: 1, canon: 'LFA_COACH', p_sid: 'LFA_COACH', p_lvl: 'three', p_xp: 0, p_ses: 0, l_sid: null, l_lvl: null, l_mx: null }];
      }
      return [];
    });
    const store = createPgSyncStore(client, { mapping: ORIGINAL_SYSTEM_MAPPING });
    const pages = [];
    for await (const page of store.scanPairs({})) pages.push(page);
    expect(pages).toHaveLength(1);
    const [pair] = pages[0]!._unsafeUnwrap();
    expect(pair).toMatchObject({ userId: 1, specializationId: 'LFA_COACH' });
    expect(pair!.unreadable).toMatch(/specialization_progress\.current_level/);
  });

  it('masks a password a driver puts in its error message', async () => {
    const failing: SqlQueryable = {
      query: async () => {
        throw new Error('could not connect to postgres://levelsync:secret-password@db.internal:5432/app');
      },
    };
    const store = createPgSyncStore(failing);
    const count = await store.countPairs({});
    expect(count._unsafeUnwrapErr()._tag).toBe('StoreUnavailable');
    expect(count._unsafeUnwrapErr().message).not.toContain('secret-password');
    const repository = createPgMaxLevelRepository(failing);
    const found = await repository.findMaxLevel('INTERNSHIP');
    expect(found._unsafeUnwrapErr().message).not.toContain('secret-password');
  });
});
