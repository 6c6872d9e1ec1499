// levelsync: the core. Pure rules, the max-level resolver and the sync engine; no I/O of its own.
// PostgreSQL adapters live in `levelsync/pg`, in-memory implementations and conformance suites
// in `levelsync/testing`.

// Errors
export type {
  AdvancementRejected,
  AdvancementRejectionReason,
  DeprecatedSpecializationId,
  InvalidMaxLevel,
  LevelsyncError,
  LevelsyncErrorTag,
  PlanFingerprintMismatch,
  PlanParseError,
  RepositoryUnavailable,
  ResolveError,
  RunInProgress,
  StoreError,
  StoreUnavailable,
  UnknownSpecialization,
  UnsupportedPlanVersion,
  ValidationError,
  ValidationIssue,
} from './errors.js';
export { describeCause, repositoryUnavailable, runInProgress, storeUnavailable, validationError } from './errors.js';
export { redactSecrets } from './_internal/redact-secrets.js';

// Domain
export { SPECIALIZATION_ID_PATTERN, SpecializationIdSchema, parseSpecializationId } from './domain/specialization-id.js';
export type { SpecializationId } from './domain/specialization-id.js';
export { LevelSchema, MaxLevelSchema, isLevel, isLevelWithin } from './domain/level.js';
export type { Level } from './domain/level.js';
export {
  LevelDefinitionSchema,
  LevelThresholdsSchema,
  SpecializationAliasSchema,
  SpecializationSchema,
  parseSpecialization,
} from './domain/specialization.js';
export type { LevelDefinition, LevelThresholds, Specialization, SpecializationAlias, SpecializationInput } from './domain/specialization.js';
export { createCatalog, defineCatalog, isAliasDeprecated } from './domain/catalog.js';
export type { CanonicalIdLookup, Catalog } from './domain/catalog.js';
export { DEFAULT_CATALOG, DEFAULT_FALLBACK_MAX_LEVELS, DEFAULT_SPECIALIZATIONS } from './domain/default-catalog.js';
export { LicenseProgressionSchema, LicenseRecordSchema, ProgressRecordSchema, UserIdSchema, userIdForKind } from './domain/records.js';
export type { LicenseProgression, LicenseRecord, ProgressRecord, UserId, UserIdKind } from './domain/records.js';
export { applyProgressGain, meetsThresholds, validateAdvancement } from './domain/rules.js';
export type { AdvancementRequest, ProgressGain, ProgressLevelUp, ProgressTotals } from './domain/rules.js';

// Max-level resolution
export type { MaxLevelRecord, MaxLevelRepository } from './max-level/max-level-repository.js';
export { MAX_LEVEL_CACHE_DEFAULTS, createMaxLevelResolver } from './max-level/create-max-level-resolver.js';
export type { MaxLevelCacheOptions, MaxLevelResolverOptions } from './max-level/create-max-level-resolver.js';
export type { AliasUse, MaxLevelResolver, MaxLevelTable, Resolution, ResolutionIssue, ResolutionSource } from './max-level/resolution.js';

// Sync engine
export { compareCodePoints, comparePairKeys, compareUserIds, formatPairKey, pairKeyId } from './sync/pair-key.js';
export type { PairKey } from './sync/pair-key.js';
export type { LicenseState, ProgressState, SyncPair } from './sync/pair.js';
export { formatShard, parseShard, shardOf } from './sync/shard.js';
export type { Shard } from './sync/shard.js';
export { DESYNC_KINDS, isInformational } from './sync/desync.js';
export type {
  AboveMaxLevel,
  Desync,
  DesyncKind,
  DuplicateRecord,
  InvalidLevel,
  LegacySpecializationId,
  UnreadableRecord,
  LevelMismatch,
  MaxAchievedBelowLevel,
  MissingLicense,
  MissingProgress,
  Side,
  UnknownSpecializationDesync,
} from './sync/desync.js';
export { diff, diffPair } from './sync/diff.js';
export type { DiffContext } from './sync/diff.js';
export { DEFAULT_CLAMP_LIMIT, DEFAULT_POLICY, SYNC_DIRECTIONS, SyncPolicySchema, policyFor, resolvePolicy } from './sync/policy.js';
export { checkPlanPolicy } from './sync/plan-trust.js';
export { isRefusal, type ActionRefusal } from './sync/isolate-refusals.js';
export type { PolicyRules, SyncDirection, SyncPolicy, SyncPolicyInput } from './sync/policy.js';
export { ACTION_KINDS, isWriteAction } from './sync/action.js';
export type {
  ActionKind,
  CreateLicense,
  CreateProgress,
  ExpectedState,
  FlagForReview,
  SetLicenseLevel,
  SetProgressLevel,
  SyncAction,
  WriteAction,
} from './sync/action.js';
export { PLAN_FORMAT_VERSION, createPlan, planFingerprint, planPair } from './sync/plan.js';
export type { CreatePlanOptions, PlanInput, PlanScope, PlanSummary, PlannedMaxLevel, SyncPlan } from './sync/plan.js';
export { checkPlanAction, checkPlanConsistency, parsePlan } from './sync/parse-plan.js';
export type { PlanActionContext } from './sync/parse-plan.js';
export { collectPlan, createPlanStream, streamPlan } from './sync/plan-stream.js';
export type { CreatePlanStreamOptions, DesyncPageSource, PlanHeader, PlanPage, PlanSourceError, PlanStream, PlanTrailer } from './sync/plan-stream.js';
export { PlanLineReader, encodePlanLines, looksLikePlanLines, parsePlanLines, readPlanLines, readPlanLinesToPlan, verifyPlanLines } from './sync/plan-lines.js';
export type { VerifiedPlanFile } from './sync/plan-lines.js';
export { describeAction, overviewOf, previewPlanStream, renderPlan } from './sync/render-plan.js';
export type { PlanOverview, RenderPlanOptions } from './sync/render-plan.js';
export { applyPlan, batchActions } from './sync/apply.js';
export type { ApplyOptions, ApplyReport } from './sync/apply.js';
export type { ActionOutcome, ActionStatus, ApplyStatus, BatchReport, SyncEvent } from './sync/events.js';
export { openDesyncScan, scanDesyncs } from './sync/scan.js';
export type { DesyncScan, DesyncScanStream, DesyncScanSummary, ScanOptions } from './sync/scan.js';
export { syncPair } from './sync/sync-pair.js';
export type { SyncPairOptions, SyncPairReport } from './sync/sync-pair.js';
export { HEALTH_THRESHOLDS, checkHealth, healthReport } from './sync/health.js';
export type { HealthCheck, HealthReport, HealthStatus } from './sync/health.js';
export { countLegacyIdUse, describeLegacyIdSummary, legacyIdSummary } from './sync/legacy-ids.js';
export type { LegacyIdSummary, LegacyIdUsage } from './sync/legacy-ids.js';
export { SILENT_LOGGER } from './logger.js';
export type { Logger } from './logger.js';
export type {
  ApplyContext,
  DifferingPairQuery,
  PairQuery,
  RunLock,
  RunScope,
  SyncStore,
  WriteOutcome,
} from './sync/sync-store.js';
