import type { Result, ResultAsync } from 'neverthrow';
import type { UserId } from '../domain/records.js';
import type { StoreError, ValidationIssue } from '../errors.js';
import type { WriteAction } from './action.js';
import type { LegacyIdUsage } from './legacy-ids.js';
import type { PairKey } from './pair-key.js';
import type { SyncPair } from './pair.js';
import type { Shard } from './shard.js';
import type { SpecializationRows } from './specialization-rows.js';

/** Which pairs to read. Every filter is optional; filters combine with AND. */
export interface PairQuery {
  /** Canonical specialization ids; rows stored under their aliases are included. */
  readonly specializationIds?: readonly string[];
  readonly userIds?: readonly UserId[];
  /** Only users whose `shardOf(userId, count) === index`. */
  readonly shard?: Shard;
  /**
   * Legacy alias → canonical id for this call only. Stores are created knowing their catalog
   * (`createPgSyncStore(client, { catalog })`, `createInMemorySyncStore(seed, { catalog })`) and
   * group rows by it without this option; give it only to override that catalog for one call.
   * @deprecated Bind the catalog when creating the store.
   */
  readonly aliases?: ReadonlyMap<string, string>;
  /** Pairs per page (default chosen by the store, typically 1 000–10 000). */
  readonly pageSize?: number;
  /**
   * Only the pairs whose key comes after this one in key order (`comparePairKeys`): keyset
   * paging, a page starting where the previous one ended without reading the pairs before it.
   * `specializationId` is compared as given (a canonical id, as pairs carry).
   */
  readonly after?: PairKey;
}

/** A query for the pairs that differ, given the maximum level of each canonical id. */
export interface DifferingPairQuery extends PairQuery {
  /** Maximum level by canonical id; a pair whose id is missing here is reported as unknown. */
  readonly maxLevels: ReadonlyMap<string, number>;
  /**
   * Also return pairs whose only difference is a row stored under a legacy id (what
   * `diffPair(pair, { listLegacy: true })` reports). Default false: such a pair is in sync and
   * stays on the server.
   */
  readonly listLegacy?: boolean;
}

/** What a batch write needs besides the actions. */
export interface ApplyContext {
  /** Written as `advancedBy` on progression rows; null for automatic changes. */
  readonly actor: UserId | null;
  /** The time written on changed rows and progression rows. */
  readonly now: Date;
  /**
   * Legacy alias → canonical id, so that "no record" means none under any id of the pair.
   * Defaults to the store's own catalog.
   * @deprecated Bind the catalog when creating the store.
   */
  readonly aliases?: ReadonlyMap<string, string>;
  /**
   * Longest wait for one row lock per statement, in ms, where the store owns the transaction
   * (PostgreSQL: `SET LOCAL lock_timeout`); absent: the session's default.
   */
  readonly lockTimeoutMs?: number;
}

/**
 * The outcome of one write action in a batch: written; not written because the pair's records
 * moved on (`Stale`); or not written because the pair's records already hold the state the
 * batch's actions for that pair would leave them in (`AlreadyApplied`: a re-applied plan).
 */
export type WriteOutcome = 'Applied' | 'Stale' | 'AlreadyApplied';

/** A held run lock. Release it exactly once. */
export interface RunLock {
  /** `all`, or `shard k/n`. */
  readonly scope: string;
  release(): Promise<void>;
  /**
   * When the store can tell: aborted when the lock is lost while held (its database session
   * ended, e.g. `pg_terminate_backend`). `applyPlan` checks it before every batch and stops.
   */
  readonly lost?: AbortSignal;
  /**
   * When the store can tell: whether the lock is still held right now, confirmed with the
   * database (PostgreSQL pools: one round trip on the lock's own session). False once the lock's
   * session has ended, even before `lost` fires: a terminated session's closed connection is
   * noticed only when the process next reads from it. `applyPlan` calls it before every batch
   * and stops with `LockLost` on false. Absent where a lock cannot be lost behind the process's
   * back (in-process locks: the in-memory store, PGlite).
   */
  stillHeld?(): Promise<boolean>;
}

/** What a bulk run covers, for locking. */
export interface RunScope {
  readonly shard?: Shard;
}

