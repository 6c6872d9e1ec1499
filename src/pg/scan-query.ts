/**
 * The read statements of `createPgSyncStore` (internal: not exported from `levelsync/pg`).
 *
 * @internal
 * @module
 */
import type { Shard } from '../sync/shard.js';
import { quoteIdentifier as q, quoteTable } from './identifier.js';
import type { PgMapping } from './pg-mapping.js';
import { fitsUserIdType, SqlParams, userIdSqlType } from './sql-params.js';
import { isIntegerColumn, type MappedTableFacts } from './table-introspection.js';

/** The filters of a pair query, resolved against the alias map. */
export interface PairFilter {
  /** Legacy alias → canonical id (empty: every id is its own specialization). */
  readonly aliases: ReadonlyMap<string, string>;
  /** Canonical ids; rows stored under their aliases are included. */
  readonly specializationIds?: readonly string[];
  readonly userIds?: readonly unknown[];
  readonly shard?: Shard;
}

/** A statement ready to run. */
export interface BuiltStatement {
  readonly text: string;
  readonly values: readonly unknown[];
}

/**
 * The stored ids whose rows belong to the given canonical ids: every id whose canonical form
 * (through `aliases`) is one of `canonicalIds`.
 */
export function storedIdsOf(canonicalIds: readonly string[], aliases: ReadonlyMap<string, string>): string[] {
  const wanted = new Set(canonicalIds);
  const out = new Set<string>();
  for (const id of canonicalIds) if (wanted.has(aliases.get(id) ?? id)) out.add(id);
  for (const [alias, canonical] of aliases) if (wanted.has(canonical)) out.add(alias);
  return [...out];
}

type Side = 'progress' | 'licenses';

/**
 * Builds the pieces every pair query shares: the canonical-id expression (a CASE over the alias
 * map, only when there are aliases), and the per-table filters (applied to each table before
 * any join, so that indexes on user or specialization ids can serve them).
 */
class PairSql {
  readonly params = new SqlParams();
  private aliasPlaceholderCache: (readonly [string, string])[] | undefined;
  private readonly specFilter: string | undefined;
  private readonly userFilter: string | undefined;
  private readonly shardFilter: { readonly count: string; readonly index: string } | undefined;
  readonly userType: string;

  constructor(
    readonly mapping: PgMapping,
    readonly facts: MappedTableFacts,
    readonly filter: PairFilter,
  ) {
    this.userType = userIdSqlType(mapping.userIdType);
    this.specFilter = filter.specializationIds
      ? this.params.add(storedIdsOf(filter.specializationIds, filter.aliases), 'text[]')
      : undefined;
    this.userFilter = filter.userIds
      ? this.params.add(
          filter.userIds.filter((id) => fitsUserIdType(id, mapping.userIdType)),
          `${this.userType}[]`,
        )
      : undefined;
    this.shardFilter = filter.shard
      ? { count: this.params.add(filter.shard.count, 'int8'), index: this.params.add(filter.shard.index, 'int8') }
      : undefined;
  }

  get hasAliases(): boolean {
    return this.filter.aliases.size > 0;
  }

  /** Alias parameters, bound on first use (a statement must use every parameter it binds). */
  private get aliasPlaceholders(): (readonly [string, string])[] {
    this.aliasPlaceholderCache ??= [...this.filter.aliases].map(
      ([alias, canonical]) => [this.params.add(alias, 'text'), this.params.add(canonical, 'text')] as const,
    );
    return this.aliasPlaceholderCache;
  }

  table(side: Side): string {
    return quoteTable(this.mapping.schema, this.mapping[side].table);
  }

  /** The canonical id of a stored specialization id expression. */
  canonical(stored: string): string {
    if (this.aliasPlaceholders.length === 0) return `${stored}::text`;
    const whens = this.aliasPlaceholders.map(([alias, canonical]) => `WHEN ${alias} THEN ${canonical}`).join(' ');
    return `(CASE ${stored}::text ${whens} ELSE ${stored}::text END)`;
  }

  /** The WHERE conditions of a side, on table alias `t`. */
  conditions(side: Side): string[] {
    const m = this.mapping[side];
    const out: string[] = [];
    if (this.specFilter) out.push(`t.${q(m.specializationId)}::text = ANY (${this.specFilter})`);
    if (this.userFilter) out.push(`t.${q(m.userId)} = ANY (${this.userFilter})`);
    if (this.shardFilter) {
      out.push(`(('x' || substr(md5(t.${q(m.userId)}::text), 1, 8))::bit(32)::bigint % ${this.shardFilter.count}) = ${this.shardFilter.index}`);
    }
    return out;
  }

