// levelsync/pg: PostgreSQL adapters for node-postgres (`pg`) and in-process PGlite. Neither
// driver is imported here: levelsync talks to any object with the right shape, so this entry
// point loads without them and only your own code decides which one is installed.

// Clients
export { isPgConnection, pgClient, pglite, pgPool, toPgConnection } from './sql-client.js';
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

// Identifiers and mappings
export {
  IDENTIFIER_PATTERN,
  IdentifierSchema,
  QUALIFIED_IDENTIFIER_PATTERN,
  QualifiedIdentifierSchema,
  quoteIdentifier,
  quoteTable,
} from './identifier.js';
export {
  LEVELSYNC_MAPPING,
  ORIGINAL_SYSTEM_MAPPING,
  PgMappingSchema,
  createLevelsyncMapping,
  createPgMapping,
  parsePgMapping,
} from './pg-mapping.js';
export type {
  LevelsyncSchemaOptions,
  PgLicensesMapping,
  PgMapping,
  PgMappingPatch,
  PgProgressMapping,
  PgProgressionsMapping,
  PgSpecializationsMapping,
  PgUserIdType,
} from './pg-mapping.js';

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
export { advisoryKey, runLockKeys } from './advisory-run-lock.js';
export type { RunLockKeys } from './advisory-run-lock.js';
