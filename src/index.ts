// levelsync: the core. Pure rules, the max-level resolver and the sync engine; no I/O of its own.
// PostgreSQL adapters live in `levelsync/pg`, in-memory implementations and conformance suites
// in `levelsync/testing`.
//
// Every name here is one a user calls, implements or narrows on; the rest of the core is
// internal. The surface is recorded in api/levelsync.api.txt and checked by a test: after a
// deliberate change, run `npm run api:update`.

// Errors: narrow on `_tag` (every member of `LevelsyncError` has one). A repository or a store
// you implement fails with `repositoryUnavailable(...)` or `storeUnavailable(...)`.
export type { AdvancementRejected, LevelsyncError, RepositoryUnavailable, ResolveError, StoreError, StoreUnavailable, ValidationError } from './errors.js';
export { describeCause, repositoryUnavailable, storeUnavailable } from './errors.js';

// Domain: specializations, catalogs, users and the level rules.
export { SpecializationIdSchema } from './domain/specialization-id.js';
export type { LevelDefinition, Specialization, SpecializationInput } from './domain/specialization.js';
export { createCatalog, defineCatalog } from './domain/catalog.js';
export type { Catalog } from './domain/catalog.js';
export { DEFAULT_CATALOG } from './domain/default-catalog.js';
export { userIdForKind } from './domain/records.js';
export type { UserId } from './domain/records.js';
export { applyProgressGain, validateAdvancement } from './domain/rules.js';
export type { ProgressGain, ProgressLevelUp, ProgressTotals } from './domain/rules.js';

// Max-level resolution, and its port.
export type { MaxLevelRecord, MaxLevelRepository } from './max-level/max-level-repository.js';
export { createMaxLevelResolver } from './max-level/create-max-level-resolver.js';
export type { MaxLevelResolverOptions } from './max-level/create-max-level-resolver.js';
export type { MaxLevelResolver, Resolution } from './max-level/resolution.js';

// Sync engine: scan and diff.
export { comparePairKeys } from './sync/pair-key.js';
export type { PairKey } from './sync/pair-key.js';
export type { SyncPair } from './sync/pair.js';
export { shardOf } from './sync/shard.js';
export type { Shard } from './sync/shard.js';
export { isInformational } from './sync/desync.js';
export type { Desync, DesyncKind } from './sync/desync.js';
export { diff } from './sync/diff.js';
export { openDesyncScan, scanDesyncs } from './sync/scan.js';
export type { DesyncScan, ScanOptions } from './sync/scan.js';

// Sync engine: policies, plans and plan files.
export { SYNC_DIRECTIONS } from './sync/policy.js';
export type { SyncDirection, SyncPolicy, SyncPolicyInput } from './sync/policy.js';
export { isWriteAction } from './sync/action.js';
export type { ActionKind, FlagReason, SyncAction, WriteAction } from './sync/action.js';
export { createPlan, planFingerprint } from './sync/plan.js';
export type { CreatePlanOptions, SyncPlan } from './sync/plan.js';
export { parsePlan } from './sync/parse-plan.js';
export { createPlanStream } from './sync/plan-stream.js';
export type { PlanStream } from './sync/plan-stream.js';
export { encodePlanLines, readPlanLines } from './sync/plan-lines.js';
export { describeAction, renderPlan } from './sync/render-plan.js';

// Sync engine: apply, targeted sync, health, observability.
export { applyPlan } from './sync/apply.js';
export type { ApplyOptions, ApplyReport } from './sync/apply.js';
export type { ActionStatus, SyncEvent } from './sync/events.js';
export { syncPair } from './sync/sync-pair.js';
export type { SyncPairOptions, SyncPairReport } from './sync/sync-pair.js';
export { checkHealth } from './sync/health.js';
export type { HealthCheck, HealthStatus } from './sync/health.js';
export type { Logger } from './logger.js';

// The SyncStore port: what a store implements.
export type {
  ApplyContext,
  DifferingPairQuery,
  PairQuery,
  RunLock,
  RunScope,
  SyncStore,
  WriteOutcome,
} from './sync/sync-store.js';
export type { SpecializationRows } from './sync/specialization-rows.js';
