// levelsync/testing: in-memory implementations of every port, and the conformance suites any
// implementation (yours included) can run. The suites need vitest.
//
// The surface is recorded in api/levelsync-testing.api.txt and checked by a test: after a
// deliberate change, run `npm run api:update`.
export { createInMemorySyncStore } from './in-memory-sync-store.js';
export type { InMemorySyncStore, InMemorySyncStoreOptions } from './in-memory-sync-store.js';
export type { LicenseRowData, ProgressRowData, ProgressionRowData, StoreSnapshot, SyncStoreSeed } from './store-snapshot.js';
export { describeSyncStoreConformance } from './sync-store-conformance.js';
export type { SyncStoreConcern, SyncStoreConformanceOptions, SyncStoreHarness } from './sync-store-conformance.js';
export type { ConformanceOptions } from './conformance-harness.js';
export { createInMemoryMaxLevelRepository } from './in-memory-max-level-repository.js';
export type { InMemoryMaxLevelRepository, InMemoryMaxLevelRepositoryOptions } from './in-memory-max-level-repository.js';
export { CONFORMANCE_SECRET_PASSWORD, describeMaxLevelRepositoryConformance } from './max-level-repository-conformance.js';
export type { MaxLevelRepositoryConformanceOptions } from './max-level-repository-conformance.js';
