/**
 * Reading pair rows into `SyncPair`s (internal: not exported from `levelsync/pg`). Slightly over
 * 300 lines: the row readers, their hand-written fast path and the assembler share one row
 * contract (`JoinedRow`) and are kept beside it.
 *
 * @internal
 * @module
 */
import { ok, type Result } from 'neverthrow';
import { z } from 'zod';
import type { UserId } from '../domain/records.js';
import type { ValidationError } from '../errors.js';
import { compareCodePoints } from '../sync/pair-key.js';
import type { LicenseState, ProgressState, SyncPair } from '../sync/pair.js';
import type { PgMapping } from './pg-mapping.js';
import { levelValue, nullableTextValue, rowReader, textValue, toIntegerUserId, totalValue, userIdValue } from './row-values.js';

/** A row of a pair query: one progress row × one license row of a pair (either may be absent). */
export interface JoinedRow {
  readonly u: UserId;
  readonly canon: string;
  readonly p_sid: string | null;
  readonly p_lvl: number | null;
  readonly p_xp: number;
  readonly p_ses: number;
  readonly p_rid?: string | null | undefined;
  readonly l_sid: string | null;
  readonly l_lvl: number | null;
  readonly l_mx: number | null;
  readonly l_rid?: string | null | undefined;
}

function columnLabels(mapping: PgMapping): Record<string, string> {
  const P = mapping.progress;
  const L = mapping.licenses;
  return {
    u: `${P.table}.${P.userId} / ${L.table}.${L.userId}`,
    canon: `${P.table}.${P.specializationId} / ${L.table}.${L.specializationId}`,
    p_sid: `${P.table}.${P.specializationId}`,
    p_lvl: `${P.table}.${P.level}`,
    p_xp: `${P.table}.${P.xp ?? 'xp'}`,
    p_ses: `${P.table}.${P.sessions ?? 'sessions'}`,
    p_rid: `${P.table}.ctid`,
    l_sid: `${L.table}.${L.specializationId}`,
    l_lvl: `${L.table}.${L.level}`,
    l_mx: `${L.table}.${L.maxAchievedLevel}`,
    l_rid: `${L.table}.ctid`,
  };
}

/**
 * Reads joined pair rows, naming the mapped column of a bad value.
 *
 * Every row is held to the zod schema below. Rows whose values all come in the plain forms the
 * drivers give for well-typed columns (numbers, strings, NULL) are accepted by a hand-written
 * check that accepts exactly what the schema accepts and builds the same value; any other row
 * (a numeric or int8 level as text, a bigint, a missing column, a wrong type) goes through zod,
 * which converts it or reports the column. The scan reads every differing pair through here,
 * and zod costs as much per row as the rest of the client-side work (see docs/benchmarks.md).
 */
export function joinedRowReader(mapping: PgMapping): (row: unknown) => Result<JoinedRow, ValidationError> {
  const viaZod = rowReader(
    {
      u: userIdValue(mapping.userIdType),
      canon: textValue,
      p_sid: nullableTextValue,
      p_lvl: levelValue,
      p_xp: totalValue,
      p_ses: totalValue,
      p_rid: nullableTextValue.optional(),
      l_sid: nullableTextValue,
      l_lvl: levelValue,
      l_mx: levelValue,
      l_rid: nullableTextValue.optional(),
    },
    'pair row',
    columnLabels(mapping),
  );
  const integerUsers = mapping.userIdType === 'integer' || mapping.userIdType === 'bigint';
  return (row) => {
    const fast = plainJoinedRow(row, integerUsers);
    return fast === undefined ? viaZod(row) : ok(fast);
  };
}

/**
 * The key of a joined row that could not be read, as well as it can be told (the user id as
 * levelsync would carry it, else its text), so that the pair can be flagged for review.
 */
export function unreadableRowKey(row: unknown, integerUsers: boolean): { readonly u: UserId; readonly canon: string } {
  const r = (typeof row === 'object' && row !== null ? row : {}) as Record<string, unknown>;
  const raw = r['u'];
  const readable = integerUsers ? toIntegerUserId(raw) : typeof raw === 'string' && raw.length > 0 ? raw : undefined;
  const u = readable ?? (raw === null || raw === undefined ? '(NULL)' : String(raw));
  const canon = typeof r['canon'] === 'string' ? r['canon'] : String(r['canon'] ?? '(NULL)');
  return { u, canon };
}

const NOT_PLAIN = Symbol('not plain');

