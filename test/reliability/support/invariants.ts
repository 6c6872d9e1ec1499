import type pg from 'pg';
import type { ActionStatus, SyncAction, UserId, WriteOutcome } from 'levelsync';
import { countBy, multisetMinus } from './reliability.js';
import { canonicalOf, rowKey, type LicenseRow, type ProgressRow, type Snapshot, type World } from './world.js';

/**
 * One committed change of one stored row's level, as its author observed it: a writer (from its
 * own log, taken with the row locked) or levelsync (an `Applied` action: from its expected state
 * to its write). `from` is null for a creation.
 */
export interface LevelChange {
  readonly side: 'progress' | 'license';
  readonly userId: UserId;
  /** The stored specialization id of the row (an alias where the row is stored under one). */
  readonly specializationId: string;
  readonly from: number | null;
  readonly to: number;
  /** `writer:<n>`, `bulk`, `hook`, … */
  readonly source: string;
}

/** The level changes made by the applied write actions among `actions`. */
export function changesOfActions(actions: readonly SyncAction[], applied: (index: number) => boolean, source: string): LevelChange[] {
  const out: LevelChange[] = [];
  actions.forEach((action, index) => {
    if (action.kind === 'FlagForReview' || !applied(index)) return;
    const base = { userId: action.userId, source };
    switch (action.kind) {
      case 'SetProgressLevel':
        out.push({ ...base, side: 'progress', specializationId: action.expected.progress!.specializationId, from: action.expected.progress!.level, to: action.write.level });
        break;
      case 'CreateProgress':
        out.push({ ...base, side: 'progress', specializationId: action.write.specializationId, from: null, to: action.write.level });
        break;
      case 'SetLicenseLevel':
        if (action.expected.license!.level !== action.write.level) {
          out.push({ ...base, side: 'license', specializationId: action.expected.license!.specializationId, from: action.expected.license!.level, to: action.write.level });
        }
        break;
      case 'CreateLicense':
        out.push({ ...base, side: 'license', specializationId: action.write.specializationId, from: null, to: action.write.level });
        break;
    }
  });
  return out;
}

/** The changes of an `applyPlan` report: the actions whose outcome is `Applied`. */
export function changesOfReport(actions: readonly SyncAction[], statuses: readonly ActionStatus[], source: string): LevelChange[] {
  return changesOfActions(actions, (i) => statuses[i] === 'Applied', source);
}

/** The changes of a `syncPair` report (its last attempt: outcomes are per write action, in order). */
export function changesOfSyncPair(actions: readonly SyncAction[], outcomes: readonly WriteOutcome[], source: string): LevelChange[] {
  const writes = actions.filter((a) => a.kind !== 'FlagForReview');
  return changesOfActions(writes, (i) => outcomes[i] === 'Applied', source);
}

const ABSENT = 'absent';
const value = (level: number | null | undefined) => (level === undefined ? ABSENT : level === null ? 'NULL' : String(level));

/**
 * True when the directed multigraph `edges` (from → to) has a trail from `start` to `end` that
 * uses every edge exactly once (an Eulerian trail), i.e. the changes can be put in an order in
 * which each one starts from the value the previous one left. With no edges: start = end.
 */
