import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { defineCatalog, scanDesyncs, shardOf, createMaxLevelResolver, type Catalog, type SyncPair } from 'levelsync';
import { diffPair } from '../../../src/sync/diff.js';
import { countLegacyIdUse } from '../../../src/sync/legacy-ids.js';
import { createPgMapping, createPgSyncStore, ORIGINAL_SYSTEM_MAPPING, type PgMapping, type PgSyncStore } from 'levelsync/pg';
import { createInMemorySyncStore, type LicenseRowData, type ProgressRowData, type SyncStoreSeed } from 'levelsync/testing';
import { createOriginalSchema, ensureOriginalUsers } from '../../support/original-schema.js';
import { seedMapped, truncateMapped } from '../../support/pg-store-harness.js';
import type { PgTestTarget } from './target.js';

const STORED_IDS = ['GANCUJU_PLAYER', 'PLAYER', 'LFA_COACH', 'COACH', 'INTERNSHIP', 'MYSTERY'] as const;
const CANONICAL_IDS = ['GANCUJU_PLAYER', 'LFA_COACH', 'INTERNSHIP', 'PLAYER', 'COACH', 'MYSTERY'] as const;
/**
 * Alias layouts (alias → canonical id) the property draws from: none; the default catalog's;
 * one alias only; the reverse (the database's old names are the canonical ids); two aliases of
 * one id; two legacy ids folded into one canonical id.
 */
const LAYOUTS: readonly (readonly [string, string])[][] = [
  [],
  [
    ['PLAYER', 'GANCUJU_PLAYER'],
    ['COACH', 'LFA_COACH'],
  ],
  [['PLAYER', 'GANCUJU_PLAYER']],
  [
    ['GANCUJU_PLAYER', 'PLAYER'],
    ['LFA_COACH', 'COACH'],
  ],
  [
    ['COACH', 'LFA_COACH'],
    ['MYSTERY', 'LFA_COACH'],
  ],
  [
    ['PLAYER', 'GANCUJU_PLAYER'],
    ['COACH', 'GANCUJU_PLAYER'],
  ],
];

/** A catalog with exactly the layout's aliases (every other id canonical, maximum 8). */
export function catalogOf(layout: readonly (readonly [string, string])[]): Catalog {
  const canonical = new Set([...STORED_IDS.filter((id) => !layout.some(([alias]) => alias === id))]);
  return defineCatalog(
    [...canonical].map((id) => ({
      id,
      name: id,
      maxLevel: 8,
      aliases: layout.filter(([, c]) => c === id).map(([alias]) => ({ id: alias })),
    })),
  );
}

const userId = fc.integer({ min: 1, max: 5 });
const specializationId = fc.constantFrom(...STORED_IDS);
/** Mostly valid levels, sometimes NULL, below 1 or above every maximum. */
const level = (nullable: boolean) =>
  fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 10 },
    { arbitrary: nullable ? fc.constant(null) : fc.constant(1), weight: 1 },
    { arbitrary: fc.integer({ min: -1, max: 0 }), weight: 1 },
    { arbitrary: fc.integer({ min: 9, max: 10 }), weight: 1 },
  );

interface Scenario {
  readonly progress: ProgressRowData[];
  readonly licenses: LicenseRowData[];
  readonly maxLevels: [string, number][];
  readonly layout: number;
  readonly listLegacy: boolean;
  readonly filter: {
    specializationIds?: string[];
    userIds?: number[];
    shard?: { index: number; count: number };
    after?: { userId: number; specializationId: string };
  };
}

/**
 * Random tables built pair by pair so that most pairs are in sync or nearly so (the interesting
 * cases sit next to each other): both sides, one side only, equal or different levels, a
 * maximum achieved level at, above or below the level, plus stray rows (duplicates, where the
 * schema allows them, and rows under legacy aliases).
 */
