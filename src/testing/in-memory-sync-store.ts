// An in-memory SyncStore with the PostgreSQL store's semantics (compare-and-set, legacy ids, run
// lock, failure injection) for core tests and for implementers to compare against. Over 300
// lines because it implements the whole port in one place, like the adapters do.
import { err, errAsync, ok, okAsync, ResultAsync, type Result } from 'neverthrow';
import type { Catalog } from '../domain/catalog.js';
import { DEFAULT_CATALOG } from '../domain/default-catalog.js';
import { userIdForKind, type UserId, type UserIdKind } from '../domain/records.js';
import { storeUnavailable, validationError, type StoreError, type ValidationIssue } from '../errors.js';
import { countLegacyIdUse } from '../sync/legacy-ids.js';
import { createLockTable } from '../_internal/lock-table.js';
import type { WriteAction } from '../sync/action.js';
import { diffPair } from '../sync/diff.js';
import { compareCodePoints, comparePairKeys, compareUserIds, formatPairKey, pairKeyId, userIdKey, type PairKey } from '../sync/pair-key.js';
import type { SyncPair } from '../sync/pair.js';
import { shardOf } from '../sync/shard.js';
import type { ApplyContext, DifferingPairQuery, PairQuery, SyncStore, WriteOutcome } from '../sync/sync-store.js';
import type { LicenseRowData, ProgressionRowData, ProgressRowData, StoreSnapshot, SyncStoreSeed } from './store-snapshot.js';

interface ProgressRow {
  userId: UserId;
  specializationId: string;
  level: number | null;
  xp: number;
  sessions: number;
}
interface LicenseRow {
  userId: UserId;
  specializationId: string;
  level: number | null;
  maxAchievedLevel: number | null;
}
interface Tables {
  progress: ProgressRow[];
  licenses: LicenseRow[];
  progressions: ProgressionRowData[];
}

/** Options of {@link createInMemorySyncStore}. */
export interface InMemorySyncStoreOptions {
  readonly name?: string;
  /** Pairs per page (default 1 000). */
  readonly pageSize?: number;
  /**
   * The catalog whose legacy ids (aliases) the store groups under their canonical ids in every
   * read, scan and write (default `DEFAULT_CATALOG`: PLAYER → GANCUJU_PLAYER, COACH → LFA_COACH).
   */
  readonly catalog?: Catalog;
  /**
   * The kind of user ids the store holds, as a database column would (default: that of the seed's
   * first row; with an empty seed, any). A user id of the other kind is a `ValidationError`,
   * a decimal string on an integer store is converted exactly (see `userIdForKind`).
   */
  readonly userIds?: UserIdKind;
}

/** An in-memory `SyncStore` with the semantics of a database, plus controls for tests. */
export interface InMemorySyncStore extends SyncStore {
  /** Everything the store holds, in canonical order. */
  snapshot(): StoreSnapshot;
  /** Changes a level out of band, as a concurrent writer would (the row is found by its stored id). */
  setLevel(side: 'progress' | 'license', userId: UserId, specializationId: string, level: number | null): void;
  /** Inserts rows out of band (duplicates allowed, as in a table without a unique key). */
  insert(rows: { readonly progress?: readonly ProgressRowData[]; readonly licenses?: readonly LicenseRowData[] }): void;
  /** Makes the next `count` batches fail (and roll back) with `cause`. */
  failNextBatches(count: number, cause?: unknown): void;
  /** Makes every batch that contains an action matching `predicate` fail; `null` clears it. */
  failWhen(predicate: ((action: WriteAction) => boolean) | null): void;
  /** Number of `applyBatch` calls so far. */
  readonly batchCalls: number;
}

/**
 * Creates an in-memory `SyncStore` for tests and scripts. It behaves like a database: batches
 * are atomic, writes are compare-and-set, every license level change writes one progression row,
 * a row written under an id the store does not know violates a "foreign key" and fails its batch,
 * levels below 1 violate a "check constraint", and run locks exclude overlapping scopes.
 *
 * ```ts
 * const store = createInMemorySyncStore({ specializations: [{ id: 'INTERNSHIP', maxLevel: 3 }],
 *   progress: [{ userId: 1, specializationId: 'INTERNSHIP', level: 2 }], licenses: [] });
 * ```
 */