export function hasTrail(start: string, end: string, edges: readonly (readonly [string, string])[]): boolean {
  if (edges.length === 0) return start === end;
  const balance = new Map<string, number>();
  const out = new Map<string, string[]>();
  for (const [a, b] of edges) {
    balance.set(a, (balance.get(a) ?? 0) + 1);
    balance.set(b, (balance.get(b) ?? 0) - 1);
    out.set(a, [...(out.get(a) ?? []), b]);
  }
  for (const [node, n] of balance) {
    const want = start === end ? 0 : node === start ? 1 : node === end ? -1 : 0;
    if (n !== want) return false;
  }
  if (start !== end && ((balance.get(start) ?? 0) !== 1 || (balance.get(end) ?? 0) !== -1)) return false;
  // Every edge reachable from start.
  const seen = new Set([start]);
  const stack = [start];
  while (stack.length > 0) {
    for (const next of out.get(stack.pop()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return edges.every(([a]) => seen.has(a));
}

/**
 * No lost update, per stored row: the committed changes logged for a row (writers' and
 * levelsync's) must chain from the row's level before the run to its level after it: there is an
 * order in which every change starts from the level the previous one left (see {@link hasTrail}).
 * Then every writer change either survived (it is the last of the chain: the row still holds its
 * value) or was superseded by a later change that started from the value it wrote, i.e. was
 * computed from a state that included it. A blind overwrite (a write computed from a state
 * older than the row's) breaks the chain; so does a logged change that never reached the row, or
 * a change nobody logged. Rows with two rows under one stored id are skipped (counted).
 */
export function lostUpdates(
  side: 'progress' | 'license',
  before: readonly (ProgressRow | LicenseRow)[],
  after: readonly (ProgressRow | LicenseRow)[],
  changes: readonly LevelChange[],
): { readonly problems: string[]; readonly rowsChecked: number; readonly skipped: number; readonly changes: number } {
  const initial = new Map<string, (ProgressRow | LicenseRow)[]>();
  for (const row of before) initial.set(rowKey(row), [...(initial.get(rowKey(row)) ?? []), row]);
  const final = new Map<string, (ProgressRow | LicenseRow)[]>();
  for (const row of after) final.set(rowKey(row), [...(final.get(rowKey(row)) ?? []), row]);
  const edges = new Map<string, [string, string][]>();
  let counted = 0;
  for (const change of changes) {
    if (change.side !== side || change.from === change.to) continue;
    counted++;
    const key = rowKey(change);
    edges.set(key, [...(edges.get(key) ?? []), [change.from === null ? ABSENT : String(change.from), String(change.to)]]);
  }
  const problems: string[] = [];
  let rowsChecked = 0;
  let skipped = 0;
  for (const key of new Set([...initial.keys(), ...final.keys(), ...edges.keys()])) {
    const a = initial.get(key) ?? [];
    const b = final.get(key) ?? [];
    if (a.length > 1 || b.length > 1) {
      skipped++;
      continue;
    }
    rowsChecked++;
    const start = value(a[0]?.level);
    const end = value(b[0]?.level);
    const e = edges.get(key) ?? [];
    if (!hasTrail(start, end, e)) {
      problems.push(`${side} ${key}: ${start} → ${end} cannot be explained by the logged changes [${e.map(([x, y]) => `${x}→${y}`).join(', ')}]`);
    }
  }
  return { problems, rowsChecked, skipped, changes: counted };
}

/**
 * History replay, per license: the progression rows written during the run (id above
 * `historyIdBefore`), in id order, must form a contiguous chain from the license's level before
 * the run (a creation row when it did not exist) to its level after it; and, as a multiset, they
 * must equal the license level changes observed by their authors (writers and levelsync) —
 * exactly one row per change, none missing, none doubled.
 */
export function historyProblems(
  before: Snapshot,
  after: Snapshot,
  changes: readonly LevelChange[],
): { readonly problems: string[]; readonly rows: number; readonly licenses: number } {
  const historyIdBefore = before.history.reduce((m, h) => Math.max(m, h.id), 0);
  const fresh = after.history.filter((h) => h.id > historyIdBefore);
  const problems: string[] = [];
  const byLicense = new Map<number, typeof fresh>();
  for (const row of fresh) byLicense.set(row.licenseId, [...(byLicense.get(row.licenseId) ?? []), row]);
  let licenses = 0;
  for (const license of after.licenses) {
    const rows = byLicense.get(license.id) ?? [];
    const old = before.licenseById.get(license.id);
    let current = old ? value(old.level) : ABSENT;
    licenses++;
    for (const row of rows) {
      const from = row.fromLevel === null ? ABSENT : String(row.fromLevel);
      if (from !== current) {
        problems.push(`license ${license.id} (${rowKey(license)}): history row ${row.id} goes ${from}→${row.toLevel} but the license was at ${current}`);
      }
      current = String(row.toLevel);
    }
    if (current !== value(license.level)) {
      problems.push(`license ${license.id} (${rowKey(license)}): history ends at ${current}, the license is at ${value(license.level)}`);
    }
  }
  for (const licenseId of byLicense.keys()) {
    if (!after.licenseById.has(licenseId)) problems.push(`history rows for license ${licenseId}, which does not exist`);
  }
  const written = fresh.map((h) => {
    const license = after.licenseById.get(h.licenseId);
    return `${license ? rowKey(license) : `?${h.licenseId}`}:${h.fromLevel ?? ABSENT}->${h.toLevel}`;
  });
  const observed = changes.filter((c) => c.side === 'license' && c.from !== c.to).map((c) => `${rowKey(c)}:${c.from ?? ABSENT}->${c.to}`);
  const extra = multisetMinus(written, observed);
  const missing = multisetMinus(observed, written);
  if (extra.length > 0) problems.push(`${extra.length} history row(s) without an observed change: ${extra.slice(0, 10).join(', ')}`);
  if (missing.length > 0) problems.push(`${missing.length} observed license change(s) without a history row: ${missing.slice(0, 10).join(', ')}`);
  return { problems, rows: fresh.length, licenses };
}

/**
 * `maxAchievedLevel`: never lower after the run than before it, and at least the level wherever
 * both are numbers — except on licenses seeded with max achieved below level that nobody touched
 * (they are flagged for review, not repaired by guesswork).
 */
export function maxAchievedProblems(before: Snapshot, after: Snapshot): string[] {
  const problems: string[] = [];
  for (const license of after.licenses) {
    const old = before.licenseById.get(license.id);
    if (old && typeof old.maxAchievedLevel === 'number') {
      if (license.maxAchievedLevel === null || license.maxAchievedLevel < old.maxAchievedLevel) {
        problems.push(`license ${license.id} (${rowKey(license)}): max achieved ${old.maxAchievedLevel} → ${String(license.maxAchievedLevel)}`);
      }
    }
    if (typeof license.level === 'number' && typeof license.maxAchievedLevel === 'number' && license.maxAchievedLevel < license.level) {
      const untouchedSeed = old !== undefined && old.level === license.level && old.maxAchievedLevel === license.maxAchievedLevel;
      if (!untouchedSeed) problems.push(`license ${license.id} (${rowKey(license)}): max achieved ${license.maxAchievedLevel} < level ${license.level}`);
    }
  }
  return problems;
}

/** No pair gained a second row on either side: rows per (user, canonical id) after ≤ max(1, before). */
export function newDuplicates(before: Snapshot, after: Snapshot): string[] {
  const problems: string[] = [];
  for (const side of ['progress', 'licenses'] as const) {
    const key = (row: ProgressRow | LicenseRow) => `${row.userId}|${canonicalOf(row.specializationId)}`;
    const was = countBy(before[side], key);
    for (const [k, n] of countBy(after[side], key)) {
      if (n > Math.max(1, was.get(k) ?? 0)) problems.push(`${side} ${k}: ${was.get(k) ?? 0} row(s) before, ${n} after`);
    }
  }
  return problems;
}

/**
 * Samples the licenses while a test runs: `maxAchievedLevel` must never go down between two
 * samples, and no stored (user, specialization) may gain a second row. Each sample is one
 * consistent statement.
 */
export class LicenseMonitor {
  private readonly lastMax = new Map<number, number>();
  private baselineRows: Map<string, number> | undefined;
  readonly problems: string[] = [];
  samples = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly world: World,
  ) {}

  async sample(): Promise<void> {
    const { t, c } = this.world;
    const result = await this.pool.query(`SELECT ${c.lId} AS id, ${c.lUser} AS u, ${c.lSpec}::text AS s, ${c.lMax} AS m FROM ${t.licenses}`);
    const rows = countBy(result.rows, (r) => `${r.u}|${canonicalOf(String(r.s))}`);
    if (this.baselineRows === undefined) this.baselineRows = rows;
    for (const [key, n] of rows) {
      if (n > Math.max(1, this.baselineRows.get(key) ?? 0) && this.problems.length < 20) this.problems.push(`sample ${this.samples}: ${n} licenses for ${key}`);
    }
    for (const row of result.rows) {
      if (row.m === null) continue;
      const id = Number(row.id);
      const max = Number(row.m);
      const last = this.lastMax.get(id);
      if (last !== undefined && max < last && this.problems.length < 20) this.problems.push(`sample ${this.samples}: license ${id} max achieved ${last} → ${max}`);
      this.lastMax.set(id, max);
    }
    this.samples++;
  }

  /** Samples every `everyMs` until `stop()` is called; resolves when the loop ended. */
  run(everyMs: number): { stop(): Promise<void> } {
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        await this.sample();
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await loop;
      },
    };
  }
}