/**
 * Storage as the sync engine needs it.
 *
 * Contract, checked by `describeSyncStoreConformance` from `levelsync/testing`:
 * - `scanPairs` MUST yield every pair matching the query exactly once, in key order
 *   (`comparePairKeys`), in pages; a page that cannot be read is yielded as `err` and ends the scan.
 * - Rows stored under a legacy id of the store's catalog (`aliases`) belong to the canonical id's
 *   pair in every method, without per-call options.
 * - A user id whose type does not match the store's (a number for text ids, a string that is not
 *   a decimal integer for integer ids) is a `ValidationError` naming the field, never "not found";
 *   a decimal string for integer ids is converted exactly (`userIdForKind`).
 * - `scanDifferingPairs`, when implemented, MUST yield exactly the pairs for which `diffPair`
 *   returns at least one desync with the same maximum levels, aliases and `listLegacy`, in key order.
 * - `summarizeLegacyIds`, when implemented, MUST count, per stored legacy id, the rows and pairs
 *   of the pairs `scanPairs` would yield for the same query.
 * - `applyBatch` MUST be atomic: either every `Applied` write of the batch is committed with its
 *   progression rows, or none is and the result is `err`. Each action is compare-and-set: it is
 *   written only when the pair's records are exactly in the action's `expected` state at the
 *   start of the batch (no record under any id of the pair where `expected` says null), otherwise
 *   it is `Stale` (or `AlreadyApplied` when the pair's records already hold the values the
 *   batch's actions for that pair write) and nothing of it is written. Every license level change, creation included,
 *   writes exactly one progression row; `maxAchievedLevel` never decreases.
 * - `specializationRows`, when implemented, MUST list every stored id of the specializations
 *   table its progress and license tables reference, and say which of them refuse a record
 *   created under any other id: the plan flags such a creation instead of planning it, so a wrong
 *   answer either blocks a repair that would succeed or lets the database refuse it at apply.
 * - `acquireRunLock` MUST refuse a second holder of an overlapping scope with `RunInProgress`
 *   (or wait for it when `wait` is true): `all` overlaps every shard; shards overlap only
 *   themselves.
 */
export interface SyncStore {
  /** A short name for messages, e.g. `postgres` or `memory`. */
  readonly name: string;
  /** Legacy alias → canonical id of the catalog the store was created with (absent: no aliases, or per-call only). */
  readonly aliases?: ReadonlyMap<string, string>;
  scanPairs(query: PairQuery): AsyncIterable<Result<readonly SyncPair[], StoreError>>;
  scanDifferingPairs?(query: DifferingPairQuery): AsyncIterable<Result<readonly SyncPair[], StoreError>>;
  /**
   * Legacy-id use in the pairs matching the query: one entry per stored legacy id with its
   * progress rows, license rows and pairs, computed by the store (one GROUP BY on a server).
   */
  summarizeLegacyIds?(query: PairQuery): ResultAsync<readonly LegacyIdUsage[], StoreError>;
  /**
   * The rows of the specializations table the store's foreign keys reference (read once per
   * scan). A scan uses it so that the plan flags a creation the database would refuse
   * (`SpecializationRowMissing`); a store without it gets no such prediction.
   */
  specializationRows?(): ResultAsync<SpecializationRows, StoreError>;
  /**
   * Null when `value` is a user id this store takes (as it is, or converted exactly: a decimal
   * string on an integer store), else the issue naming `field`. `applyPlan` checks every action
   * with it before the first write, so a plan with a user id of the wrong type is refused as a
   * whole (`ValidationError` naming `actions[i].userId`) instead of failing a batch.
   */
  checkUserId?(value: unknown, field: string): ValidationIssue | null;
  /** The number of pairs matching the query (both sides, orphans included). */
  countPairs(query: PairQuery): ResultAsync<number, StoreError>;
  /** One pair, or null when neither side has a record. `lock` asks to lock its rows until the caller's transaction ends. */
  readPair(key: PairKey, options?: { readonly aliases?: ReadonlyMap<string, string>; readonly lock?: boolean }): ResultAsync<SyncPair | null, StoreError>;
  /** Applies writes atomically with compare-and-set; returns one outcome per action, in order. */
  applyBatch(actions: readonly WriteAction[], context: ApplyContext): ResultAsync<readonly WriteOutcome[], StoreError>;
  /** Takes the lock that keeps two bulk runs over the same scope apart. */
  acquireRunLock(scope: RunScope, options?: { readonly wait?: boolean }): ResultAsync<RunLock, StoreError>;
}
