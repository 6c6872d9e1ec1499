import type pg from 'pg';
import { okAsync } from 'neverthrow';
import { createMaxLevelResolver, DEFAULT_CATALOG, type MaxLevelRepository, type MaxLevelResolver, type UserId } from 'levelsync';
import {
  createLevelsyncMapping,
  createPgMapping,
  createPgMaxLevelRepository,
  migrate,
  ORIGINAL_SYSTEM_MAPPING,
  upsertSpecializations,
  type PgConnectionInput,
  type PgMapping,
} from 'levelsync/pg';
import { quoteIdentifier as q, quoteTable } from '../../../src/pg/identifier.js';
import { createOriginalSchema, ensureOriginalUsers } from '../../support/original-schema.js';
import type { Rng } from './reliability.js';
import { runnerOf } from './reliability.js';

/**
 * A schema the reliability tests run against:
 * - `levelsync`: levelsync's own schema as `migrate()` makes it (unique keys, CHECK constraints);
 * - `original`: the original system's tables through `ORIGINAL_SYSTEM_MAPPING`, without CHECK
 *   constraints (NULL, negative, huge levels and max achieved below level can all be stored),
 *   with or without the unique (user, specialization) keys.
 */
export type WorldKind = 'levelsync' | 'original';

/** The canonical specializations (and maxima) the catalog knows, the aliases, and one the resolver must not know. */
export const KNOWN: ReadonlyMap<string, number> = new Map([
  ['GANCUJU_PLAYER', 8],
  ['LFA_FOOTBALL_PLAYER', 8],
  ['LFA_COACH', 8],
  ['INTERNSHIP', 3],
]);
export const ALIAS_OF: ReadonlyMap<string, string> = new Map([
  ['PLAYER', 'GANCUJU_PLAYER'],
  ['COACH', 'LFA_COACH'],
]);
/** Stored in the specializations table (foreign keys need it) but hidden from the resolver: an unknown specialization. */
export const MYSTERY = 'MYSTERY';

export interface World {
  readonly kind: WorldKind;
  readonly schema: string;
  readonly mapping: PgMapping;
  readonly uniqueKeys: boolean;
  /** Quoted table names. */
  readonly t: { readonly progress: string; readonly licenses: string; readonly history: string };
  /** Quoted column names. */
  readonly c: {
    readonly pId: string;
    readonly pUser: string;
    readonly pSpec: string;
    readonly pLevel: string;
    readonly lId: string;
    readonly lUser: string;
    readonly lSpec: string;
    readonly lLevel: string;
    readonly lMax: string;
    readonly hId: string;
    readonly hLicense: string;
    readonly hFrom: string;
    readonly hTo: string;
    readonly hReason: string;
    readonly hBy: string;
  };
  /** A resolver reading the world's specializations table, with MYSTERY hidden. */
  resolver(client: PgConnectionInput): MaxLevelResolver;
  /** Users must exist before rows reference them (original schema); a no-op elsewhere. */
  ensureUsers(run: pg.Pool | pg.PoolClient, ids: readonly number[]): Promise<void>;
  /** Extra columns and values a license insert needs (`started_at` on the original schema). */
  readonly licenseInsertExtra: { readonly columns: string; readonly values: string };
  /** The history `from` value written for a creation (null or the sentinel 0). */
  readonly creationFrom: number | null;
}

/** A repository that answers "not found" for hidden ids: the database knows them, the resolver must not. */
export function hidingRepository(repository: MaxLevelRepository, hidden: ReadonlySet<string>): MaxLevelRepository {
  return {
    name: repository.name,
    findMaxLevel: (id) => (hidden.has(id.toUpperCase()) ? okAsync(null) : repository.findMaxLevel(id)),
    ...(repository.findAll
      ? { findAll: () => repository.findAll!().map((records) => records.filter((r) => !hidden.has(r.specializationId.toUpperCase()))) }
      : {}),
  };
}

const SPECIALIZATION_ROWS = [
  ...[...KNOWN].map(([id, maxLevel]) => ({ id, maxLevel })),
  { id: 'PLAYER', maxLevel: 8 },
  { id: 'COACH', maxLevel: 8 },
  { id: MYSTERY, maxLevel: 5 },
];