/** Where one write action stands after a run: all of it written, none of it, or neither (a partial or foreign write). */
export type ActionVisibility = 'written' | 'untouched' | 'other';

/** Indexes a snapshot for {@link actionVisibility}: rows by `user|storedId`, history rows newer than `historyIdBefore` by license id. */
export function indexSnapshot(after: Snapshot, historyIdBefore: number) {
  const progress = new Map<string, ProgressRow>();
  for (const row of after.progress) progress.set(rowKey(row), row);
  const licenses = new Map<string, LicenseRow>();
  for (const row of after.licenses) licenses.set(rowKey(row), row);
  const history = new Map<number, Snapshot['history'][number][]>();
  for (const row of after.history) if (row.id > historyIdBefore) history.set(row.licenseId, [...(history.get(row.licenseId) ?? []), row]);
  return { progress, licenses, history };
}

/**
 * Whether a write action's effects are visible after a run (on a schema with unique keys):
 * `written` when its row holds the written values and, for a license level change, exactly one
 * new progression row from the expected level to the written one exists; `untouched` when its row
 * is still in the expected state (absent for a creation) with no new progression row; `other`
 * for anything else.
 */
export function actionVisibility(action: SyncAction, index: ReturnType<typeof indexSnapshot>): ActionVisibility {
  const key = (sid: string) => rowKey({ userId: action.userId, specializationId: sid });
  switch (action.kind) {
    case 'FlagForReview':
      return 'untouched';
    case 'SetProgressLevel': {
      const row = index.progress.get(key(action.expected.progress!.specializationId));
      if (row?.level === action.write.level) return 'written';
      if (row && row.level === action.expected.progress!.level) return 'untouched';
      return 'other';
    }
    case 'CreateProgress': {
      const row = index.progress.get(key(action.write.specializationId));
      if (!row) return 'untouched';
      return row.level === action.write.level ? 'written' : 'other';
    }
    case 'SetLicenseLevel': {
      const expected = action.expected.license!;
      const row = index.licenses.get(key(expected.specializationId));
      if (!row) return 'other';
      const history = index.history.get(row.id) ?? [];
      const changes = expected.level !== action.write.level;
      const maxAfter = Math.max(expected.maxAchievedLevel ?? action.write.maxAchievedLevel, action.write.maxAchievedLevel);
      if (row.level === action.write.level && row.maxAchievedLevel === maxAfter) {
        if (!changes && history.length === 0) return 'written';
        if (changes && history.length === 1 && history[0]!.fromLevel === expected.level && history[0]!.toLevel === action.write.level) return 'written';
      }
      if (row.level === expected.level && row.maxAchievedLevel === expected.maxAchievedLevel && history.length === 0) return 'untouched';
      return 'other';
    }
    case 'CreateLicense': {
      const row = index.licenses.get(key(action.write.specializationId));
      if (!row) return 'untouched';
      const history = index.history.get(row.id) ?? [];
      const ok =
        row.level === action.write.level &&
        row.maxAchievedLevel === action.write.maxAchievedLevel &&
        history.length === 1 &&
        history[0]!.fromLevel === null &&
        history[0]!.toLevel === action.write.level;
      return ok ? 'written' : 'other';
    }
  }
}
