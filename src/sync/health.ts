import { err, ok, ResultAsync } from 'neverthrow';
import { emptyCounts } from '../_internal/counts.js';
import type { StoreError } from '../errors.js';
import { systemNow } from '../_internal/clock.js';
import { DESYNC_KINDS, isInformational, type Desync, type DesyncKind } from './desync.js';
import type { LegacyIdSummary } from './legacy-ids.js';
import { pairKeyId } from './pair-key.js';
import { openDesyncScan, scanDesyncs, type ScanOptions } from './scan.js';
import type { SyncStore } from './sync-store.js';

/** `healthy` at ≥ 99 % consistent pairs, `degraded` at ≥ 95 %, else `critical`. */
export type HealthStatus = 'healthy' | 'degraded' | 'critical';

/** How consistent progress and licenses are. */
export interface HealthReport {
  readonly checkedAt: string;
  /** Pairs in scope, counting orphans on both sides. */
  readonly totalPairs: number;
  readonly consistentPairs: number;
  readonly inconsistentPairs: number;
  /** Percentage of consistent pairs, two decimals; 100 when there are no pairs. */
  readonly consistencyRate: number;
  readonly status: HealthStatus;
  /** Progress records without a license, and licenses without a progress record. */
  readonly orphans: { readonly progressOnly: number; readonly licenseOnly: number };
  /** Desyncs by kind (legacy ids included, though they do not make a pair inconsistent). */
  readonly byKind: Readonly<Record<DesyncKind, number>>;
  readonly requiresAttention: boolean;
}

/** A health report with what the scan found: the desyncs and the legacy-id summary. */
export interface HealthCheck extends HealthReport {
  readonly desyncs: readonly Desync[];
  /** One entry per stored legacy id in scope (see `DesyncScan.legacyIds`). */
  readonly legacyIds: readonly LegacyIdSummary[];
}

/** The thresholds of {@link HealthStatus}, in percent. */
export const HEALTH_THRESHOLDS = Object.freeze({ healthy: 99, degraded: 95 });

/**
 * Computes a health report from the number of pairs and the desyncs found among them. Pure.
 * A pair is inconsistent when it has any desync other than a legacy id; orphans on both sides
 * count (the original system missed license-only orphans). A pure value function, so it returns
 * no `Result`: a `now` that is not a function throws a `TypeError`.
 */
export function healthReport(input: {
  readonly totalPairs: number;
  readonly desyncs: readonly Desync[];
  /** The wall clock `checkedAt` is read from (default `() => new Date()`). (Replaces `now?: Date`.) */
  readonly now?: () => Date;
}): HealthReport {
  if (input.now !== undefined && typeof input.now !== 'function') throw new TypeError('healthReport: now must be a function returning a Date');
  const tally = createHealthTally();
  tally.add(input.desyncs);
  return tally.report(input.totalPairs, input.now ?? systemNow);
}

/**
 * Counts desyncs into a health report a group at a time: by kind, and the inconsistent pairs.
 * A pair's desyncs must arrive in one group (the pages of a scan never split a pair), so the
 * tally keeps no more than one group's pair keys, whatever the drift.
 */
function createHealthTally() {
  const byKind = emptyCounts(DESYNC_KINDS);
  let inconsistentPairs = 0;
  return {
    add(desyncs: readonly Desync[]): void {
      const inconsistent = new Set<string>();
      for (const desync of desyncs) {
        byKind[desync.kind]++;
        if (!isInformational(desync)) inconsistent.add(pairKeyId(desync));
      }
      inconsistentPairs += inconsistent.size;
    },
    report(totalPairs: number, now: () => Date): HealthReport {
      const total = Math.max(totalPairs, inconsistentPairs);
      const consistent = total - inconsistentPairs;
      const rate = total === 0 ? 100 : Math.round((consistent / total) * 10_000) / 100;
      const status: HealthStatus = rate >= HEALTH_THRESHOLDS.healthy ? 'healthy' : rate >= HEALTH_THRESHOLDS.degraded ? 'degraded' : 'critical';
      return {
        checkedAt: now().toISOString(),
        totalPairs: total,
        consistentPairs: consistent,
        inconsistentPairs,
        consistencyRate: rate,
        status,
        orphans: { progressOnly: byKind.MissingLicense, licenseOnly: byKind.MissingProgress },
        byKind: { ...byKind },
        requiresAttention: status !== 'healthy',
      };
    },
  };
}

/** Scans a store and reports its health (one count and one diff scan). */
export function checkHealth(store: SyncStore, options: ScanOptions): ResultAsync<HealthCheck, StoreError> {
  return scanDesyncs(store, options).andThen((scan) =>
    store
      .countPairs({
        ...scan.scope,
        ...(store.aliases === undefined ? { aliases: scan.aliases } : {}),
      })
      .andThen((totalPairs) => ok({ ...healthReport({ totalPairs, desyncs: scan.desyncs }), desyncs: scan.desyncs, legacyIds: scan.legacyIds }))
      .orElse((error) => err(error)),
  );
}

/** A health report and the legacy-id summary, without the desyncs themselves. */
export type HealthSummary = HealthReport & { readonly legacyIds: readonly LegacyIdSummary[] };

/**
 * {@link checkHealth} without keeping the desyncs: the scan is read page by page and counted, so
 * memory is bounded by a page whatever the drift (what `levelsync health` uses). Internal.
 */
export function checkHealthStreaming(store: SyncStore, options: ScanOptions): ResultAsync<HealthSummary, StoreError> {
  return openDesyncScan(store, options).andThen((scan) =>
    ResultAsync.fromSafePromise(
      (async () => {
        const tally = createHealthTally();
        for await (const page of scan.pages) {
          if (page.isErr()) return err(page.error);
          tally.add(page.value);
        }
        return ok(tally);
      })(),
    )
      .andThen((tally) => tally)
      .andThen((tally) =>
        store
          .countPairs({ ...scan.scope, ...(store.aliases === undefined ? { aliases: scan.aliases } : {}) })
          .map((totalPairs): HealthSummary => ({ ...tally.report(totalPairs, systemNow), legacyIds: scan.summary().legacyIds })),
      ),
  );
}