/** Creates (or recreates) a world's schema in the database of `pool`. */
export async function createWorld(
  pool: pg.Pool,
  kind: WorldKind,
  schema: string,
  options: { readonly uniqueKeys?: boolean; readonly nullableLicenseLevels?: boolean } = {},
): Promise<World> {
  const run = runnerOf(pool);
  let mapping: PgMapping;
  let uniqueKeys = true;
  if (kind === 'levelsync') {
    await run(`DROP SCHEMA IF EXISTS ${q(schema)} CASCADE`);
    (await migrate(pool, { schema }))._unsafeUnwrap();
    mapping = createLevelsyncMapping({ schema })._unsafeUnwrap();
    (await upsertSpecializations(pool, SPECIALIZATION_ROWS, { mapping }))._unsafeUnwrap();
  } else {
    uniqueKeys = options.uniqueKeys ?? true;
    await createOriginalSchema(run, { schema, uniqueKeys, nullableLicenseLevels: options.nullableLicenseLevels ?? true });
    mapping = createPgMapping({ schema }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
    (await upsertSpecializations(pool, SPECIALIZATION_ROWS, { mapping }))._unsafeUnwrap();
  }
  const P = mapping.progress;
  const L = mapping.licenses;
  const H = mapping.progressions;
  return {
    kind,
    schema,
    mapping,
    uniqueKeys,
    t: {
      progress: quoteTable(mapping.schema, P.table),
      licenses: quoteTable(mapping.schema, L.table),
      history: quoteTable(mapping.schema, H.table),
    },
    c: {
      pId: q(P.id!),
      pUser: q(P.userId),
      pSpec: q(P.specializationId),
      pLevel: q(P.level),
      lId: q(L.id!),
      lUser: q(L.userId),
      lSpec: q(L.specializationId),
      lLevel: q(L.level),
      lMax: q(L.maxAchievedLevel),
      hId: q('id'),
      hLicense: q(H.licenseId!),
      hFrom: q(H.fromLevel),
      hTo: q(H.toLevel),
      hReason: q(H.reason!),
      hBy: q(H.advancedBy!),
    },
    resolver: (client) =>
      createMaxLevelResolver({
        catalog: DEFAULT_CATALOG,
        repositories: [hidingRepository(createPgMaxLevelRepository(client, { mapping }), new Set([MYSTERY]))],
      }),
    ensureUsers: async (client, ids) => {
      if (kind === 'original') await ensureOriginalUsers(runnerOf(client), schema, ids);
    },
    licenseInsertExtra: L.startedAt ? { columns: `, ${q(L.startedAt)}`, values: ', now()' } : { columns: '', values: '' },
    creationFrom: H.creationFromLevel,
  };
}

/** The maximum level of a stored specialization id (aliases through their canonical id); undefined for unknown ones. */
export function maxOf(storedId: string): number | undefined {
  return KNOWN.get(ALIAS_OF.get(storedId) ?? storedId);
}

/** The canonical id of a stored id (aliases mapped; anything else as is). */
export function canonicalOf(storedId: string): string {
  return ALIAS_OF.get(storedId) ?? storedId;
}

// ---------------------------------------------------------------------------------------------
// Drift
// ---------------------------------------------------------------------------------------------

export interface ProgressSeedRow {
  readonly userId: number;
  readonly specializationId: string;
  readonly level: number | null;
}
export interface LicenseSeedRow {
  readonly userId: number;
  readonly specializationId: string;
  readonly level: number | null;
  readonly maxAchievedLevel: number | null;
}

/** The kinds of drift a seeded pair may have. */
export type DriftCategory =
  | 'in-sync'
  | 'in-sync-after-demotion'
  | 'progress-ahead'
  | 'license-ahead'
  | 'missing-license'
  | 'missing-progress'
  | 'progress-above-max'
  | 'license-above-max'
  | 'unknown-specialization'
  | 'legacy-id'
  | 'alias-duplicate'
  // Only where the schema has no CHECK constraints (the original schema):
  | 'null-progress-level'
  | 'nonpositive-progress-level'
  | 'huge-progress-level'
  | 'null-license-level'
  | 'max-achieved-below-level'
  | 'null-max-achieved'
  // Only where the schema has no unique key:
  | 'duplicate-rows';

export interface DriftSeed {
  readonly progress: ProgressSeedRow[];
  readonly licenses: LicenseSeedRow[];
  /** `user|canonical` → the drift it was given. */
  readonly categories: Map<string, DriftCategory>;
  /** Every pair key (user, canonical id). */
  readonly keys: { readonly userId: number; readonly specializationId: string }[];
}

export const pairKey = (userId: UserId, canonicalId: string) => `${String(userId)}|${canonicalId}`;

/** Drift on every pair of `userIds` (one or two specializations each), with every kind the world can store. */
export function generateDrift(rng: Rng, world: World, userIds: readonly number[]): DriftSeed {
  const categories: (readonly [DriftCategory, number])[] = [
    ['in-sync', 26],
    ['in-sync-after-demotion', 4],
    ['progress-ahead', 14],
    ['license-ahead', 10],
    ['missing-license', 8],
    ['missing-progress', 8],
    ['progress-above-max', 3],
    ['license-above-max', 2],
    ['unknown-specialization', 3],
    ['legacy-id', 5],
    ['alias-duplicate', 2],
  ];
  if (world.kind === 'original') {
    categories.push(
      ['null-progress-level', 2],
      ['nonpositive-progress-level', 2],
      ['huge-progress-level', 1],
      ['null-license-level', 1],
      ['max-achieved-below-level', 3],
      ['null-max-achieved', 1],
    );
    if (!world.uniqueKeys) categories.push(['duplicate-rows', 2]);
  }
  const progress: ProgressSeedRow[] = [];
  const licenses: LicenseSeedRow[] = [];
  const byKey = new Map<string, DriftCategory>();
  const keys: { userId: number; specializationId: string }[] = [];
  const known = [...KNOWN.keys()];
  for (const userId of userIds) {
    const specs = rng.sample(known, rng.int(1, 2));
    for (const spec of specs) {
      let category = rng.weighted(categories);
      let canonical = spec;
      if (category === 'unknown-specialization') canonical = MYSTERY;
      if (category === 'legacy-id' || category === 'alias-duplicate') canonical = rng.pick(['GANCUJU_PLAYER', 'LFA_COACH']);
      const key = pairKey(userId, canonical);
      if (byKey.has(key)) continue;
      byKey.set(key, category);
      keys.push({ userId, specializationId: canonical });
      const max = canonical === MYSTERY ? 5 : KNOWN.get(canonical)!;
      const alias = [...ALIAS_OF].find(([, c]) => c === canonical)?.[0];
      const p = (level: number | null, sid = canonical) => progress.push({ userId, specializationId: sid, level });
      const l = (level: number | null, maxAchievedLevel: number | null = level, sid = canonical) =>
        licenses.push({ userId, specializationId: sid, level, maxAchievedLevel });
      const level = rng.int(1, max);
      switch (category) {
        case 'in-sync':
          p(level);
          l(level);
          break;
        case 'in-sync-after-demotion':
          p(level);
          l(level, rng.int(level, max));
          break;
        case 'progress-ahead': {
          const lower = rng.int(1, max - 1);
          p(rng.int(lower + 1, max));
          l(lower);
          break;
        }
        case 'license-ahead': {
          const lower = rng.int(1, max - 1);
          p(lower);
          l(rng.int(lower + 1, max));
          break;
        }
        case 'missing-license':
          p(level);
          break;
        case 'missing-progress':
          l(level);
          break;
        case 'progress-above-max':
          p(max + rng.int(1, 3));
          l(level);
          break;
        case 'license-above-max': {
          const above = max + rng.int(1, 2);
          p(level);
          l(above);
          break;
        }
        case 'unknown-specialization':
          p(rng.int(1, max));
          if (rng.chance(0.8)) l(rng.int(1, max));
          break;
        case 'legacy-id': {
          // One or both rows under the legacy alias; in sync or not.
          const where = rng.pick(['progress', 'license', 'both'] as const);
          const pl = level;
          const ll = rng.chance(0.5) ? level : rng.int(1, max);
          p(pl, where === 'license' ? canonical : alias);
          l(ll, Math.max(ll, rng.int(1, max)), where === 'progress' ? canonical : alias);
          break;
        }
        case 'alias-duplicate':
          p(level);
          p(rng.int(1, max), alias);
          l(level);
          break;
        case 'null-progress-level':
          p(null);
          l(level);
          break;
        case 'nonpositive-progress-level':
          p(rng.pick([0, -1, -7]));
          l(level);
          break;
        case 'huge-progress-level':
          p(2_147_483_647);
          l(level);
          break;
        case 'null-license-level':
          p(level);
          l(null, level);
          break;
        case 'max-achieved-below-level': {
          const high = rng.int(2, max);
          p(high);
          l(high, high - 1);
          break;
        }
        case 'null-max-achieved':
          p(level);
          l(level, null);
          break;
        case 'duplicate-rows':
          p(level);
          p(rng.int(1, max));
          l(level);
          break;
      }
    }
  }
  return { progress, licenses, categories: byKey, keys };
}

/** Inserts seed rows (one statement per table, every value a parameter). */
export async function insertRows(
  client: pg.Pool | pg.PoolClient,
  world: World,
  rows: { readonly progress: readonly ProgressSeedRow[]; readonly licenses: readonly LicenseSeedRow[] },
): Promise<void> {
  const { t, c } = world;
  await world.ensureUsers(client, [...rows.progress.map((r) => r.userId), ...rows.licenses.map((r) => r.userId)]);
  if (rows.progress.length > 0) {
    await client.query(
      `INSERT INTO ${t.progress} (${c.pUser}, ${c.pSpec}, ${c.pLevel})
       SELECT x.u, x.s, x.l FROM unnest($1::int8[], $2::text[], $3::int4[]) WITH ORDINALITY AS x(u, s, l, n) ORDER BY x.n`,
      [rows.progress.map((r) => r.userId), rows.progress.map((r) => r.specializationId), rows.progress.map((r) => r.level)],
    );
  }
  if (rows.licenses.length > 0) {
    await client.query(
      `INSERT INTO ${t.licenses} (${c.lUser}, ${c.lSpec}, ${c.lLevel}, ${c.lMax}${world.licenseInsertExtra.columns})
       SELECT x.u, x.s, x.l, x.m${world.licenseInsertExtra.values} FROM unnest($1::int8[], $2::text[], $3::int4[], $4::int4[]) WITH ORDINALITY AS x(u, s, l, m, n) ORDER BY x.n`,
      [
        rows.licenses.map((r) => r.userId),
        rows.licenses.map((r) => r.specializationId),
        rows.licenses.map((r) => r.level),
        rows.licenses.map((r) => r.maxAchievedLevel),
      ],
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

export interface ProgressRow {
  readonly id: number;
  readonly userId: number;
  readonly specializationId: string;
  readonly level: number | null;
}
export interface LicenseRow {
  readonly id: number;
  readonly userId: number;
  readonly specializationId: string;
  readonly level: number | null;
  readonly maxAchievedLevel: number | null;
}
export interface HistoryRow {
  readonly id: number;
  readonly licenseId: number;
  /** null for a creation (the original schema's sentinel 0 is read back as null). */
  readonly fromLevel: number | null;
  readonly toLevel: number;
  readonly reason: string | null;
  readonly advancedBy: number | null;
}
export interface Snapshot {
  readonly progress: readonly ProgressRow[];
  readonly licenses: readonly LicenseRow[];
  readonly history: readonly HistoryRow[];
  readonly licenseById: ReadonlyMap<number, LicenseRow>;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Everything the world's tables hold (three statements in one REPEATABLE READ transaction: a consistent view). */
export async function snapshot(pool: pg.Pool, world: World): Promise<Snapshot> {
  const { t, c } = world;
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const progress = await client.query(`SELECT ${c.pId} AS id, ${c.pUser} AS u, ${c.pSpec}::text AS s, ${c.pLevel} AS l FROM ${t.progress} ORDER BY ${c.pId}`);
    const licenses = await client.query(
      `SELECT ${c.lId} AS id, ${c.lUser} AS u, ${c.lSpec}::text AS s, ${c.lLevel} AS l, ${c.lMax} AS m FROM ${t.licenses} ORDER BY ${c.lId}`,
    );
    const history = await client.query(
      `SELECT ${c.hId} AS id, ${c.hLicense} AS lic, ${c.hFrom} AS f, ${c.hTo} AS t, ${c.hReason} AS r, ${c.hBy} AS b FROM ${t.history} ORDER BY ${c.hId}`,
    );
    await client.query('COMMIT');
    const licenseRows = licenses.rows.map(
      (r): LicenseRow => ({ id: Number(r.id), userId: Number(r.u), specializationId: String(r.s), level: num(r.l), maxAchievedLevel: num(r.m) }),
    );
    return {
      progress: progress.rows.map((r): ProgressRow => ({ id: Number(r.id), userId: Number(r.u), specializationId: String(r.s), level: num(r.l) })),
      licenses: licenseRows,
      history: history.rows.map(
        (r): HistoryRow => ({
          id: Number(r.id),
          licenseId: Number(r.lic),
          fromLevel: num(r.f) === world.creationFrom ? null : num(r.f),
          toLevel: Number(r.t),
          reason: r.r === null ? null : String(r.r),
          advancedBy: num(r.b),
        }),
      ),
      licenseById: new Map(licenseRows.map((row) => [row.id, row])),
    };
  } catch (cause) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw cause;
  } finally {
    client.release();
  }
}

/** `user|storedId` of a row. */
export const rowKey = (row: { readonly userId: UserId; readonly specializationId: string }) => `${String(row.userId)}|${row.specializationId}`;

/**
 * New drift on random pairs (about `amount`): progress levels moved either way (a few above the
 * maximum), progress rows
 * deleted, new users (from `nextUser` on) with one side only. Licenses are only created, never
 * changed (a license change must write its history row). Returns the next free user id.
 */
export async function injectDrift(pool: pg.Pool, world: World, rng: Rng, nextUser: number, amount: number): Promise<number> {
  const { t, c } = world;
  const known = [...KNOWN];
  const rows = (await pool.query(`SELECT ${c.pUser} AS u, ${c.pSpec}::text AS s FROM ${t.progress} WHERE ${c.pSpec} = ANY ($1::text[])`, [known.map(([id]) => id)])).rows;
  const chosen = rng.sample(rows, Math.floor(amount * 0.8));
  const moved = chosen.filter(() => rng.chance(0.85));
  const deleted = chosen.filter((r) => !moved.includes(r));
  await pool.query(
    `UPDATE ${t.progress} x SET ${c.pLevel} = v.l FROM unnest($1::int8[], $2::text[], $3::int4[]) AS v(u, s, l) WHERE x.${c.pUser} = v.u AND x.${c.pSpec} = v.s`,
    [moved.map((r) => r.u), moved.map((r) => r.s), moved.map((r) => (rng.chance(0.05) ? KNOWN.get(r.s)! + rng.int(1, 2) : rng.int(1, KNOWN.get(r.s)!)))],
  );
  await pool.query(`DELETE FROM ${t.progress} x USING unnest($1::int8[], $2::text[]) AS v(u, s) WHERE x.${c.pUser} = v.u AND x.${c.pSpec} = v.s`, [
    deleted.map((r) => r.u),
    deleted.map((r) => r.s),
  ]);
  const fresh = Math.ceil(amount * 0.2);
  const users = Array.from({ length: fresh }, (_, i) => nextUser + i);
  const sides = generateDrift(rng, world, users);
  await insertRows(pool, world, {
    progress: sides.progress.filter((r) => KNOWN.has(r.specializationId) && r.userId % 2 === 0),
    licenses: sides.licenses.filter((r) => KNOWN.has(r.specializationId) && r.userId % 2 === 1),
  });
  return nextUser + fresh;
}

