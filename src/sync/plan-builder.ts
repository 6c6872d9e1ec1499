import { emptyCounts } from '../_internal/counts.js';
import { ACTION_KINDS, type SyncAction } from './action.js';
import { DESYNC_KINDS, type Desync } from './desync.js';
import { describeLegacyIdSummary, type LegacyIdSummary } from './legacy-ids.js';
import { comparePairKeys } from './pair-key.js';
import { planPair, type PlanSummary } from './plan.js';
import { policyFor, type SyncPolicy } from './policy.js';
import { specializationRowCheck, type SpecializationRowCheck, type SpecializationRows } from './specialization-rows.js';

/**
 * The incremental part of planning, shared by `createPlan` (a list) and `createPlanStream`
 * (pages): plans one pair's desyncs at a time and keeps only counts, so its memory does not
 * grow with the number of desyncs (only with the number of distinct legacy ids).
 */
export class PlanAccumulator {
  private readonly desyncCounts = emptyCounts(DESYNC_KINDS);
  private readonly actionCounts = emptyCounts(ACTION_KINDS);
  private readonly legacy = new Map<string, number>();
  private pairs = 0;
  private actionPairs = 0;
  private actions = 0;
  private desyncs = 0;
  private demotions = 0;

  private readonly rows: SpecializationRowCheck | undefined;

  /** `rows`: the store's specialization rows, when known: creations under an id without one are flagged. */
  constructor(
    private readonly policy: SyncPolicy,
    rows?: SpecializationRows,
  ) {
    this.rows = rows ? specializationRowCheck(rows) : undefined;
  }

  /** Plans the desyncs of one pair (all with the same key) and counts them. */
  pair(group: readonly Desync[]): SyncAction[] {
    const first = group[0];
    if (first === undefined) return [];
    this.pairs++;
    const labels = new Set<string>();
    for (const desync of group) {
      this.desyncCounts[desync.kind]++;
      this.desyncs++;
      if (desync.kind === 'LegacySpecializationId') labels.add(`${desync.storedAs} → ${desync.specializationId}`);
    }
    // Pairs, not records, per legacy id (listed per pair with `listLegacy`).
    for (const label of labels) this.legacy.set(label, (this.legacy.get(label) ?? 0) + 1);
    const planned = planPair(group, policyFor(this.policy, first.specializationId), this.rows);
    if (planned.length > 0) this.actionPairs++;
    for (const action of planned) {
      this.actionCounts[action.kind]++;
      this.actions++;
      if (isDemotion(action)) this.demotions++;
    }
    return planned;
  }

  summary(): PlanSummary {
    return {
      actions: { ...this.actionCounts, total: this.actions },
      desyncs: { ...this.desyncCounts, total: this.desyncs },
      pairs: this.pairs,
    };
  }

  /** Pairs that got at least one action. */
  get pairsWithActions(): number {
    return this.actionPairs;
  }

  /**
   * The planner's own warnings, after every pair was planned: one per stored legacy id (from the
   * scan's summary when given, else counted from listed per-pair notes), and demotions.
   */
  warnings(legacyIds?: readonly LegacyIdSummary[]): string[] {
    const warnings: string[] = [];
    for (const entry of legacyIds ?? []) {
      warnings.push(`Legacy id ${describeLegacyIdSummary(entry)}; migrate them when convenient (no repair needs it)`);
    }
    for (const [label, count] of this.legacy) {
      if (legacyIds === undefined) warnings.push(`${count} pair(s) have records stored under the legacy id ${label}; migrate them when convenient (no repair needs it)`);
    }
    if (this.demotions > 0) warnings.push(`${this.demotions} action(s) lower a level: review them before applying`);
    return warnings;
  }
}

/**
 * Splits key-ordered desyncs into pairs across page boundaries: `push` returns the groups
 * completed by a page, `end` the last one. A desync out of key order is reported, not sorted.
 */
export class PairGrouper {
  private group: Desync[] = [];

  /** The completed groups of this page, or the desync found out of order. */
  push(desyncs: readonly Desync[]): { readonly groups: Desync[][]; readonly outOfOrder?: Desync } {
    const groups: Desync[][] = [];
    for (const desync of desyncs) {
      const head = this.group[0];
      if (head !== undefined) {
        const order = comparePairKeys(head, desync);
        if (order > 0) return { groups, outOfOrder: desync };
        if (order < 0) {
          groups.push(this.group);
          this.group = [];
        }
      }
      this.group.push(desync);
    }
    return { groups };
  }

  end(): Desync[] | undefined {
    const last = this.group;
    this.group = [];
    return last.length > 0 ? last : undefined;
  }
}

export function isDemotion(action: SyncAction): boolean {
  if (action.kind === 'SetLicenseLevel') {
    const old = action.expected.license?.level;
    return typeof old === 'number' && action.write.level < old;
  }
  if (action.kind === 'SetProgressLevel') {
    const old = action.expected.progress?.level;
    return typeof old === 'number' && action.write.level < old;
  }
  return false;
}
