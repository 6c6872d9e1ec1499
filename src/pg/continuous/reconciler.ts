// The reconciler of continuous mode: claim changed keys, lock their pairs without waiting, diff,
// plan and apply in one transaction per batch; plus the polling loop and the periodic resync.
// About 350 lines: one closure holds the state the batch, the loop and the resync share (the
// bound store, the known ids, the stop flag); its public shapes are in reconciler-types.ts.
import { err, ok, ResultAsync, type Result } from 'neverthrow';
import type { UserId } from '../../domain/records.js';
import { describeCause, type StoreError } from '../../errors.js';
import { pgStoreUnavailable } from '../transient-errors.js';
import type { MaxLevelTable } from '../../max-level/resolution.js';
import { isWriteAction, type WriteAction } from '../../sync/action.js';
import { applyPlan } from '../../sync/apply.js';
import { diffPair } from '../../sync/diff.js';
import { safeLogger } from '../../logger.js';
import { pairKeyId, type PairKey } from '../../sync/pair-key.js';
import { planPair } from '../../sync/plan.js';
import { createPlanStream } from '../../sync/plan-stream.js';
import { policyFor, resolvePolicy, type SyncPolicy } from '../../sync/policy.js';
import { openDesyncScan } from '../../sync/scan.js';
import { quoteIdentifier as q } from '../identifier.js';
import { LEVELSYNC_MAPPING, requireMapping, type PgMapping } from '../pg-mapping.js';
import { createPgSyncStore, type PgSyncStore } from '../pg-sync-store.js';
import { pgClient, toPgConnection, type PgConnection, type PgConnectionInput, type SqlRunner } from '../sql-client.js';
import { CAPTURE_SETTING, CHANGE_TABLE } from './capture-ddl.js';
import { lockPairsOf, readPairsOf } from './pending-pairs.js';
import { rowReader, textValue, userIdValue } from '../row-values.js';
import { readLag } from './pending-check.js';
import type { BatchOutcome, Reconciler, ReconcilerEvent, ReconcilerOptions } from './reconciler-types.js';

export type { BatchOutcome, Reconciler, ReconcilerEvent, ReconcilerOptions } from './reconciler-types.js';


const DEFAULTS = { lockTimeoutMs: 500, batchSize: 500, minPollMs: 20, maxPollMs: 250, resyncIntervalMs: 6 * 60 * 60 * 1000, lagIntervalMs: 10_000 } as const;

/**
 * A continuous reconciler over change capture (see `installCapture` and migration 3): it polls
 * the change table, claims a batch of changed keys (`FOR UPDATE SKIP LOCKED`, so any number of
 * reconcilers can run side by side), reads just those pairs, diffs, plans with the policy,
 * writes with compare-and-set and deletes the claimed keys, all in ONE transaction: a crash
 * returns the keys, nothing is applied twice. Its own writes are not captured
 * (`SET LOCAL levelsync.capture = 'off'`). A periodic full resync under the run lock is the
 * safety net. Needs a pool (or PGlite): each batch runs on a checked-out session.
 *
 * ```ts
 * const reconciler = createReconciler(pool, { resolver, onEvent: (e) => logger.info(e) });
 * reconciler.start();
 * process.once('SIGTERM', () => void reconciler.stop());
 * ```
 */
