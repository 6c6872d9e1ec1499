import { createPgSyncStore, type PgConnection, type PgMapping, type PgSyncStoreOptions, type SqlRunner } from 'levelsync/pg';
import { quoteIdentifier as q, quoteTable } from '../../src/pg/identifier.js';
import type { UserId } from 'levelsync';
import type { LicenseRowData, ProgressionRowData, ProgressRowData, StoreSnapshot, SyncStoreHarness, SyncStoreSeed } from 'levelsync/testing';

/** Hooks around seeding, e.g. inserting users for foreign keys or relaxing constraints. */
export interface SeedHooks {
  /** Runs after the tables were emptied, before the seed rows go in. */
  readonly beforeSeed?: (run: SqlRunner, seed: SyncStoreSeed) => Promise<void>;
  /** Runs after the seed rows went in. */
  readonly afterSeed?: (run: SqlRunner, seed: SyncStoreSeed) => Promise<void>;
  /** Extra tables to empty with the mapped ones (e.g. `users`), schema-qualified or in the mapping's schema. */
  readonly alsoTruncate?: readonly string[];
}

/** Empties the mapped tables (and `alsoTruncate`), restarting their identities. */
export async function truncateMapped(run: SqlRunner, mapping: PgMapping, also: readonly string[] = []): Promise<void> {
  const tables = [mapping.progressions.table, mapping.licenses.table, mapping.progress.table, mapping.specializations.table, ...also];
  await run(`TRUNCATE ${tables.map((t) => quoteTable(mapping.schema, t)).join(', ')} RESTART IDENTITY CASCADE`);
}

/**
 * Writes a conformance seed into the mapped tables: specializations (id, maximum, name = id),
 * progress rows (totals default to 0), license rows (`startedAt` now, where mapped). One
 * statement per table; every value is a bound parameter.
 */
export async function seedMapped(run: SqlRunner, mapping: PgMapping, seed: SyncStoreSeed): Promise<void> {
  const S = mapping.specializations;
  const P = mapping.progress;
  const L = mapping.licenses;
  const U = userType(mapping);
  await run(
    `INSERT INTO ${quoteTable(mapping.schema, S.table)} (${q(S.id)}, ${q(S.maxLevel)}${S.name ? `, ${q(S.name)}` : ''})
     SELECT x.id, x.max${S.name ? ', x.id' : ''} FROM unnest($1::text[], $2::int4[]) AS x(id, max)`,
    [seed.specializations.map((s) => s.id), seed.specializations.map((s) => s.maxLevel)],
  );
  if (seed.progress.length > 0) {
    await run(
      `INSERT INTO ${quoteTable(mapping.schema, P.table)} (${q(P.userId)}, ${q(P.specializationId)}, ${q(P.level)}${P.xp ? `, ${q(P.xp)}` : ''}${P.sessions ? `, ${q(P.sessions)}` : ''})
       SELECT x.u, x.s, x.l${P.xp ? ', x.xp' : ''}${P.sessions ? ', x.ses' : ''}
       FROM unnest($1::${U}[], $2::text[], $3::int4[], $4::int8[], $5::int4[]) WITH ORDINALITY AS x(u, s, l, xp, ses, n) ORDER BY x.n`,
      [
        seed.progress.map((r) => r.userId),
        seed.progress.map((r) => r.specializationId),
        seed.progress.map((r) => r.level),
        seed.progress.map((r) => r.xp ?? 0),
        seed.progress.map((r) => r.sessions ?? 0),
      ],
    );
  }
  if (seed.licenses.length > 0) {
    await run(
      `INSERT INTO ${quoteTable(mapping.schema, L.table)} (${q(L.userId)}, ${q(L.specializationId)}, ${q(L.level)}, ${q(L.maxAchievedLevel)}${L.startedAt ? `, ${q(L.startedAt)}` : ''})
       SELECT x.u, x.s, x.l, x.m${L.startedAt ? ', now()' : ''}
       FROM unnest($1::${U}[], $2::text[], $3::int4[], $4::int4[]) WITH ORDINALITY AS x(u, s, l, m, n) ORDER BY x.n`,
      [seed.licenses.map((r) => r.userId), seed.licenses.map((r) => r.specializationId), seed.licenses.map((r) => r.level), seed.licenses.map((r) => r.maxAchievedLevel)],
    );
  }
}

function userType(mapping: PgMapping): string {
  return { integer: 'int4', bigint: 'int8', text: 'text', uuid: 'uuid' }[mapping.userIdType];
}

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  return Number(value);
}

/**
 * Everything the mapped tables hold, in the conformance suite's canonical order: progress and
 * licenses by user id then stored specialization id (then row position), progression rows in
 * insertion order, a creation's sentinel `fromLevel` read back as null.
 */
