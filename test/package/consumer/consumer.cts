// The CommonJS side of the packed-tarball consumer: `require` of every entry point, type-checked.
import levelsync = require('levelsync');
import levelsyncPg = require('levelsync/pg');
import levelsyncTesting = require('levelsync/testing');

const catalog: levelsync.Catalog = levelsync.DEFAULT_CATALOG;
const coach = catalog.get('COACH');
const mapping: levelsyncPg.PgMapping = levelsyncPg.LEVELSYNC_MAPPING;
console.log(
  JSON.stringify({
    coach: coach?.id ?? null,
    schema: mapping.schema,
    pgExports: typeof levelsyncPg.createPgSyncStore,
    testingExports: typeof levelsyncTesting.describeSyncStoreConformance,
  }),
);