export function createReconciler(client: PgConnectionInput, options: ReconcilerOptions): Reconciler {
  const connection: PgConnection = toPgConnection(client);
  if (!connection.ownTransactions) throw new TypeError('levelsync/pg: createReconciler needs a pool or PGlite (it runs its own transactions)');
  const mapping = requireMapping(options.mapping ?? LEVELSYNC_MAPPING);
  const policyResult = resolvePolicy(options.policy ?? {});
  if (policyResult.isErr()) throw new TypeError(policyResult.error.message, { cause: policyResult.error });
  const policy: SyncPolicy = policyResult.value;
  const batchSize = positive(options.batchSize, DEFAULTS.batchSize, 'batchSize');
  const lockTimeoutMs = positive(options.lockTimeoutMs, DEFAULTS.lockTimeoutMs, 'lockTimeoutMs');
  const minPoll = positive(options.minPollMs, DEFAULTS.minPollMs, 'minPollMs');
  const maxPoll = Math.max(minPoll, positive(options.maxPollMs, DEFAULTS.maxPollMs, 'maxPollMs'));
  const resyncEvery = options.resyncIntervalMs ?? DEFAULTS.resyncIntervalMs;
  const lagEvery = options.lagIntervalMs ?? DEFAULTS.lagIntervalMs;
  const logger = safeLogger(options.logger);
  const emit = (event: ReconcilerEvent) => {
    try {
      options.onEvent?.(event);
    } catch (cause) {
      logger.warn({ event: event.type }, `reconciler onEvent threw: ${describeCause(cause)}`);
    }
  };
  const clock = options.now ?? (() => new Date());
  const resolver = options.resolver;
  const catalog = resolver.catalog;
  const changes = `${q(mapping.schema)}.${q(CHANGE_TABLE)}`;
  const readClaimed = rowReader({ user_id: userIdValue(mapping.userIdType), specialization_id: textValue }, 'change row', {});
  const claimSql = `DELETE FROM ${changes} WHERE id = ANY (ARRAY(SELECT id FROM ${changes} ORDER BY id LIMIT $1::int4 FOR UPDATE SKIP LOCKED))
    RETURNING user_id, specialization_id, changed_at::text AS changed_at, extract(epoch FROM clock_timestamp() - changed_at) * 1000 AS age_ms`;
  const requeueSql = `INSERT INTO ${changes} (user_id, specialization_id, changed_at)
    SELECT * FROM unnest($1::${userType(mapping)}[], $2::text[], $3::timestamptz[])`;

  // One store for the reconciler's life (table facts read once), bound to whichever transaction runs.
  let current: SqlRunner | undefined;
  const bound = pgClient({
    query: async (text: string, values?: unknown[]) => {
      if (!current) throw new Error('levelsync reconciler: no transaction is open');
      return current(text, values);
    },
  });
  const txStore: PgSyncStore = createPgSyncStore(bound, { mapping, logger, catalog: resolver.catalog });
  const poolStore: PgSyncStore = createPgSyncStore(connection, { mapping, logger, catalog: resolver.catalog });

  /**
   * Maximum levels, resolved before the batch's transaction opens (the resolver's cache makes
   * this cheap): on PGlite, a repository query inside the transaction would wait for it forever.
   * An id the bulk resolution does not know is resolved on its own, on a pool only.
   */
  const knownIds = new Set<string>(catalog.specializations.map((spec) => spec.id));
  async function maxLevelsOf(table: MaxLevelTable, ids: Iterable<string>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const id of new Set(ids)) {
      knownIds.add(id);
      const known = table.maxLevelOf(id);
      if (known !== undefined) {
        out.set(id, known);
        continue;
      }
      if (!connection.concurrentSessions) continue;
      const resolved = await resolver.resolve(id);
      if (resolved.isOk()) out.set(id, resolved.value.maxLevel);
    }
    return out;
  }

  async function batchOnce(): Promise<Result<BatchOutcome, StoreError>> {
    const started = Date.now();
    // Listed ids go through the resolver's cache (a bare resolveAll() would query every time).
    const table = await resolver.resolveAll([...knownIds]);
    try {
      return await connection.transaction(async (run) => {
        current = run;
        try {
          await run(`SELECT set_config('${CAPTURE_SETTING}', 'off', true), set_config('lock_timeout', $1::text, true)`, [`${lockTimeoutMs}ms`]);
          const claimed = await run(claimSql, [batchSize]);
          const empty: BatchOutcome = { type: 'batch', changes: 0, pairs: 0, applied: 0, licenseChanges: 0, stale: 0, deferred: 0, flagged: 0, repaired: [], oldestChangeMs: 0, durationMs: 0 };
          if (claimed.rows.length === 0) return ok(empty);
          emit({ type: 'claimed', changes: claimed.rows.length });
          let oldest = 0;
          const keys = new Map<string, PairKey>();
          const claimedRows: { readonly key: string; readonly userId: UserId; readonly stored: string; readonly changedAt: string }[] = [];
          for (const row of claimed.rows) {
            const read = readClaimed(row);
            if (read.isErr()) throw read.error;
            const userId = read.value.user_id as UserId;
            const stored = read.value.specialization_id;
            const canonical = catalog.canonicalId(stored);
            const key = pairKeyId({ userId: userId, specializationId: canonical });
            keys.set(key, { userId, specializationId: canonical });
            claimedRows.push({ key, userId, stored, changedAt: String(row['changed_at']) });
            oldest = Math.max(oldest, Number(row['age_ms']));
          }
          // Lock the pairs' rows without waiting; pairs another transaction holds are deferred.
          const busy = await lockPairsOf(run, mapping, [...keys.values()], catalog.aliasMap);
          if (busy.isErr()) throw busy.error;
          const busyKeys = new Set(busy.value.map((k) => pairKeyId(k)));
          if (busyKeys.size > 0) {
            for (const key of busyKeys) keys.delete(key);
            const requeued = claimedRows.filter((row) => busyKeys.has(row.key));
            await run(requeueSql, [requeued.map((row) => row.userId), requeued.map((row) => row.stored), requeued.map((row) => row.changedAt)]);
          }
          const pairs = await readPairsOf(run, mapping, [...keys.values()], catalog.aliasMap);
          if (pairs.isErr()) throw pairs.error;
          const maxLevels = await maxLevelsOf(table, pairs.value.map((p) => p.specializationId));
          const writes: WriteAction[] = [];
          let flagged = 0;
          for (const pair of pairs.value) {
            const desyncs = diffPair(pair, { maxLevelOf: (id) => maxLevels.get(id) });
            if (desyncs.length === 0) continue;
            const actions = planPair(desyncs, policyFor(policy, pair.specializationId));
            let flag = false;
            for (const action of actions) {
              if (isWriteAction(action)) writes.push(action);
              else flag = true;
            }
            if (flag) flagged++;
          }
          const repaired: PairKey[] = [];
          let stale = 0;
          let alreadyApplied = 0;
          let licenseChanges = 0;
          if (writes.length > 0) {
            const outcomes = await txStore.applyBatch(writes, { actor: options.actor ?? null, now: clock() });
            if (outcomes.isErr()) throw outcomes.error;
            const staleKeys = new Map<string, PairKey>();
            const seen = new Set<string>();
            outcomes.value.forEach((outcome, i) => {
              const w = writes[i]!;
              const id = pairKeyId(w);
              if (outcome === 'Stale') {
                stale++;
                staleKeys.set(id, { userId: w.userId, specializationId: w.specializationId });
              } else {
                // AlreadyApplied: the records already hold the planned values; nothing was written.
                if (outcome === 'AlreadyApplied') alreadyApplied++;
                else if (w.kind === 'CreateLicense' || w.kind === 'SetLicenseLevel') licenseChanges++;
                if (seen.has(id)) return;
                seen.add(id);
                repaired.push({ userId: w.userId, specializationId: w.specializationId });
              }
            });
            if (staleKeys.size > 0) {
              // Someone changed the pair after it was read: look at it again in a later batch.
              const list = [...staleKeys.values()];
              await run(`INSERT INTO ${changes} (user_id, specialization_id) SELECT * FROM unnest($1::${userType(mapping)}[], $2::text[])`, [
                list.map((k) => k.userId),
                list.map((k) => k.specializationId),
              ]);
            }
          }
          const applied = writes.length - stale - alreadyApplied;
          return ok({ type: 'batch', changes: claimed.rows.length, pairs: pairs.value.length, applied, licenseChanges, stale, deferred: busyKeys.size, flagged, repaired, oldestChangeMs: Math.round(oldest), durationMs: 0 } as BatchOutcome);
        } finally {
          current = undefined;
        }
      }).then((result) => result.map((b) => ({ ...b, durationMs: Date.now() - started, oldestChangeMs: b.changes > 0 ? b.oldestChangeMs + (Date.now() - started) : 0 })));
    } catch (cause) {
      if (isTagged(cause)) return err(cause);
      return err(pgStoreUnavailable(poolStore.name, cause, 'could not reconcile a batch'));
    }
  }

  async function resyncOnce(): Promise<Result<{ desyncs: number; applied: number }, StoreError>> {
    const started = Date.now();
    const lock = await poolStore.acquireRunLock({});
    if (lock.isErr()) return err(lock.error);
    try {
      emit({ type: 'resync-started' });
      // Streamed (scan → plan → apply page by page): a resync on a mass-drift day holds a batch
      // and a store page, never the whole drift. Under the run lock taken above, which applyPlan
      // confirms before every batch.
      const scan = await openDesyncScan(poolStore, { resolver, logger });
      if (scan.isErr()) return err(scan.error);
      const plan = createPlanStream(scan.value, { policy });
      if (plan.isErr()) return err(plan.error);
      const report = await applyPlan(plan.value, poolStore, { runLock: lock.value, actor: options.actor ?? null, now: clock, logger });
      if (report.isErr()) return err(report.error);
      const stoppedBy = report.value.error;
      if (stoppedBy !== undefined) {
        // A scan's pages fail with store errors only; a plan file's own errors cannot occur here.
        return err(stoppedBy._tag === 'StoreUnavailable' || stoppedBy._tag === 'RunInProgress' || stoppedBy._tag === 'ValidationError' ? stoppedBy : pgStoreUnavailable(poolStore.name, stoppedBy, 'a resync stopped midway'));
      }
      if (report.value.status === 'LockLost') {
        return err(pgStoreUnavailable(poolStore.name, new Error('its database session ended'), 'lost the run lock during a resync (batches before stay committed)'));
      }
      const desyncs = plan.value.trailer()?.summary.desyncs.total ?? 0;
      const applied = report.value.counts.Applied;
      emit({ type: 'resync-finished', desyncs, applied, durationMs: Date.now() - started });
      return ok({ desyncs, applied });
    } finally {
      await lock.value.release();
    }
  }

  let running = false;
  let stopRequested = false;
  let wake: (() => void) | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function loop(): Promise<void> {
    emit({ type: 'started' });
    logger.info({ schema: mapping.schema, batchSize }, 'reconciler started');
    let idle = minPoll;
    let failingSince: number | undefined;
    let backoff = 100;
    let nextResync = resyncEvery > 0 ? Date.now() + resyncEvery : Infinity;
    let nextLag = lagEvery > 0 ? Date.now() : Infinity;
    while (!stopRequested) {
      const result = await batchOnce();
      if (result.isErr()) {
        failingSince ??= Date.now();
        emit({ type: 'error', error: result.error, retryInMs: backoff });
        logger.warn({ retryInMs: backoff }, `reconciler batch failed (its keys stay queued): ${result.error.message}`);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
        continue;
      }
      if (failingSince !== undefined) {
        emit({ type: 'recovered', afterMs: Date.now() - failingSince });
        logger.info({ afterMs: Date.now() - failingSince }, 'reconciler recovered');
        failingSince = undefined;
        backoff = 100;
      }
      const batch = result.value;
      if (batch.changes > 0) {
        emit(batch);
        logger.debug({ changes: batch.changes, pairs: batch.pairs, applied: batch.applied, stale: batch.stale, deferred: batch.deferred, flagged: batch.flagged, ms: batch.durationMs }, 'reconciled a batch');
      }
      if (Date.now() >= nextLag) {
        nextLag = Date.now() + lagEvery;
        const lag = await readLag(connection.run, mapping);
        if (lag.isOk()) emit({ type: 'lag', lag: lag.value });
      }
      if (Date.now() >= nextResync) {
        nextResync = Date.now() + resyncEvery;
        const resynced = await resyncOnce();
        if (resynced.isErr()) {
          const reason = resynced.error._tag === 'RunInProgress' ? 'another run holds the run lock' : resynced.error.message;
          emit({ type: 'resync-skipped', reason });
          logger.info({}, `full resync skipped: ${reason}`);
        }
      }
      // A full batch means more is waiting, unless all of it was deferred (held by others): then
      // poll again after the shortest interval instead of spinning on the same keys.
      if (batch.changes >= batchSize && (batch.deferred === 0 || batch.pairs > 0)) {
        idle = minPoll;
        continue;
      }
      if (batch.changes > 0) idle = minPoll;
      await sleep(idle);
      if (batch.changes === 0) idle = Math.min(idle * 2, maxPoll);
    }
    emit({ type: 'stopped' });
    logger.info({}, 'reconciler stopped');
  }

  const reconciler: Reconciler = {
    stopped,
    start() {
      if (running) return;
      running = true;
      loop()
        .catch((cause) => logger.error({}, `reconciler loop failed: ${describeCause(cause)}`))
        .finally(() => {
          running = false;
          resolveStopped();
        });
    },
    async stop() {
      stopRequested = true;
      wake?.();
      if (running) await stopped;
    },
    processBatch: () => new ResultAsync(batchOnce()),
    drain: () =>
      new ResultAsync(
        (async () => {
          let batches = 0;
          let total = 0;
          let applied = 0;
          let licenseChanges = 0;
          for (;;) {
            const r = await batchOnce();
            if (r.isErr()) return err(r.error);
            if (r.value.changes === 0) return ok({ batches, changes: total, applied, licenseChanges });
            batches++;
            total += r.value.changes;
            applied += r.value.applied;
            licenseChanges += r.value.licenseChanges;
          }
        })(),
      ),
    resync: () => new ResultAsync(resyncOnce()),
    lag: () => new ResultAsync(readLag(connection.run, mapping)),
  };
  return reconciler;
}

function userType(mapping: PgMapping): string {
  return mapping.userIdType === 'integer' ? 'int4' : mapping.userIdType === 'bigint' ? 'int8' : mapping.userIdType;
}

function isTagged(value: unknown): value is StoreError {
  return typeof value === 'object' && value !== null && typeof (value as { _tag?: unknown })._tag === 'string';
}

function positive(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`levelsync/pg: ${field} must be a positive integer (got ${String(value)})`);
  return value;
}
