import { err, ok, ResultAsync, type Result } from 'neverthrow';
import type { UserId } from '../domain/records.js';
import { UserIdSchema } from '../domain/records.js';
import { parseSpecializationId } from '../domain/specialization-id.js';
import type { StoreError } from '../errors.js';
import { z } from 'zod';
import { NowOptionSchema, systemNow } from '../_internal/clock.js';
import { parseWith } from '../_internal/zod.js';
import type { MaxLevelResolver } from '../max-level/resolution.js';
import { isWriteAction, type SyncAction, type WriteAction } from './action.js';
import type { Desync } from './desync.js';
import { diffPair } from './diff.js';
import { safeLogger, type Logger } from '../logger.js';
import { planPair } from './plan.js';
import { policyFor, resolvePolicy, type SyncPolicyInput } from './policy.js';
import type { SyncStore, WriteOutcome } from './sync-store.js';

/** Options of {@link syncPair}. */
export interface SyncPairOptions {
  readonly resolver: MaxLevelResolver;
  /**
   * Default `higher-wins`. Service hooks usually name the side that just changed:
   * `progress-to-license` after a progress level-up, `license-to-progress` after an advancement.
   */
  readonly policy?: SyncPolicyInput;
  /** Recorded as `advancedBy` on a progression row (null: automatic). */
  readonly actor?: UserId | null;
  /** The wall clock written timestamps are read from (default `() => new Date()`). */
  readonly now?: () => Date;
  /**
   * Re-reads and re-plans when a concurrent writer made an action stale (default 3 attempts).
   * An integer ≥ 1; anything else is a `ValidationError` (it used to be raised to 1 silently).
   */
  readonly maxAttempts?: number;
  /** Silent by default; a logger that throws is ignored. */
  readonly logger?: Logger;
}

/** What {@link syncPair} found and did. */
export interface SyncPairReport {
  readonly userId: UserId;
  /** Canonical specialization id. */
  readonly specializationId: string;
  /** Desyncs found on the last attempt (before its writes). */
  readonly desyncs: readonly Desync[];
  /** Actions of the last attempt. */
  readonly actions: readonly SyncAction[];
  /** Outcome of each write action of the last attempt, in order. */
  readonly outcomes: readonly WriteOutcome[];
  readonly attempts: number;
  /** True when the pair needed nothing or every write was applied; false when something was flagged or stayed stale. */
  readonly inSync: boolean;
  /** True when neither record exists. */
  readonly notFound: boolean;
}

/**
 * Brings one (user, specialization) pair into sync: reads it (locking its rows when the store is
 * bound to a transaction), diffs it, plans with the policy, and writes with compare-and-set.
 * Meant for service hooks after a progress level-up or a license advancement: give it a store
 * bound to the caller's transaction so that the change and the sync commit together.
 * Invalid options (a `maxAttempts` below 1, an `actor` that is no user id, a `now` that is not a
 * function) and an invalid key are a `ValidationError`, before anything is read.
 *
 * ```ts
 * await client.query('BEGIN');
 * // … record the level-up …
 * const synced = await syncPair(createPgSyncStore(client), { userId: 42, specializationId: 'LFA_COACH' },
 *   { resolver, policy: { direction: 'progress-to-license' } });
 * if (synced.isErr()) throw new Error(synced.error.message); // rolls the level-up back too
 * await client.query('COMMIT');
 * ```
 */
export function syncPair(
  store: SyncStore,
  key: { readonly userId: UserId; readonly specializationId: string },
  options: SyncPairOptions,
): ResultAsync<SyncPairReport, StoreError> {
  return new ResultAsync(run(store, key, options));
}

const SyncPairOptionsSchema = z.object({
  actor: UserIdSchema.nullable().optional(),
  now: NowOptionSchema.optional(),
  maxAttempts: z.number().int().min(1).optional(),
});

async function run(
  store: SyncStore,
  key: { readonly userId: UserId; readonly specializationId: string },
  options: SyncPairOptions,
): Promise<Result<SyncPairReport, StoreError>> {
  const valid = parseWith(SyncPairOptionsSchema, options, 'syncPair options');
  if (valid.isErr()) return err(valid.error);
  const userId = parseWith(UserIdSchema, key.userId, 'user id', 'userId');
  if (userId.isErr()) return err(userId.error);
  const specId = parseSpecializationId(key.specializationId);
  if (specId.isErr()) return err(specId.error);
  const policy = resolvePolicy(options.policy ?? {});
  if (policy.isErr()) return err(policy.error);
  const logger = safeLogger(options.logger);
  const catalog = options.resolver.catalog;
  const canonical = catalog.canonicalId(specId.value);
  const rules = policyFor(policy.value, canonical);
  const resolved = await options.resolver.resolve(canonical);
  const maxLevel = resolved.isOk() ? resolved.value.maxLevel : undefined;
  const maxAttempts = options.maxAttempts ?? 3;
  // A store created with its catalog treats legacy ids itself; others get the resolver's aliases.
  const perCall = store.aliases === undefined ? { aliases: catalog.aliasMap } : {};

  let last: SyncPairReport | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const read = await store.readPair({ userId: userId.value, specializationId: canonical }, { ...perCall, lock: true });
    if (read.isErr()) return err(read.error);
    const pair = read.value;
    const base = { userId: userId.value, specializationId: canonical, attempts: attempt };
    if (pair === null) return ok({ ...base, desyncs: [], actions: [], outcomes: [], inSync: true, notFound: true });
    const desyncs = diffPair(pair, { maxLevelOf: (id) => (id === canonical ? maxLevel : undefined) });
    const actions = planPair(desyncs, rules);
    const writes = actions.filter(isWriteAction) as WriteAction[];
    if (writes.length === 0) {
      return ok({ ...base, desyncs, actions, outcomes: [], inSync: actions.length === 0, notFound: false });
    }
    const written = await store.applyBatch(writes, {
      actor: options.actor ?? null,
      now: (options.now ?? systemNow)(),
      ...perCall,
    });
    if (written.isErr()) return err(written.error);
    const outcomes = written.value;
    const allApplied = outcomes.every((o) => o === 'Applied');
    last = { ...base, desyncs, actions, outcomes, inSync: allApplied && writes.length === actions.length, notFound: false };
    if (allApplied) return ok(last);
    logger.debug({ userId: userId.value, specializationId: canonical, attempt }, 'pair changed concurrently; re-reading');
  }
  return ok(last!);
}