export function createInMemorySyncStore(seed?: SyncStoreSeed, options: InMemorySyncStoreOptions = {}): InMemorySyncStore {
  const name = options.name ?? 'memory';
  const defaultPageSize = options.pageSize ?? 1_000;
  const known = new Set((seed?.specializations ?? []).map((s) => s.id));
  let tables: Tables = {
    progress: (seed?.progress ?? []).map(toProgressRow),
    licenses: (seed?.licenses ?? []).map((r) => ({ ...r })),
    progressions: [],
  };
  let failures: { count: number; cause: unknown } = { count: 0, cause: undefined };
  let failPredicate: ((action: WriteAction) => boolean) | null = null;
  let batchCalls = 0;
  const locks = createLockTable();
  const storeAliases = (options.catalog ?? DEFAULT_CATALOG).aliasMap;
  const firstId = seed?.progress?.[0]?.userId ?? seed?.licenses?.[0]?.userId;
  const idKind: UserIdKind | undefined = options.userIds ?? (firstId === undefined ? undefined : typeof firstId === 'number' ? 'integer' : 'text');

  const canonical = (id: string, aliases: ReadonlyMap<string, string> | undefined) => aliases?.get(id) ?? id;

  /** A user id in the store's form, or the issue naming `field`. */
  function storedUserId(value: unknown, field: string): { ok: true; value: UserId } | { ok: false; issue: ValidationIssue } {
    if (idKind === undefined) return { ok: true, value: value as UserId };
    const converted = userIdForKind(value, idKind);
    return converted.ok ? converted : { ok: false, issue: { field, message: converted.message } };
  }

  function checkedQuery<Q extends PairQuery>(query: Q, subject: string): { ok: true; query: Q } | { ok: false; error: StoreError } {
    if (!query.userIds && !query.after) return { ok: true, query };
    const ids: UserId[] = [];
    const issues: ValidationIssue[] = [];
    query.userIds?.forEach((u, i) => {
      const c = storedUserId(u, `userIds[${i}]`);
      if (c.ok) ids.push(c.value);
      else issues.push(c.issue);
    });
    const after = query.after ? storedUserId(query.after.userId, 'after.userId') : undefined;
    if (after && !after.ok) issues.push(after.issue);
    if (issues.length > 0) return { ok: false, error: validationError(subject, issues) };
    return {
      ok: true,
      query: {
        ...query,
        ...(query.userIds ? { userIds: ids } : {}),
        ...(query.after && after?.ok ? { after: { userId: after.value, specializationId: query.after.specializationId } } : {}),
      },
    };
  }

  function allPairs(query: PairQuery): SyncPair[] {
    const aliases = query.aliases ?? storeAliases;
    const groups = new Map<string, { key: PairKey; progress: ProgressRow[]; licenses: LicenseRow[] }>();
    const group = (userId: UserId, specializationId: string) => {
      const spec = canonical(specializationId, aliases);
      const k = pairKeyId({ userId, specializationId: spec });
      let g = groups.get(k);
      if (!g) {
        g = { key: { userId, specializationId: spec }, progress: [], licenses: [] };
        groups.set(k, g);
      }
      return g;
    };
    for (const row of tables.progress) group(row.userId, row.specializationId).progress.push(row);
    for (const row of tables.licenses) group(row.userId, row.specializationId).licenses.push(row);
    const specs = query.specializationIds ? new Set(query.specializationIds) : null;
    const users = query.userIds ? new Set(query.userIds.map(userIdKey)) : null;
    const pairs: SyncPair[] = [];
    for (const g of groups.values()) {
      if (specs && !specs.has(g.key.specializationId)) continue;
      if (users && !users.has(userIdKey(g.key.userId))) continue;
      if (query.shard && shardOf(g.key.userId, query.shard.count) !== query.shard.index) continue;
      if (query.after && comparePairKeys(g.key, query.after) <= 0) continue;
      pairs.push({
        userId: g.key.userId,
        specializationId: g.key.specializationId,
        progress: sortRows(g.progress).map((r) => ({ specializationId: r.specializationId, level: r.level, xp: r.xp, sessions: r.sessions })),
        licenses: sortRows(g.licenses).map((r) => ({ specializationId: r.specializationId, level: r.level, maxAchievedLevel: r.maxAchievedLevel })),
      });
    }
    return pairs.sort(comparePairKeys);
  }

  async function* pages(pairs: SyncPair[], pageSize: number): AsyncGenerator<Result<readonly SyncPair[], StoreError>> {
    for (let i = 0; i < pairs.length; i += pageSize) yield ok(pairs.slice(i, i + pageSize));
  }

  function rowsOf(key: PairKey, aliases: ReadonlyMap<string, string>, t: Tables) {
    const match = (row: { userId: UserId; specializationId: string }) =>
      row.userId === key.userId && canonical(row.specializationId, aliases) === key.specializationId;
    return { progress: t.progress.filter(match), licenses: t.licenses.filter(match) };
  }

  function matchesExpected(action: WriteAction, aliases: ReadonlyMap<string, string>, t: Tables): boolean {
    const rows = rowsOf(action, aliases, t);
    const { progress, license } = action.expected;
    if (progress === null ? rows.progress.length !== 0 : rows.progress.length !== 1) return false;
    if (license === null ? rows.licenses.length !== 0 : rows.licenses.length !== 1) return false;
    if (progress !== null) {
      const row = rows.progress[0]!;
      if (row.specializationId !== progress.specializationId || row.level !== progress.level) return false;
    }
    if (license !== null) {
      const row = rows.licenses[0]!;
      if (row.specializationId !== license.specializationId || row.level !== license.level || row.maxAchievedLevel !== license.maxAchievedLevel) {
        return false;
      }
    }
    return true;
  }

  /**
   * True when the pair's rows already hold the state this batch's actions for the pair leave
   * them in (the expected state with every write of the pair applied): `AlreadyApplied`.
   */
  function alreadyApplied(action: WriteAction, batch: readonly WriteAction[], aliases: ReadonlyMap<string, string>, t: Tables): boolean {
    const mine = batch.filter((a) => a.userId === action.userId && a.specializationId === action.specializationId);
    let progress: { specializationId: string; level: number | null } | null = action.expected.progress;
    let license: { specializationId: string; level: number | null; maxAchievedLevel: number | null } | null = action.expected.license;
    for (const a of mine) {
      if (a.kind === 'CreateProgress') progress = { specializationId: a.write.specializationId, level: a.write.level };
      if (a.kind === 'SetProgressLevel' && progress) progress = { ...progress, level: a.write.level };
      if (a.kind === 'CreateLicense') license = { specializationId: a.write.specializationId, level: a.write.level, maxAchievedLevel: a.write.maxAchievedLevel };
      if (a.kind === 'SetLicenseLevel' && license) license = { ...license, level: a.write.level, maxAchievedLevel: a.write.maxAchievedLevel };
    }
    const rows = rowsOf(action, aliases, t);
    if (progress === null ? rows.progress.length !== 0 : rows.progress.length !== 1) return false;
    if (license === null ? rows.licenses.length !== 0 : rows.licenses.length !== 1) return false;
    const p = rows.progress[0];
    if (progress !== null && (p!.specializationId !== progress.specializationId || p!.level !== progress.level)) return false;
    const l = rows.licenses[0];
    if (license !== null && (l!.specializationId !== license.specializationId || l!.level !== license.level || l!.maxAchievedLevel !== license.maxAchievedLevel)) return false;
    return true;
  }

  /** A constraint violation as a driver reports it: SQLSTATE `code` and `constraint`. */
  function refusal(message: string, code: string, constraint: string): Error {
    return Object.assign(new Error(message), { code, constraint });
  }

  function write(action: WriteAction, context: ApplyContext & { readonly aliases: ReadonlyMap<string, string> }, t: Tables): void {
    const rows = rowsOf(action, context.aliases, t);
    const checkLevel = (level: number) => {
      if (!Number.isInteger(level) || level < 1) throw refusal(`check constraint violated: level ${level} must be an integer ≥ 1`, '23514', 'level_check');
    };
    const history = (fromLevel: number | null, toLevel: number, specializationId: string, reason: string, evidence: string) =>
      t.progressions.push({ userId: action.userId, specializationId, fromLevel, toLevel, advancedBy: context.actor, reason, evidence });
    switch (action.kind) {
      case 'CreateLicense': {
        checkLevel(action.write.level);
        if (!known.has(action.write.specializationId)) throw refusal(`foreign key violated: unknown specialization ${action.write.specializationId}`, '23503', 'specialization_fkey');
        t.licenses.push({ userId: action.userId, specializationId: action.write.specializationId, level: action.write.level, maxAchievedLevel: action.write.maxAchievedLevel });
        history(null, action.write.level, action.write.specializationId, action.reason, action.evidence);
        return;
      }
      case 'SetLicenseLevel': {
        checkLevel(action.write.level);
        const row = rows.licenses[0]!;
        const from = row.level;
        row.level = action.write.level;
        row.maxAchievedLevel = Math.max(row.maxAchievedLevel ?? action.write.maxAchievedLevel, action.write.maxAchievedLevel);
        if (from !== action.write.level) history(from, action.write.level, row.specializationId, action.reason, action.evidence);
        return;
      }
      case 'CreateProgress': {
        checkLevel(action.write.level);
        if (!known.has(action.write.specializationId)) throw refusal(`foreign key violated: unknown specialization ${action.write.specializationId}`, '23503', 'specialization_fkey');
        t.progress.push({ userId: action.userId, specializationId: action.write.specializationId, level: action.write.level, xp: 0, sessions: 0 });
        return;
      }
      case 'SetProgressLevel': {
        checkLevel(action.write.level);
        rows.progress[0]!.level = action.write.level;
        return;
      }
    }
  }

  async function* failed(error: StoreError): AsyncGenerator<Result<readonly SyncPair[], StoreError>> {
    yield err(error);
  }

  const store: InMemorySyncStore = {
    name,
    aliases: storeAliases,
    scanPairs(raw) {
      const q = checkedQuery(raw, 'pair query');
      if (!q.ok) return failed(q.error);
      return pages(allPairs(q.query), q.query.pageSize ?? defaultPageSize);
    },
    scanDifferingPairs(raw: DifferingPairQuery) {
      const q = checkedQuery(raw, 'differing pair query');
      if (!q.ok) return failed(q.error);
      const query = q.query;
      const context = { maxLevelOf: (id: string) => query.maxLevels.get(id), listLegacy: query.listLegacy === true };
      const differing = allPairs(query).filter((pair) => diffPair(pair, context).length > 0);
      return pages(differing, query.pageSize ?? defaultPageSize);
    },
    summarizeLegacyIds(raw) {
      const q = checkedQuery(raw, 'pair query');
      if (!q.ok) return errAsync(q.error);
      return okAsync(countLegacyIdUse(allPairs(q.query), q.query.aliases ?? storeAliases));
    },
    checkUserId(value: unknown, field: string) {
      const converted = storedUserId(value, field);
      return converted.ok ? null : converted.issue;
    },
    specializationRows() {
      // Every creation is checked against the seeded specializations (its "foreign key").
      return okAsync({ table: 'specializations', ids: [...known].sort(compareCodePoints), enforced: { progress: true, license: true } });
    },

    countPairs(raw) {
      const q = checkedQuery(raw, 'pair query');
      if (!q.ok) return errAsync(q.error);
      return okAsync(allPairs(q.query).length);
    },
    readPair(key, readOptions = {}) {
      const userId = storedUserId(key.userId, 'userId');
      if (!userId.ok) return errAsync(validationError('pair key', [userId.issue]));
      const pairs = allPairs({ userIds: [userId.value], specializationIds: [key.specializationId], ...(readOptions.aliases ? { aliases: readOptions.aliases } : {}) });
      return okAsync(pairs[0] ?? null);
    },
    applyBatch(rawActions, rawContext) {
      batchCalls++;
      const issues: ValidationIssue[] = [];
      const actions = rawActions.map((action, i) => {
        const c = storedUserId(action.userId, `actions[${i}].userId`);
        if (!c.ok) issues.push(c.issue);
        return c.ok && c.value !== action.userId ? { ...action, userId: c.value } : action;
      });
      if (rawContext.actor !== null) {
        const c = storedUserId(rawContext.actor, 'context.actor');
        if (!c.ok) issues.push(c.issue);
      }
      if (issues.length > 0) return errAsync(validationError('write batch', issues));
      const context = { ...rawContext, aliases: rawContext.aliases ?? storeAliases };
      return new ResultAsync(
        (async (): Promise<Result<readonly WriteOutcome[], StoreError>> => {
          await Promise.resolve(); // a real store answers asynchronously
          if (failures.count > 0) {
            failures = { count: failures.count - 1, cause: failures.cause };
            // Like the PostgreSQL store: a deadlock or a lock timeout is transient.
            const cause = failures.cause ?? new Error('injected batch failure');
            return err(storeUnavailable(name, cause, undefined, { transient: looksTransient(cause) }));
          }
          if (failPredicate && actions.some(failPredicate)) {
            return err(storeUnavailable(name, new Error('injected failure for a matching action')));
          }
          // Every compare-and-set is judged against the state at the start of the batch.
          const verdicts = actions.map((action) => matchesExpected(action, context.aliases, tables));
          const staged = cloneTables(tables);
          try {
            actions.forEach((action, i) => {
              if (verdicts[i]) write(action, context, staged);
            });
          } catch (cause) {
            return err(storeUnavailable(name, cause, 'rolled back a batch', { transient: looksTransient(cause) }));
          }
          const outcomes = verdicts.map((v, i): WriteOutcome => (v ? 'Applied' : alreadyApplied(actions[i]!, actions, context.aliases, tables) ? 'AlreadyApplied' : 'Stale'));
          tables = staged;
          return ok(outcomes);
        })(),
      );
    },
    acquireRunLock(scope, lockOptions = {}) {
      return locks.acquire(scope, lockOptions.wait ?? false);
    },
    snapshot() {
      return {
        progress: sortRows(tables.progress).map((r) => ({ ...r })),
        licenses: sortRows(tables.licenses).map((r) => ({ ...r })),
        progressions: tables.progressions.map((r) => ({ ...r })),
      };
    },
    setLevel(side, userId, specializationId, level) {
      const list: { userId: UserId; specializationId: string; level: number | null }[] = side === 'progress' ? tables.progress : tables.licenses;
      const row = list.find((r) => r.userId === userId && r.specializationId === specializationId);
      if (!row) throw new Error(`no ${side} row for ${formatPairKey({ userId, specializationId })}`);
      row.level = level;
    },
    insert(rows) {
      tables.progress.push(...(rows.progress ?? []).map(toProgressRow));
      tables.licenses.push(...(rows.licenses ?? []).map((r) => ({ ...r })));
    },
    failNextBatches(count, cause) {
      failures = { count, cause };
    },
    failWhen(predicate) {
      failPredicate = predicate;
    },
    get batchCalls() {
      return batchCalls;
    },
  };
  return store;
}

function toProgressRow(row: ProgressRowData): ProgressRow {
  return { userId: row.userId, specializationId: row.specializationId, level: row.level, xp: row.xp ?? 0, sessions: row.sessions ?? 0 };
}

function sortRows<T extends { userId: UserId; specializationId: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => compareUserIds(a.userId, b.userId) || compareCodePoints(a.specializationId, b.specializationId));
}

function cloneTables(t: Tables): Tables {
  return {
    progress: t.progress.map((r) => ({ ...r })),
    licenses: t.licenses.map((r) => ({ ...r })),
    progressions: [...t.progressions],
  };
}

/**
 * Whether an injected failure stands for one a retry cures. The in-memory store imitates the
 * PostgreSQL store, so a test injects what PostgreSQL raises: a cause whose `code` is a class-40
 * SQLSTATE (`40P01` deadlock) or `55P03` (lock timeout). The testing room does not import the
 * adapter (test/api/layering.test.ts), hence this small copy of its rule.
 */
function looksTransient(cause: unknown): boolean {
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (/^40[0-9A-Z]{3}$/.test(code) || code === '55P03');
}