/** A level or maximum as `levelValue` reads it, for a number or NULL only. */
function plainLevel(value: unknown): number | null | typeof NOT_PLAIN {
  if (value === null) return null;
  return typeof value === 'number' && Number.isFinite(value) ? value : NOT_PLAIN;
}

/** A total as `totalValue` reads it, for a number or NULL only. */
function plainTotal(value: unknown): number | typeof NOT_PLAIN {
  if (value === null) return 0;
  return typeof value === 'number' && Number.isFinite(value) ? value : NOT_PLAIN;
}

function isNullableText(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/**
 * The joined row when every column is present in a plain form (the same value the zod schema
 * gives), else undefined: the caller then parses the row with zod.
 */
function plainJoinedRow(row: unknown, integerUsers: boolean): JoinedRow | undefined {
  if (typeof row !== 'object' || row === null) return undefined;
  const r = row as Record<string, unknown>;
  let u = r['u'];
  if (integerUsers && typeof u === 'string') u = toIntegerUserId(u); // int8 through `pg`: exact
  if (integerUsers ? !((typeof u === 'number' && Number.isSafeInteger(u)) || typeof u === 'string') : !(typeof u === 'string' && u.length > 0 && u.length <= 200)) return undefined;
  const canon = r['canon'];
  const pSid = r['p_sid'];
  const lSid = r['l_sid'];
  if (typeof canon !== 'string' || !isNullableText(pSid) || !isNullableText(lSid)) return undefined;
  const pLvl = plainLevel(r['p_lvl']);
  const lLvl = plainLevel(r['l_lvl']);
  const lMx = plainLevel(r['l_mx']);
  const pXp = plainTotal(r['p_xp']);
  const pSes = plainTotal(r['p_ses']);
  if (pLvl === NOT_PLAIN || lLvl === NOT_PLAIN || lMx === NOT_PLAIN || pXp === NOT_PLAIN || pSes === NOT_PLAIN) return undefined;
  const out: { -readonly [K in keyof JoinedRow]: JoinedRow[K] } = { u: u as UserId, canon, p_sid: pSid, p_lvl: pLvl, p_xp: pXp, p_ses: pSes, l_sid: lSid, l_lvl: lLvl, l_mx: lMx };
  for (const key of ['p_rid', 'l_rid'] as const) {
    if (!(key in r)) continue;
    const value = r[key];
    if (value !== undefined && !isNullableText(value)) return undefined;
    out[key] = value;
  }
  return out;
}

/** A row of `readPair`: one row of either side. */
export interface SideRow {
  readonly side: 'p' | 'l';
  readonly sid: string;
  readonly lvl: number | null;
  readonly xp: number;
  readonly ses: number;
  readonly mx: number | null;
  readonly rid: string;
}

/** Reads `readPair` rows. */
export function sideRowReader(mapping: PgMapping): (row: unknown) => Result<SideRow, ValidationError> {
  const labels = columnLabels(mapping);
  return rowReader(
    {
      side: z.enum(['p', 'l']),
      sid: textValue,
      lvl: levelValue,
      xp: totalValue,
      ses: totalValue,
      mx: levelValue,
      rid: textValue,
    },
    'pair row',
    { sid: `${labels['p_sid']} / ${labels['l_sid']}`, lvl: `${labels['p_lvl']} / ${labels['l_lvl']}`, xp: labels['p_xp']!, ses: labels['p_ses']!, mx: labels['l_mx']! },
  );
}

interface Keyed<T> {
  readonly identity: string;
  readonly sid: string;
  readonly state: T;
}

/** `(12,3)` → [12, 3]; anything else sorts first. */
function ctidOrder(identity: string): [number, number] {
  const match = /^\((\d+),(\d+)\)$/.exec(identity);
  return match ? [Number(match[1]), Number(match[2])] : [-1, -1];
}

function byStoredIdThenRow<T>(a: Keyed<T>, b: Keyed<T>): number {
  const bySid = compareCodePoints(a.sid, b.sid);
  if (bySid !== 0) return bySid;
  const [ab, ao] = ctidOrder(a.identity);
  const [bb, bo] = ctidOrder(b.identity);
  return ab - bb || ao - bo || compareCodePoints(a.identity, b.identity);
}

/**
 * Groups joined rows, which arrive in key order, into pairs: the rows of one key become one
 * `SyncPair`, the cross product of the join deduplicated by row identity (the stored id where a
 * unique key makes it unique, the ctid otherwise), rows ordered by stored id then position.
 * A pair usually has one row per side: it is kept in small arrays (a Set of identities only
 * for a side with many rows), not in a Map per pair.
 */
export class PairAssembler {
  private key: { u: UserId; canon: string } | null = null;
  private progress = new SideRows<ProgressState>();
  private licenses = new SideRows<LicenseState>();
  private unreadable: string | undefined;

  /**
   * Marks the pair of `key` as unreadable (a row of it could not be read); returns the pair it
   * completed, if the key is a new one. The pair is flagged, its readable rows kept for review.
   */
  pushUnreadable(key: { readonly u: UserId; readonly canon: string }, reason: string): SyncPair | null {
    let done: SyncPair | null = null;
    if (this.key === null || this.key.u !== key.u || this.key.canon !== key.canon) {
      done = this.flush();
      this.key = { u: key.u, canon: key.canon };
    }
    this.unreadable = this.unreadable === undefined ? reason : this.unreadable;
    return done;
  }

  /** Adds a row; returns the pair it completed, if the row starts a new key. */
  push(row: JoinedRow): SyncPair | null {
    let done: SyncPair | null = null;
    if (this.key === null || this.key.u !== row.u || this.key.canon !== row.canon) {
      done = this.flush();
      this.key = { u: row.u, canon: row.canon };
    }
    if (row.p_sid !== null) {
      const identity = row.p_rid ?? row.p_sid;
      if (!this.progress.has(identity)) {
        this.progress.add({ identity, sid: row.p_sid, state: { specializationId: row.p_sid, level: row.p_lvl, xp: row.p_xp, sessions: row.p_ses } });
      }
    }
    if (row.l_sid !== null) {
      const identity = row.l_rid ?? row.l_sid;
      if (!this.licenses.has(identity)) {
        this.licenses.add({ identity, sid: row.l_sid, state: { specializationId: row.l_sid, level: row.l_lvl, maxAchievedLevel: row.l_mx } });
      }
    }
    return done;
  }

  /** The pair being assembled, if any (call at the end of the rows). */
  flush(): SyncPair | null {
    if (this.key === null) return null;
    const pair: SyncPair = {
      userId: this.key.u,
      specializationId: this.key.canon,
      progress: this.progress.take(),
      licenses: this.licenses.take(),
      ...(this.unreadable !== undefined ? { unreadable: this.unreadable } : {}),
    };
    this.key = null;
    this.unreadable = undefined;
    return pair;
  }
}

/** The distinct rows of one side of the pair being assembled. */
class SideRows<T> {
  private rows: Keyed<T>[] = [];
  private identities: Set<string> | undefined;

  has(identity: string): boolean {
    if (this.identities) return this.identities.has(identity);
    for (const row of this.rows) if (row.identity === identity) return true;
    return false;
  }

  add(row: Keyed<T>): void {
    this.rows.push(row);
    if (this.identities) this.identities.add(identity(row));
    else if (this.rows.length > 8) this.identities = new Set(this.rows.map(identity));
  }

  /** The states in stored id then row order; empties the side. */
  take(): T[] {
    const rows = this.rows;
    this.rows = [];
    this.identities = undefined;
    if (rows.length === 0) return [];
    if (rows.length === 1) return [rows[0]!.state];
    return rows.sort(byStoredIdThenRow).map((row) => row.state);
  }
}

function identity<T>(row: Keyed<T>): string {
  return row.identity;
}

/** Builds the pair of `readPair` from its side rows (null when there are none). */
export function pairFromSideRows(
  userId: UserId,
  specializationId: string,
  rows: readonly SideRow[],
): SyncPair | null {
  if (rows.length === 0) return null;
  const progress: Keyed<ProgressState>[] = [];
  const licenses: Keyed<LicenseState>[] = [];
  for (const row of rows) {
    if (row.side === 'p') progress.push({ identity: row.rid, sid: row.sid, state: { specializationId: row.sid, level: row.lvl, xp: row.xp, sessions: row.ses } });
    else licenses.push({ identity: row.rid, sid: row.sid, state: { specializationId: row.sid, level: row.lvl, maxAchievedLevel: row.mx } });
  }
  return {
    userId,
    specializationId,
    progress: progress.sort(byStoredIdThenRow).map((row) => row.state),
    licenses: licenses.sort(byStoredIdThenRow).map((row) => row.state),
  };
}
