import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { diffPair, shardOf, type SyncPair } from 'levelsync';
import { createPgMapping, createPgSyncStore, ORIGINAL_SYSTEM_MAPPING, type PgMapping, type PgSyncStore } from 'levelsync/pg';
import { createInMemorySyncStore, type LicenseRowData, type ProgressRowData, type SyncStoreSeed } from 'levelsync/testing';
import { createOriginalSchema, ensureOriginalUsers } from '../../support/original-schema.js';
import { seedMapped, truncateMapped } from '../../support/pg-store-harness.js';
import type { PgTestTarget } from './target.js';

const STORED_IDS = ['GANCUJU_PLAYER', 'PLAYER', 'LFA_COACH', 'COACH', 'INTERNSHIP', 'MYSTERY'] as const;
const CANONICAL_IDS = ['GANCUJU_PLAYER', 'LFA_COACH', 'INTERNSHIP', 'PLAYER', 'COACH', 'MYSTERY'] as const;
const ALIASES: ReadonlyMap<string, string> = new Map([
  ['PLAYER', 'GANCUJU_PLAYER'],
  ['COACH', 'LFA_COACH'],
]);

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
  readonly aliases: boolean;
  readonly filter: { specializationIds?: string[]; userIds?: number[]; shard?: { index: number; count: number } };
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
      aliases: fc.boolean(),
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
      return { progress: dedupe(progress), licenses: dedupe(licenses), maxLevels: raw.maxLevels, aliases: raw.aliases, filter: raw.filter };
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
 * The SQL diff is the core diff: on random data (NULL, negative and above-maximum levels,
 * invalid maximum achieved levels, orphans on both sides, legacy aliases, unknown
 * specializations, duplicates where the schema allows them, random filters), the pairs
 * `scanDifferingPairs` returns are exactly `scanPairs` filtered by `diffPair(...).length > 0`,
 * and `scanPairs` is exactly what the reference in-memory store returns.
 */
export function defineNativeDiffProperty(target: PgTestTarget, prefix: string, numRuns: number): void {
  const variants: { name: string; schema: string; unique: boolean; nullLicenseLevels: boolean }[] = [
    { name: 'original schema without unique keys, nullable license levels', schema: `${prefix}_prop_lax`, unique: false, nullLicenseLevels: true },
    { name: 'original schema with unique keys', schema: `${prefix}_prop_keys`, unique: true, nullLicenseLevels: false },
  ];
  for (const variant of variants) {
    describe(`${target.label}: native diff == core diff (${variant.name})`, () => {
      const mapping: PgMapping = createPgMapping({ schema: variant.schema }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
      let store: PgSyncStore;
      beforeAll(async () => {
        await createOriginalSchema(target.connection().run, {
          schema: variant.schema,
          uniqueKeys: variant.unique,
          nullableLicenseLevels: variant.nullLicenseLevels,
        });
        store = createPgSyncStore(target.connection(), { mapping, pageSize: 3 });
        expect((await store.tableFacts())._unsafeUnwrap().licenses.uniqueKey).toBe(variant.unique);
      });

      it(`scanDifferingPairs() returns exactly the pairs diffPair() reports (${numRuns} random data sets)`, async () => {
        await fc.assert(
          fc.asyncProperty(scenario(variant), async (s) => {
            const { run } = target.connection();
            await truncateMapped(run, mapping, ['users']);
            await ensureOriginalUsers(run, mapping.schema, [1, 2, 3, 4, 5, 6]);
            const seed: SyncStoreSeed = { specializations: STORED_IDS.map((id) => ({ id, maxLevel: 8 })), progress: s.progress, licenses: s.licenses };
            await seedMapped(run, mapping, seed);
            const maxLevels = new Map(s.maxLevels);
            const query = { ...s.filter, aliases: s.aliases ? ALIASES : new Map<string, string>() };

            const all = await collect(store.scanPairs(query));
            const reference = await collect(createInMemorySyncStore(seed).scanPairs(query));
            expect(all).toEqual(reference);

            const native = await collect(store.scanDifferingPairs({ ...query, maxLevels }));
            const expected = all.filter((pair) => diffPair(pair, { maxLevelOf: (id) => maxLevels.get(id) }).length > 0);
            expect(native).toEqual(expected);
            expect((await store.countPairs(query))._unsafeUnwrap()).toBe(all.length);
          }),
          { numRuns },
        );
      });
    });
  }
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