export async function snapshotMapped(run: SqlRunner, mapping: PgMapping): Promise<StoreSnapshot> {
  const P = mapping.progress;
  const L = mapping.licenses;
  const H = mapping.progressions;
  const numericIds = mapping.userIdType === 'integer' || mapping.userIdType === 'bigint';
  const userOrder = (col: string) => (numericIds ? col : `${col}::text COLLATE "C"`);
  const uid = (value: unknown): UserId => (numericIds ? Number(value) : String(value));
  const progress = await run(
    `SELECT t.${q(P.userId)} AS u, t.${q(P.specializationId)}::text AS s, t.${q(P.level)} AS l,
            ${P.xp ? `coalesce(t.${q(P.xp)}, 0)` : '0'} AS xp, ${P.sessions ? `coalesce(t.${q(P.sessions)}, 0)` : '0'} AS ses
     FROM ${quoteTable(mapping.schema, P.table)} t ORDER BY ${userOrder(`t.${q(P.userId)}`)}, t.${q(P.specializationId)}::text COLLATE "C", t.ctid`,
  );
  const licenses = await run(
    `SELECT t.${q(L.userId)} AS u, t.${q(L.specializationId)}::text AS s, t.${q(L.level)} AS l, t.${q(L.maxAchievedLevel)} AS m
     FROM ${quoteTable(mapping.schema, L.table)} t ORDER BY ${userOrder(`t.${q(L.userId)}`)}, t.${q(L.specializationId)}::text COLLATE "C", t.ctid`,
  );
  const history = H.licenseId
    ? await run(
        `SELECT l.${q(L.userId)} AS u, l.${q(L.specializationId)}::text AS s, h.${q(H.fromLevel)} AS f, h.${q(H.toLevel)} AS t,
                ${H.advancedBy ? `h.${q(H.advancedBy)}` : 'NULL'} AS b, ${H.reason ? `h.${q(H.reason)}` : 'NULL'} AS r,
                ${H.evidence ? `h.${q(H.evidence)}` : 'NULL'} AS e
         FROM ${quoteTable(mapping.schema, H.table)} h JOIN ${quoteTable(mapping.schema, L.table)} l ON l.${q(L.id!)} = h.${q(H.licenseId)}
         ORDER BY h.ctid`,
      )
    : await run(
        `SELECT h.${q(H.userId!)} AS u, h.${q(H.specializationId!)}::text AS s, h.${q(H.fromLevel)} AS f, h.${q(H.toLevel)} AS t,
                ${H.advancedBy ? `h.${q(H.advancedBy)}` : 'NULL'} AS b, ${H.reason ? `h.${q(H.reason)}` : 'NULL'} AS r,
                ${H.evidence ? `h.${q(H.evidence)}` : 'NULL'} AS e
         FROM ${quoteTable(mapping.schema, H.table)} h ORDER BY h.ctid`,
      );
  return {
    progress: progress.rows.map(
      (row): Required<ProgressRowData> => ({ userId: uid(row['u']), specializationId: String(row['s']), level: toNumber(row['l']), xp: Number(row['xp']), sessions: Number(row['ses']) }),
    ),
    licenses: licenses.rows.map(
      (row): LicenseRowData => ({ userId: uid(row['u']), specializationId: String(row['s']), level: toNumber(row['l']), maxAchievedLevel: toNumber(row['m']) }),
    ),
    progressions: history.rows.map((row): ProgressionRowData => {
      const from = toNumber(row['f']);
      return {
        userId: uid(row['u']),
        specializationId: String(row['s']),
        fromLevel: from === H.creationFromLevel ? null : from,
        toLevel: Number(row['t']),
        advancedBy: row['b'] === null ? null : uid(row['b']),
        reason: String(row['r'] ?? ''),
        evidence: row['e'] === null ? null : String(row['e']),
      };
    }),
  };
}

/** Sets one level out of band (the row is found by its stored ids), as a concurrent writer would. */
export async function setLevelMapped(
  run: SqlRunner,
  mapping: PgMapping,
  side: 'progress' | 'license',
  userId: UserId,
  specializationId: string,
  level: number | null,
  options: { readonly raiseMaxAchieved?: boolean } = {},
): Promise<void> {
  const m = side === 'progress' ? mapping.progress : mapping.licenses;
  const raise = side === 'license' && options.raiseMaxAchieved ? `, ${q(mapping.licenses.maxAchievedLevel)} = greatest(${q(mapping.licenses.maxAchievedLevel)}, $3::int4)` : '';
  const result = await run(
    `UPDATE ${quoteTable(mapping.schema, m.table)} SET ${q(m.level)} = $3::int4${raise} WHERE ${q(m.userId)} = $1::${userType(mapping)} AND ${q(m.specializationId)} = $2::text`,
    [userId, specializationId, level],
  );
  if (result.rowCount === 0) throw new Error(`no ${side} row for ${String(userId)}/${specializationId}`);
}

/** Options of {@link pgStoreHarnessFactory}. */
export interface PgStoreHarnessOptions extends SeedHooks {
  readonly connection: () => PgConnection;
  readonly mapping: PgMapping;
  readonly storeOptions?: Omit<PgSyncStoreOptions, 'mapping'>;
  /**
   * `setLevel` on a license also raises its maximum achieved level to at least the new level,
   * as a writer must where CHECK (max_achieved_level >= level) holds (levelsync's schema).
   */
  readonly raiseMaxAchievedOnSetLevel?: boolean;
}

/**
 * A `setup(seed)` for `describeSyncStoreConformance` over any mapped schema: empties the tables,
 * seeds them, and returns a harness whose store is a `createPgSyncStore` on the connection (and
 * whose `otherStore()` is a second store on the same connection: separate sessions for a pool,
 * the same in-process lock table for PGlite).
 */
export function pgStoreHarnessFactory(options: PgStoreHarnessOptions): (seed: SyncStoreSeed) => Promise<SyncStoreHarness> {
  return async (seed) => {
    const connection = options.connection();
    const { run } = connection;
    await truncateMapped(run, options.mapping, options.alsoTruncate);
    await options.beforeSeed?.(run, seed);
    await seedMapped(run, options.mapping, seed);
    await options.afterSeed?.(run, seed);
    const make = () => createPgSyncStore(connection, { ...options.storeOptions, mapping: options.mapping });
    return {
      store: make(),
      snapshot: () => snapshotMapped(run, options.mapping),
      setLevel: (side, userId, specializationId, level) =>
        setLevelMapped(run, options.mapping, side, userId, specializationId, level, { raiseMaxAchieved: options.raiseMaxAchievedOnSetLevel ?? false }),
      otherStore: async () => make(),
      close: async () => {},
    };
  };
}