  where(side: Side, extra: readonly string[] = []): string {
    const all = [...this.conditions(side), ...extra];
    return all.length > 0 ? ` WHERE ${all.join(' AND ')}` : '';
  }

  /** The columns a pair needs from a side (table alias `t`), aliased u, canon, sid, lvl, … */
  private sideColumns(side: Side, canon: string | null): string {
    const m = this.mapping[side];
    const cols = [`t.${q(m.userId)} AS u`, ...(canon === null ? [] : [`${canon} AS canon`]), `t.${q(m.specializationId)}::text AS sid`, `t.${q(m.level)} AS lvl`];
    if (side === 'progress') {
      const p = this.mapping.progress;
      cols.push(p.xp ? `t.${q(p.xp)} AS xp` : 'NULL::int4 AS xp', p.sessions ? `t.${q(p.sessions)} AS ses` : 'NULL::int4 AS ses');
    } else {
      cols.push(`t.${q(this.mapping.licenses.maxAchievedLevel)} AS mx`);
    }
    if (!this.facts[side].uniqueKey) cols.push('t.ctid::text AS rid');
    return cols.join(', ');
  }

  /** Every row of a side, grouped under its canonical id. */
  sideSelect(side: Side): string {
    const m = this.mapping[side];
    return `SELECT ${this.sideColumns(side, this.canonical(`t.${q(m.specializationId)}`))} FROM ${this.table(side)} t${this.where(side)}`;
  }

  /**
   * Every row of a side (filtered), keyed by its stored id as is (no CASE): the join key is then
   * a plain column, as in a hand-written diff.
   */
  plainSideSelect(side: Side): string {
    return `SELECT ${this.sideColumns(side, null)} FROM ${this.table(side)} t${this.where(side)}`;
  }

  /**
   * Every row of the pairs listed in `keys` (a relation of u, canon): found through the
   * (user, stored id) key, each canonical id expanded to itself and its aliases.
   */
  keyedSideSelect(side: Side, keys: string, aliasArrays: { readonly aliases: string; readonly canonicals: string } | undefined): string {
    const m = this.mapping[side];
    const ids = aliasArrays
      ? `JOIN LATERAL (SELECT s.canon AS sid UNION ALL SELECT x.a FROM unnest(${aliasArrays.aliases}, ${aliasArrays.canonicals}) AS x(a, c) WHERE x.c = s.canon) g ON true
         JOIN ${this.table(side)} t ON t.${q(m.userId)} = s.u AND t.${q(m.specializationId)} = g.sid`
      : `JOIN ${this.table(side)} t ON t.${q(m.userId)} = s.u AND t.${q(m.specializationId)} = s.canon`;
    return `SELECT ${this.sideColumns(side, 's.canon')} FROM ${keys} s ${ids}${this.where(side)}`;
  }

  orderBy(userExpr: string, canonExpr: string): string {
    const textual = this.mapping.userIdType === 'text';
    return `ORDER BY ${userExpr}${textual ? ' COLLATE "C"' : ''}, ${canonExpr} COLLATE "C"`;
  }
}

function selectList(sql: PairSql, canon = 'canon'): string {
  const cols = [
    'coalesce(p.u, l.u) AS u',
    `coalesce(p.${canon}, l.${canon}) AS canon`,
    'p.sid AS p_sid',
    'p.lvl AS p_lvl',
    'p.xp AS p_xp',
    'p.ses AS p_ses',
    'l.sid AS l_sid',
    'l.lvl AS l_lvl',
    'l.mx AS l_mx',
  ];
  if (!sql.facts.progress.uniqueKey) cols.push('p.rid AS p_rid');
  if (!sql.facts.licenses.uniqueKey) cols.push('l.rid AS l_rid');
  return cols.join(', ');
}

/**
 * Every pair matching the filter, one row per (progress row × license row) of a pair, in key
 * order: a FULL JOIN of the two (filtered) tables on user id and canonical specialization id.
 */
