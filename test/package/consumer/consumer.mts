// A consumer of the packed tarball, type-checked with strict, exactOptionalPropertyTypes and
// noUncheckedIndexedAccess, then run against PGlite: migrate, load the catalog, find the desyncs,
// plan, apply, and find none left. Prints one JSON line for the test to check.
import { PGlite } from '@electric-sql/pglite';
import { DEFAULT_CATALOG, applyPlan, createMaxLevelResolver, createPlan, scanDesyncs, type SyncPlan } from 'levelsync';
import { LEVELSYNC_MAPPING, createPgMaxLevelRepository, createPgSyncStore, migrate, upsertSpecializations } from 'levelsync/pg';
import * as testing from 'levelsync/testing';

const db = await PGlite.create();
(await migrate(db))._unsafeUnwrap();
const rows = DEFAULT_CATALOG.specializations.map((s) => ({ id: s.id, name: s.name, maxLevel: s.maxLevel }));
(await upsertSpecializations(db, rows, { mapping: LEVELSYNC_MAPPING }))._unsafeUnwrap();
await db.exec(`
  INSERT INTO levelsync.progress (user_id, specialization_id, level) VALUES (1, 'LFA_COACH', 3), (2, 'INTERNSHIP', 1);
  INSERT INTO levelsync.licenses (user_id, specialization_id, level, max_achieved_level) VALUES (1, 'LFA_COACH', 2, 2);
`);

const store = createPgSyncStore(db);
const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(db)] });
const scan = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
const plan: SyncPlan = createPlan(scan, { policy: { direction: 'higher-wins' } })._unsafeUnwrap();
const report = (await applyPlan(plan, store))._unsafeUnwrap();
const after = (await scanDesyncs(store, { resolver }))._unsafeUnwrap();
const first = scan.desyncs[0]; // noUncheckedIndexedAccess: possibly undefined
await db.close();

console.log(
  JSON.stringify({
    found: scan.desyncs.length,
    firstKind: first?.kind ?? null,
    applied: report.counts.Applied,
    left: after.desyncs.length,
    testingExports: Object.keys(testing).sort(),
  }),
);
