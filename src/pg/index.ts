// levelsync/pg: PostgreSQL adapters for node-postgres (`pg`) and in-process PGlite. Neither
// driver is imported here: levelsync talks to any object with the right shape, so this entry
// point loads without them and only your own code decides which one is installed.
//
// Every name here is one a user calls, implements or narrows on; the rest of the adapter is
// internal. The surface is recorded in api/levelsync-pg.api.txt and checked by a test: after a
// deliberate change, run `npm run api:update`.

// Clients
export { pgClient, pglite, pgPool, toPgConnection } from './sql-client.js';
export type {
  PgConnection,
  PgConnectionInput,
  PgSession,
  PGliteLike,
  SqlPool,
  SqlPoolSession,
  SqlQueryable,
  SqlQueryResult,
  SqlRows,
  SqlRunner,
} from './sql-client.js';

// Mappings: which tables and columns hold the records.
export { LEVELSYNC_MAPPING, ORIGINAL_SYSTEM_MAPPING, createLevelsyncMapping, createPgMapping, parsePgMapping } from './pg-mapping.js';
export type { LevelsyncSchemaOptions, PgMapping, PgMappingPatch, PgUserIdType } from './pg-mapping.js';

// Schema
export { LEVELSYNC_MIGRATIONS, migrate } from './migrate.js';
export type { MigrateOptions, Migration, MigrationReport } from './migrate.js';
export { cleanupDuplicates } from './cleanup-duplicates.js';
export type { CleanupDuplicatesOptions, CleanupDuplicatesReport } from './cleanup-duplicates.js';
export { upsertSpecializations } from './upsert-specializations.js';
export type { SpecializationRow } from './upsert-specializations.js';

// Ports
export { createPgMaxLevelRepository } from './pg-max-level-repository.js';
export type { PgMaxLevelRepositoryOptions } from './pg-max-level-repository.js';
export { createPgSyncStore } from './pg-sync-store.js';
export type { PgSyncStore, PgSyncStoreOptions } from './pg-sync-store.js';
export type { MappedTableFacts, TableFacts } from './table-introspection.js';

// Continuous mode: change capture, reconcilers, pending checks, max-level invalidation
export { CAPTURE_SETTING, CHANGE_TABLE, CHANGES_CHANNEL, MAX_LEVEL_CHANNEL } from './continuous/capture-ddl.js';
export type { CaptureDdlOptions } from './continuous/capture-ddl.js';
export { captureDdl, installCapture, isCaptureInstalled, uninstallCapture } from './continuous/capture.js';
export type { CaptureOptions, CaptureReport } from './continuous/capture.js';
export { createReconciler } from './continuous/reconciler.js';
export type { BatchOutcome, Reconciler, ReconcilerEvent, ReconcilerOptions } from './continuous/reconciler.js';
export { checkPending, pendingLag } from './continuous/pending-check.js';
export type { ChangeLag, CheckPendingOptions, PendingCheck } from './continuous/pending-check.js';
export { createPgMaxLevelInvalidation } from './continuous/max-level-invalidation.js';
export type { MaxLevelInvalidation, MaxLevelInvalidationOptions, ListenSource } from './continuous/max-level-invalidation.js';