export function buildPairsQuery(mapping: PgMapping, facts: MappedTableFacts, filter: PairFilter): BuiltStatement {
  const sql = new PairSql(mapping, facts, filter);
  const text = `SELECT ${selectList(sql)}
FROM (${sql.sideSelect('progress')}) p
FULL JOIN (${sql.sideSelect('licenses')}) l ON l.u = p.u AND l.canon = p.canon
${sql.orderBy('coalesce(p.u, l.u)', 'coalesce(p.canon, l.canon)')}`;
  return { text, values: sql.params.values };
}

/**
 * Only the pairs the core diff reports, in key order, in ONE set-based statement.
 *
 * A pair with at most one row per side, none under a legacy alias, is in sync exactly when
 * both rows exist, the levels are equal, at least 1, integral and within the (known) maximum,
 * and the maximum achieved level is not below the level; every other such pair differs (see
 * `diffPair`). The main part is therefore the hand-written diff: a FULL JOIN of the two tables
 * (filtered before the join) on plain columns, the maximum levels hash-joined from bound
 * arrays, and a row kept unless that conjunction is TRUE — four comparisons per row in the
 * common, in-sync case (a row under an alias id finds no maximum level, so it is never in sync).
 *
 * Every other pair has a row under a legacy alias or, where a table has no unique key, two rows
 * under one id: it always differs, and must come back whole. A row under an alias id never
 * joins a row under its canonical id, so the main part returns it (as an orphan, or beside a
 * row under the same alias); the alias keys are therefore read from the main part's result,
 * with no extra pass over the tables. Keys with two rows under one id come from a GROUP BY …
 * HAVING count(*) > 1, only for a table without a unique key. The rows of those keys are then
 * left out of the main part's result (a one-time EXISTS skips the test when there are none, the
 * usual case), and a second part returns all their rows through the (user, stored id) keys.
 */
export function buildDifferingPairsQuery(
  mapping: PgMapping,
  facts: MappedTableFacts,
  filter: PairFilter,
  maxLevels: ReadonlyMap<string, number>,
): BuiltStatement {
  const sql = new PairSql(mapping, facts, filter);
  // Maximum levels of canonical ids only: a row stored under an alias id then finds no maximum,
  // so the in-sync test below is never TRUE for it (such a row always differs) at no cost per row.
  const known = [...maxLevels].filter(([id]) => !filter.aliases.has(id));
  const ids = sql.params.add(known.map(([id]) => id), 'text[]');
  const integral = known.every(([, v]) => Number.isInteger(v) && Math.abs(v) <= 2_147_483_647);
  const maxima = sql.params.add(known.map(([, v]) => v), integral ? 'int4[]' : 'numeric[]');
  const aliasIds = sql.hasAliases ? sql.params.add([...filter.aliases.keys()], 'text[]') : undefined;
  const p = mapping.progress;
  const l = mapping.licenses;
  const inSync = [
    'p.lvl >= 1',
    'p.lvl = l.lvl',
    'p.lvl <= m.max_level',
    'l.mx >= l.lvl',
    ...(isIntegerColumn(facts.progress, p.level) ? [] : ['p.lvl = trunc(p.lvl::numeric)']),
    ...(isIntegerColumn(facts.licenses, l.maxAchievedLevel) ? [] : ['l.mx = trunc(l.mx::numeric)']),
  ];

  const main = `SELECT ${selectList(sql, 'sid')}
  FROM (${sql.plainSideSelect('progress')}) p
  FULL JOIN (${sql.plainSideSelect('licenses')}) l ON l.u = p.u AND l.sid = p.sid
  LEFT JOIN unnest(${ids}, ${maxima}) AS m(id, max_level) ON m.id = coalesce(p.sid, l.sid)
  WHERE NOT coalesce(${inSync.join(' AND ')}, false)`;

  const special: string[] = [];
  if (aliasIds) {
    for (const column of ['p_sid', 'l_sid']) {
      special.push(`SELECT d.u, ${sql.canonical(`d.${column}`)} AS canon FROM d WHERE d.${column} = ANY (${aliasIds})`);
    }
  }
  for (const side of ['progress', 'licenses'] as const) {
    if (facts[side].uniqueKey) continue;
    const m = mapping[side];
    special.push(
      `SELECT t.${q(m.userId)} AS u, ${sql.canonical(`t.${q(m.specializationId)}`)} AS canon FROM ${sql.table(side)} t${sql.where(side)} GROUP BY t.${q(m.userId)}, t.${q(m.specializationId)} HAVING count(*) > 1`,
    );
  }
  if (special.length === 0) {
    return { text: [main, sql.orderBy('coalesce(p.u, l.u)', 'coalesce(p.sid, l.sid)')].join('\n'), values: sql.params.values };
  }
  const aliasArrays = aliasIds ? { aliases: aliasIds, canonicals: sql.params.add([...filter.aliases.values()], 'text[]') } : undefined;
  const keys = '(SELECT DISTINCT k.u, k.canon FROM special k)';
  const text = `WITH d AS MATERIALIZED (
  ${main}
), special AS MATERIALIZED (${special.join(' UNION ALL ')})
SELECT * FROM (
  SELECT d.* FROM d
  WHERE NOT (EXISTS (SELECT 1 FROM special) AND (d.u, ${sql.canonical('d.canon')}) IN (SELECT s.u, s.canon FROM special s))
  UNION ALL
  SELECT ${selectList(sql)}
  FROM (${sql.keyedSideSelect('progress', keys, aliasArrays)}) p
  FULL JOIN (${sql.keyedSideSelect('licenses', keys, aliasArrays)}) l ON l.u = p.u AND l.canon = p.canon
) r
${sql.orderBy('r.u', 'r.canon')}`;
  return { text, values: sql.params.values };
}