function scenario(options: { readonly nullLicenseLevels: boolean; readonly unique: boolean }): fc.Arbitrary<Scenario> {
  const pair = fc.record({
    userId,
    specializationId,
    shape: fc.constantFrom('both', 'both', 'both', 'both', 'progress', 'license'),
    progressLevel: level(true),
    licenseLevel: level(options.nullLicenseLevels),
    sameLevel: fc.boolean(),
    maxAchieved: fc.oneof(
      { arbitrary: fc.nat(2).map((d) => ({ delta: d })), weight: 8 },
      { arbitrary: fc.constant({ delta: -1 }), weight: 1 },
      { arbitrary: fc.constantFrom(0, -1, options.nullLicenseLevels ? null : 0).map((v) => ({ value: v })), weight: 3 },
    ),
    xp: fc.nat(100_000),
    sessions: fc.nat(40),
  });
  const stray = fc.record({ userId, specializationId, level: level(true) });
  const filter = fc.oneof(
    { arbitrary: fc.constant({}), weight: 4 },
    { arbitrary: fc.record({ specializationIds: fc.subarray([...CANONICAL_IDS], { minLength: 1 }) }), weight: 1 },
    { arbitrary: fc.record({ userIds: fc.subarray([1, 2, 3, 4, 5, 6], { minLength: 1 }) }), weight: 1 },
    {
      arbitrary: fc.integer({ min: 1, max: 4 }).chain((count) => fc.record({ shard: fc.record({ index: fc.integer({ min: 0, max: count - 1 }), count: fc.constant(count) }) })),
      weight: 1,
    },
    // Keyset paging: any key, a pair's or not, canonical or legacy, alone or with another filter.
    {
      arbitrary: fc.record(
        { after: fc.record({ userId: fc.integer({ min: 0, max: 6 }), specializationId: fc.constantFrom(...CANONICAL_IDS, 'A', 'LFA_COACH_') }), specializationIds: fc.subarray([...CANONICAL_IDS], { minLength: 1 }) },
        { requiredKeys: ['after'] },
      ),
      weight: 2,
    },
  );
  const maxLevels = fc
    .tuple(...CANONICAL_IDS.map((id) => fc.option(fc.integer({ min: 3, max: 8 }), { freq: 8 }).map((max): [string, number | null] => [id, max])))
    .map((entries) => entries.flatMap(([id, max]): [string, number][] => (max === null ? [] : [[id, max]])));
  return fc
    .record({
      pairs: fc.array(pair, { maxLength: 14 }),
      strayProgress: fc.array(stray, { maxLength: 3 }),
      strayLicenses: fc.array(stray, { maxLength: 3 }),
      maxLevels,
      layout: fc.integer({ min: 0, max: LAYOUTS.length - 1 }),
      listLegacy: fc.boolean(),
      filter,
    })
    .map((raw) => {
      const progress: ProgressRowData[] = [];
      const licenses: LicenseRowData[] = [];
      for (const p of raw.pairs) {
        const licenseLevel = p.sameLevel ? (p.progressLevel ?? (options.nullLicenseLevels ? null : 1)) : p.licenseLevel;
        const maxAchievedLevel =
          'value' in p.maxAchieved ? p.maxAchieved.value : licenseLevel === null ? null : licenseLevel + p.maxAchieved.delta;
        if (p.shape !== 'license') progress.push({ userId: p.userId, specializationId: p.specializationId, level: p.progressLevel, xp: p.xp, sessions: p.sessions });
        if (p.shape !== 'progress') licenses.push({ userId: p.userId, specializationId: p.specializationId, level: licenseLevel, maxAchievedLevel });
      }
      for (const r of raw.strayProgress) progress.push({ userId: r.userId, specializationId: r.specializationId, level: r.level, xp: 0, sessions: 0 });
      for (const r of raw.strayLicenses) {
        const l = r.level ?? (options.nullLicenseLevels ? null : 1);
        licenses.push({ userId: r.userId, specializationId: r.specializationId, level: l, maxAchievedLevel: l });
      }
      const dedupe = <T extends { userId: unknown; specializationId: string }>(rows: T[]) =>
        options.unique ? rows.filter((row, i) => rows.findIndex((x) => x.userId === row.userId && x.specializationId === row.specializationId) === i) : rows;
      return { progress: dedupe(progress), licenses: dedupe(licenses), maxLevels: raw.maxLevels, layout: raw.layout, listLegacy: raw.listLegacy, filter: raw.filter };
    });
}

async function collect(pages: AsyncIterable<{ isErr(): boolean; value?: unknown; error?: unknown }>): Promise<SyncPair[]> {
  const out: SyncPair[] = [];
  for await (const page of pages) {
    if (page.isErr()) throw new Error(`page failed: ${JSON.stringify(page.error)}`);
    out.push(...(page.value as SyncPair[]));
  }
  return out;
}