/** The number of distinct pairs matching the filter (orphans of both sides included). */
export function buildCountQuery(mapping: PgMapping, facts: MappedTableFacts, filter: PairFilter): BuiltStatement {
  const sql = new PairSql(mapping, facts, filter);
  const side = (s: Side) => {
    const m = mapping[s];
    return `SELECT t.${q(m.userId)} AS u, ${sql.canonical(`t.${q(m.specializationId)}`)} AS canon FROM ${sql.table(s)} t${sql.where(s)}`;
  };
  return { text: `SELECT count(*) AS n FROM (${side('progress')} UNION ${side('licenses')}) k`, values: sql.params.values };
}

/**
 * Every row of one pair (both sides, alias rows included) in one statement; with `lock`, the rows
 * are locked FOR UPDATE (progress first, then licenses) until the caller's transaction ends.
 */
export function buildReadPairQuery(
  mapping: PgMapping,
  facts: MappedTableFacts,
  userId: unknown,
  specializationId: string,
  aliases: ReadonlyMap<string, string>,
  lock: boolean,
  pairLock: string | undefined,
): BuiltStatement {
  const sql = new PairSql(mapping, facts, { aliases, specializationIds: [specializationId], userIds: [userId] });
  const forUpdate = lock ? ' FOR UPDATE OF t' : '';
  // Where a table has no unique key, the pair's advisory lock comes first (as in applyBatch).
  const advisory = lock && pairLock !== undefined ? `lk AS MATERIALIZED (SELECT pg_advisory_xact_lock(${sql.params.add(pairLock, 'int8')}) AS locked), ` : '';
  const afterLock = advisory ? [`(SELECT count(*) FROM lk) > 0`] : [];
  const p = mapping.progress;
  const l = mapping.licenses;
  const text = `WITH ${advisory}p AS (
  SELECT t.${q(p.userId)} AS u, t.${q(p.specializationId)}::text AS sid, t.${q(p.level)} AS lvl,
         ${p.xp ? `t.${q(p.xp)}` : 'NULL::int4'} AS xp, ${p.sessions ? `t.${q(p.sessions)}` : 'NULL::int4'} AS ses, t.ctid::text AS rid
  FROM ${sql.table('progress')} t${sql.where('progress', afterLock)} ORDER BY 2, 6${forUpdate}
), l AS (
  SELECT t.${q(l.userId)} AS u, t.${q(l.specializationId)}::text AS sid, t.${q(l.level)} AS lvl, t.${q(l.maxAchievedLevel)} AS mx, t.ctid::text AS rid
  FROM ${sql.table('licenses')} t${sql.where('licenses', afterLock)} ORDER BY 2, 5${forUpdate}
)
SELECT 'p' AS side, p.sid, p.lvl, p.xp, p.ses, NULL AS mx, p.rid FROM p
UNION ALL
SELECT 'l' AS side, l.sid, l.lvl, NULL, NULL, l.mx, l.rid FROM l`;
  return { text, values: sql.params.values };
}