/**
 * The SQL diff is the core diff: on random data in the original schema (NULL, negative and
 * above-maximum levels, invalid maximum achieved levels, orphans on both sides, rows under
 * legacy ids, unknown specializations, duplicates where the schema allows them, random filters)
 * and a random alias/canonical layout bound to the store as its catalog, the pairs
 * `scanDifferingPairs` returns are exactly `scanPairs` filtered by `diffPair(...).length > 0`
 * (with and without `listLegacy`), `scanPairs` is exactly what the reference in-memory store
 * with the same catalog returns, and the server's legacy-id counts are those of those pairs.
 */
export function defineNativeDiffProperty(target: PgTestTarget, prefix: string, numRuns: number): void {
  const variants: { name: string; schema: string; unique: boolean; nullLicenseLevels: boolean }[] = [
    { name: 'original schema without unique keys, nullable license levels', schema: `${prefix}_prop_lax`, unique: false, nullLicenseLevels: true },
    { name: 'original schema with unique keys', schema: `${prefix}_prop_keys`, unique: true, nullLicenseLevels: false },
  ];
  for (const variant of variants) {
    describe(`${target.label}: native diff == core diff (${variant.name})`, () => {
      const mapping: PgMapping = createPgMapping({ schema: variant.schema }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
      beforeAll(async () => {
        await createOriginalSchema(target.connection().run, {
          schema: variant.schema,
          uniqueKeys: variant.unique,
          nullableLicenseLevels: variant.nullLicenseLevels,
        });
        const store = createPgSyncStore(target.connection(), { mapping });
        expect((await store.tableFacts())._unsafeUnwrap().licenses.uniqueKey).toBe(variant.unique);
      });

      it(`scanDifferingPairs() returns exactly the pairs diffPair() reports (${numRuns} random data sets and alias layouts)`, async () => {
        await fc.assert(
          fc.asyncProperty(scenario(variant), async (s) => {
            const { run } = target.connection();
            await truncateMapped(run, mapping, ['users']);
            await ensureOriginalUsers(run, mapping.schema, [1, 2, 3, 4, 5, 6]);
            const seed: SyncStoreSeed = { specializations: STORED_IDS.map((id) => ({ id, maxLevel: 8 })), progress: s.progress, licenses: s.licenses };
            await seedMapped(run, mapping, seed);
            const maxLevels = new Map(s.maxLevels);
            const catalog = catalogOf(LAYOUTS[s.layout]!);
            const store: PgSyncStore = createPgSyncStore(target.connection(), { mapping, pageSize: 3, catalog });
            const query = s.filter;

            const all = await collect(store.scanPairs(query));
            const reference = await collect(createInMemorySyncStore(seed, { catalog }).scanPairs(query));
            expect(all).toEqual(reference);

            const native = await collect(store.scanDifferingPairs({ ...query, maxLevels, listLegacy: s.listLegacy }));
            const expected = all.filter((pair) => diffPair(pair, { maxLevelOf: (id) => maxLevels.get(id), listLegacy: s.listLegacy }).length > 0);
            expect(native).toEqual(expected);
            expect((await store.countPairs(query))._unsafeUnwrap()).toBe(all.length);
            expect((await store.summarizeLegacyIds!(query))._unsafeUnwrap()).toEqual(countLegacyIdUse(all, catalog.aliasMap));
          }),
          { numRuns },
        );
      });
    });
  }

  describe(`${target.label}: legacy ids decided on the server (original schema, every row under PLAYER/COACH)`, () => {
    const schema = `${prefix}_legacy_stream`;
    const mapping: PgMapping = createPgMapping({ schema }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
    const USERS = 300;
    beforeAll(async () => {
      const { run } = target.connection();
      await createOriginalSchema(run, { schema });
      await ensureOriginalUsers(run, schema, Array.from({ length: USERS }, (_, i) => i + 1));
      const progress: ProgressRowData[] = [];
      const licenses: LicenseRowData[] = [];
      for (let u = 1; u <= USERS; u++) {
        // Every row under a legacy id, as in the original's tables; all in sync but three pairs.
        const level = 1 + (u % 8);
        progress.push({ userId: u, specializationId: 'PLAYER', level, xp: 0, sessions: 0 });
        licenses.push({ userId: u, specializationId: 'PLAYER', level: u === 7 ? level === 8 ? 7 : level + 1 : level, maxAchievedLevel: 8 });
        if (u % 2 === 0) {
          progress.push({ userId: u, specializationId: 'COACH', level: 2, xp: 0, sessions: 0 });
          if (u !== 10) licenses.push({ userId: u, specializationId: 'COACH', level: 2, maxAchievedLevel: 2 });
        }
        if (u % 3 === 0) progress.push({ userId: u, specializationId: 'INTERNSHIP', level: 1, xp: 0, sessions: 0 });
        if (u % 3 === 0) licenses.push({ userId: u, specializationId: 'INTERNSHIP', level: u === 9 ? 2 : 1, maxAchievedLevel: 2 });
      }
      await seedMapped(run, mapping, { specializations: ['PLAYER', 'COACH', 'INTERNSHIP', 'GANCUJU_PLAYER', 'LFA_COACH'].map((id) => ({ id, maxLevel: 8 })), progress, licenses });
      await run(`ANALYZE "${schema}".specialization_progress`);
      await run(`ANALYZE "${schema}".user_licenses`);
    });

    it('streams only the pairs needing work (count the rows fetched), and counts legacy ids once per stored id', async () => {
      const session = await target.connection().checkout();
      let fetched = 0;
      const statements: string[] = [];
      const counting = {
        query: async (text: string, values?: unknown[]) => {
          const result = await session.run(text, values);
          statements.push(text);
          if (/^FETCH /.test(text)) fetched += result.rows.length;
          return result;
        },
      };
      try {
        const store = createPgSyncStore(counting, { mapping });
        const resolver = createMaxLevelResolver({ repositories: [] });
        const scan = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
        expect(scan.desyncs.map((d) => [d.userId, d.specializationId, d.kind])).toEqual([
          [7, 'GANCUJU_PLAYER', 'LevelMismatch'],
          [9, 'INTERNSHIP', 'LevelMismatch'],
          [10, 'LFA_COACH', 'MissingLicense'],
        ]);
        // Three pairs with one row per side: three joined rows left the server, of 750 pairs.
        expect(fetched).toBe(3);
        expect(scan.pairsRead).toBe(3);
        const progressCoach = USERS / 2;
        expect(scan.legacyIds).toEqual([
          { storedId: 'COACH', canonicalId: 'LFA_COACH', progressRows: progressCoach, licenseRows: progressCoach - 1, pairs: progressCoach, deprecatedAfter: '2026-05-18' },
          { storedId: 'PLAYER', canonicalId: 'GANCUJU_PLAYER', progressRows: USERS, licenseRows: USERS, pairs: USERS, deprecatedAfter: '2026-05-18' },
        ]);
        // With the option, the per-pair notes come back, and then the legacy pairs are streamed.
        fetched = 0;
        const listed = (await scanDesyncs(store, { resolver, listLegacy: true }))._unsafeUnwrap();
        expect(listed.desyncs.filter((d) => d.kind === 'LegacySpecializationId')).toHaveLength(USERS * 2 + progressCoach + progressCoach - 1);
        expect(fetched).toBe(USERS + progressCoach + 1); // the legacy pairs, plus the INTERNSHIP mismatch
      } finally {
        session.release();
      }
    });
  });
}

/** The shard expression in SQL agrees with `shardOf` for many ids, text ids included. */
export function defineShardAgreement(target: PgTestTarget): void {
  it(`${target.label}: the SQL shard expression agrees with shardOf() for integer and text ids`, async () => {
    const { run } = target.connection();
    const numbers = Array.from({ length: 3_000 }, (_, i) => i * 7919 - 5_000);
    const texts = ['', 'a', 'ü', '日本', '😀', `1'; DROP TABLE x;--`, ...Array.from({ length: 500 }, (_, i) => `user-${i}-${(i * 2654435761) % 1000}`)];
    for (const count of [1, 2, 3, 7, 16, 1000]) {
      const n = await run(`SELECT (('x' || substr(md5(u::text), 1, 8))::bit(32)::bigint % $2::int8)::int4 AS s FROM unnest($1::int8[]) WITH ORDINALITY AS x(u, i) ORDER BY i`, [numbers, count]);
      expect(n.rows.map((r) => r['s'])).toEqual(numbers.map((u) => shardOf(u, count)));
      const t = await run(`SELECT (('x' || substr(md5(u), 1, 8))::bit(32)::bigint % $2::int8)::int4 AS s FROM unnest($1::text[]) WITH ORDINALITY AS x(u, i) ORDER BY i`, [texts, count]);
      expect(t.rows.map((r) => r['s'])).toEqual(texts.map((u) => shardOf(u, count)));
    }
  });
}
