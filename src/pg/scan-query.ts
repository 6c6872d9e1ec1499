/**
 * The read statements of `createPgSyncStore` (internal: not exported from `levelsync/pg`).
 *
 * @internal
 * @module
 */
import type { Shard } from '../sync/shard.js';
import type { MappingNames } from './mapping/names.js';
import { SqlParams } from './sql-params.js';
import { isIntegerColumn, type MappedTableFacts } from './table-introspection.js';

/** The filters of a pair query, resolved against the alias map. */
export interface PairFilter {
  /** Legacy alias → canonical id (empty: every id is its own specialization). */
  readonly aliases: ReadonlyMap<string, string>;
  /** Canonical ids; rows stored under their aliases are included. */
  readonly specializationIds?: readonly string[];
  /** User ids in the column's form (see `toColumnUserId`). */
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
    readonly names: MappingNames,
    readonly facts: MappedTableFacts,
    readonly filter: PairFilter,
  ) {
    this.userType = names.userSqlType;
    this.specFilter = filter.specializationIds
      ? this.params.add(storedIdsOf(filter.specializationIds, filter.aliases), 'text[]')
      : undefined;
    this.userFilter = filter.userIds ? this.params.add(filter.userIds, `${this.userType}[]`) : undefined;
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
    return this.names.tables[side];
  }

  /** The canonical id of a stored specialization id expression. */
  canonical(stored: string): string {
    if (this.aliasPlaceholders.length === 0) return `${stored}::text`;
    const whens = this.aliasPlaceholders.map(([alias, canonical]) => `WHEN ${alias} THEN ${canonical}`).join(' ');
    return `(CASE ${stored}::text ${whens} ELSE ${stored}::text END)`;
  }

  /** The WHERE conditions of a side, on table alias `t`. */
  conditions(side: Side): string[] {
    const m = this.names.columns[side];
    const out: string[] = [];
    if (this.specFilter) out.push(`t.${m.specializationId}::text = ANY (${this.specFilter})`);
    if (this.userFilter) out.push(`t.${m.userId} = ANY (${this.userFilter})`);
    if (this.shardFilter) {
      out.push(`(('x' || substr(md5(t.${m.userId}::text), 1, 8))::bit(32)::bigint % ${this.shardFilter.count}) = ${this.shardFilter.index}`);
    }
    return out;
  }

  where(side: Side, extra: readonly string[] = []): string {
    const all = [...this.conditions(side), ...extra];
    return all.length > 0 ? ` WHERE ${all.join(' AND ')}` : '';
  }

  /** The columns a pair needs from a side (table alias `t`), aliased u, canon, sid, lvl, … */
  private sideColumns(side: Side, canon: string | null): string {
    const m = this.names.columns[side];
    const cols = [`t.${m.userId} AS u`, ...(canon === null ? [] : [`${canon} AS canon`]), `t.${m.specializationId}::text AS sid`, `t.${m.level} AS lvl`];
    if (side === 'progress') {
      const p = this.names.columns.progress;
      cols.push(p.xp ? `t.${p.xp} AS xp` : 'NULL::int4 AS xp', p.sessions ? `t.${p.sessions} AS ses` : 'NULL::int4 AS ses');
    } else {
      cols.push(`t.${this.names.columns.licenses.maxAchievedLevel} AS mx`);
    }
    if (!this.facts[side].uniqueKey) cols.push('t.ctid::text AS rid');
    return cols.join(', ');
  }

  /** Every row of a side, grouped under its canonical id. */
  sideSelect(side: Side): string {
    const m = this.names.columns[side];
    return `SELECT ${this.sideColumns(side, this.canonical(`t.${m.specializationId}`))} FROM ${this.table(side)} t${this.where(side)}`;
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
    const m = this.names.columns[side];
    if (aliasArrays) {
      // One index probe per key and stored id (OFFSET 0 keeps the probe a parameterized scan
      // whatever the planner guesses for the number of keys).
      return `SELECT side_row.* FROM ${keys} pair_key
         JOIN LATERAL (SELECT pair_key.canon AS sid UNION ALL SELECT alias_map.alias_id FROM unnest(${aliasArrays.aliases}, ${aliasArrays.canonicals}) AS alias_map(alias_id, canonical_id) WHERE alias_map.canonical_id = pair_key.canon) stored_id ON true
         JOIN LATERAL (SELECT ${this.sideColumns(side, 'pair_key.canon')} FROM ${this.table(side)} t${this.where(side, [`t.${m.userId} = pair_key.u`, `t.${m.specializationId} = stored_id.sid`])} OFFSET 0) side_row ON true`;
    }
    const ids = `JOIN ${this.table(side)} t ON t.${m.userId} = pair_key.u AND t.${m.specializationId} = pair_key.canon`;
    return `SELECT ${this.sideColumns(side, 'pair_key.canon')} FROM ${keys} pair_key ${ids}${this.where(side)}`;
  }

  orderBy(userExpr: string, canonExpr: string): string {
    const textual = this.names.userIdType === 'text';
    if (this.names.userIdType === 'bigint') {
      // `compareUserIds` order: ids within ±2^53 (numbers) numerically, then the others (carried
      // as decimal strings) by code point. Only the sort of the returned rows pays for it.
      const beyond = `(${userExpr} NOT BETWEEN -9007199254740991 AND 9007199254740991)`;
      return `ORDER BY ${beyond}, (CASE WHEN ${beyond} THEN ${userExpr}::text END) COLLATE "C", ${userExpr}, ${canonExpr} COLLATE "C"`;
    }
    return `ORDER BY ${userExpr}${textual ? ' COLLATE "C"' : ''}, ${canonExpr} COLLATE "C"`;
  }
}

function selectColumns(sql: PairSql, canon = 'canon'): (readonly [string, string])[] {
  const cols: (readonly [string, string])[] = [
    ['coalesce(p.u, l.u)', 'u'],
    [`coalesce(p.${canon}, l.${canon})`, 'canon'],
    ['p.sid', 'p_sid'],
    ['p.lvl', 'p_lvl'],
    ['p.xp', 'p_xp'],
    ['p.ses', 'p_ses'],
    ['l.sid', 'l_sid'],
    ['l.lvl', 'l_lvl'],
    ['l.mx', 'l_mx'],
  ];
  if (!sql.facts.progress.uniqueKey) cols.push(['p.rid', 'p_rid']);
  if (!sql.facts.licenses.uniqueKey) cols.push(['l.rid', 'l_rid']);
  return cols;
}

function selectList(sql: PairSql, canon = 'canon'): string {
  return selectColumns(sql, canon)
    .map(([expr, name]) => `${expr} AS ${name}`)
    .join(', ');
}

/**
 * Every pair matching the filter, one row per (progress row × license row) of a pair, in key
 * order: a FULL JOIN of the two (filtered) tables on user id and canonical specialization id.
 */
export function buildPairsQuery(names: MappingNames, facts: MappedTableFacts, filter: PairFilter): BuiltStatement {
  const sql = new PairSql(names, facts, filter);
  const text = `SELECT ${selectList(sql)}
FROM (${sql.sideSelect('progress')}) p
FULL JOIN (${sql.sideSelect('licenses')}) l ON l.u = p.u AND l.canon = p.canon
${sql.orderBy('coalesce(p.u, l.u)', 'coalesce(p.canon, l.canon)')}`;
  return { text, values: sql.params.values };
}

/**
 * Only the pairs the core diff reports, in key order, in ONE set-based statement.
 *
 * Stored ids are mapped to canonical ids in SQL: a CASE over the catalog's aliases (bound
 * parameters, a few comparisons per row, no function call) gives each row its canonical id, and
 * the two (filtered) tables are FULL JOINed on (user, canonical id), so a pair stored under a
 * legacy id is one pair, decided on the server. Without aliases the join is on the stored
 * columns as they are, as in a hand-written diff.
 *
 * A pair with at most one row per side is in sync exactly when both rows exist, the levels are
 * equal, at least 1, integral and within the (known) maximum, and the maximum achieved level is
 * not below the level (see `diffPair`); the main part keeps a joined row unless that conjunction
 * is TRUE, four comparisons per row in the common case (with `listLegacy`, also: both rows under
 * the canonical id). The maximum levels are hash-joined from bound arrays.
 *
 * Every other pair has two rows on one side and always differs: it must come back whole. Its
 * keys ("special") come from, per side: a GROUP BY (user, canonical id) HAVING count(*) > 1 for a
 * table without a unique key; for a table with one, where aliases exist, from the joined rows
 * themselves: such a pair (rows under PLAYER and GANCUJU_PLAYER on one side, at least one row on
 * the other) always has a joined row whose two stored ids differ, so the main part also keeps the
 * "mixed" rows (`p.sid <> l.sid`), and only for those an EXISTS probe through the (user, stored
 * id) key looks for another row of the pair on that side (a pair with no row on the other side
 * comes back whole anyway: every row of it differs). No extra pass over the tables: in the
 * original's all-legacy state there are no mixed rows and no probe runs. The rows of those keys
 * are left out of the main part's result (a one-time EXISTS skips the test when there are none,
 * the usual case) and a second part returns all their rows through the (user, stored id) keys.
 */
export function buildDifferingPairsQuery(
  names: MappingNames,
  facts: MappedTableFacts,
  filter: PairFilter,
  maxLevels: ReadonlyMap<string, number>,
  options: { readonly listLegacy?: boolean } = {},
): BuiltStatement {
  const sql = new PairSql(names, facts, filter);
  // Maximum levels of canonical ids only (a stored id is always mapped before the lookup).
  const known = [...maxLevels].filter(([id]) => !filter.aliases.has(id));
  const ids = sql.params.add(known.map(([id]) => id), 'text[]');
  const integral = known.every(([, v]) => Number.isInteger(v) && Math.abs(v) <= 2_147_483_647);
  const maxima = sql.params.add(known.map(([, v]) => v), integral ? 'int4[]' : 'numeric[]');
  const aliased = sql.hasAliases;
  const inSync = [
    'p.lvl >= 1',
    'p.lvl = l.lvl',
    'p.lvl <= known_max.max_level',
    'l.mx >= l.lvl',
    ...(isIntegerColumn(facts.progress, names.source.progress.level) ? [] : ['p.lvl = trunc(p.lvl::numeric)']),
    ...(isIntegerColumn(facts.licenses, names.source.licenses.maxAchievedLevel) ? [] : ['l.mx = trunc(l.mx::numeric)']),
    ...(aliased && options.listLegacy ? ['p.sid = p.canon', 'l.sid = l.canon'] : []),
  ];

  // Unique-key sides whose second row of a pair (under another id of its group) is found by a
  // probe from the mixed joined rows (see above).
  const probed = aliased ? (['progress', 'licenses'] as const).filter((side) => facts[side].uniqueKey) : [];
  const main = aliased
    ? `SELECT ${selectList(sql)}${probed.length > 0 ? `, NOT coalesce(${inSync.join(' AND ')}, false) AS differs` : ''}
  FROM (${sql.sideSelect('progress')}) p
  FULL JOIN (${sql.sideSelect('licenses')}) l ON l.u = p.u AND l.canon = p.canon
  LEFT JOIN unnest(${ids}, ${maxima}) AS known_max(id, max_level) ON known_max.id = coalesce(p.canon, l.canon)
  WHERE NOT coalesce(${inSync.join(' AND ')}, false)${probed.length > 0 ? ' OR p.sid <> l.sid' : ''}`
    : `SELECT ${selectList(sql, 'sid')}
  FROM (${sql.plainSideSelect('progress')}) p
  FULL JOIN (${sql.plainSideSelect('licenses')}) l ON l.u = p.u AND l.sid = p.sid
  LEFT JOIN unnest(${ids}, ${maxima}) AS known_max(id, max_level) ON known_max.id = coalesce(p.sid, l.sid)
  WHERE NOT coalesce(${inSync.join(' AND ')}, false)`;

  const special: string[] = [];
  for (const side of ['progress', 'licenses'] as const) {
    const m = names.columns[side];
    const sid = (t: string) => `${t}.${m.specializationId}`;
    if (!facts[side].uniqueKey) {
      special.push(
        `SELECT t.${m.userId} AS u, ${sql.canonical(sid('t'))} AS canon FROM ${sql.table(side)} t${sql.where(side)} GROUP BY 1, 2 HAVING count(*) > 1`,
      );
    }
  }
  if (probed.length > 0) {
    // One row per stored id (unique key): two rows of a pair on a side are under two ids of one
    // group, and some joined row of the pair is mixed. Probe: another row of the pair on that side.
    const other = (side: Side) => {
      const m = names.columns[side];
      const sid = `t.${m.specializationId}`;
      const own = side === 'progress' ? 'differing.p_sid' : 'differing.l_sid';
      return `EXISTS (SELECT 1 FROM ${sql.table(side)} t${sql.where(side, [`t.${m.userId} = differing.u`, `${sid}::text <> ${own}`, `${sql.canonical(sid)} = differing.canon`])})`;
    };
    special.push(`SELECT differing.u, differing.canon FROM differing WHERE differing.p_sid <> differing.l_sid AND (${probed.map(other).join(' OR ')})`);
  }
  if (special.length === 0) {
    return { text: [main, aliased ? sql.orderBy('coalesce(p.u, l.u)', 'coalesce(p.canon, l.canon)') : sql.orderBy('coalesce(p.u, l.u)', 'coalesce(p.sid, l.sid)')].join('\n'), values: sql.params.values };
  }
  const aliasArrays = aliased
    ? { aliases: sql.params.add([...filter.aliases.keys()], 'text[]'), canonicals: sql.params.add([...filter.aliases.values()], 'text[]') }
    : undefined;
  const keys = '(SELECT DISTINCT special_key.u, special_key.canon FROM special special_key)';
  // With probes, differing also holds the mixed rows that are in sync: they are only returned in a special pair.
  const differingColumns = probed.length > 0 ? selectColumns(sql).map(([, name]) => `differing.${name}`).join(', ') : 'differing.*';
  const text = `WITH differing AS MATERIALIZED (
  ${main}
), special AS MATERIALIZED (${special.join(' UNION ALL ')})
SELECT * FROM (
  SELECT ${differingColumns} FROM differing
  WHERE ${probed.length > 0 ? 'differing.differs AND ' : ''}NOT (EXISTS (SELECT 1 FROM special) AND (differing.u, differing.canon) IN (SELECT special.u, special.canon FROM special))
  UNION ALL
  SELECT ${selectList(sql)}
  FROM (${sql.keyedSideSelect('progress', keys, aliasArrays)}) p
  FULL JOIN (${sql.keyedSideSelect('licenses', keys, aliasArrays)}) l ON l.u = p.u AND l.canon = p.canon
) pair_row
${sql.orderBy('pair_row.u', 'pair_row.canon')}`;
  return { text, values: sql.params.values };
}

/**
 * Legacy-id use in the filtered tables: per stored alias id, its canonical id, progress rows,
 * license rows and pairs (users with a row under it), in one statement grouped on the server.
 */
export function buildLegacyIdQuery(names: MappingNames, facts: MappedTableFacts, filter: PairFilter): BuiltStatement {
  const sql = new PairSql(names, facts, filter);
  const aliasIds = sql.params.add([...filter.aliases.keys()], 'text[]');
  const side = (s: Side, tag: string) => {
    const m = names.columns[s];
    return `SELECT t.${m.userId} AS u, t.${m.specializationId}::text AS sid, ${tag} AS side FROM ${sql.table(s)} t${sql.where(s, [`t.${m.specializationId}::text = ANY (${aliasIds})`])}`;
  };
  // count(DISTINCT) sorts the rows under legacy ids once; a GROUP BY (id, user) first is slower
  // (its hash table spills to disk at the default work_mem; see docs/benchmarks.md).
  const text = `SELECT legacy_row.sid, ${sql.canonical('legacy_row.sid')} AS canon, count(*) FILTER (WHERE legacy_row.side = 1) AS p_rows,
       count(*) FILTER (WHERE legacy_row.side = 2) AS l_rows, count(DISTINCT legacy_row.u) AS pairs
FROM (${side('progress', '1')} UNION ALL ${side('licenses', '2')}) legacy_row
GROUP BY legacy_row.sid
ORDER BY legacy_row.sid COLLATE "C"`;
  return { text, values: sql.params.values };
}

/** The number of distinct pairs matching the filter (orphans of both sides included). */
export function buildCountQuery(names: MappingNames, facts: MappedTableFacts, filter: PairFilter): BuiltStatement {
  const sql = new PairSql(names, facts, filter);
  const side = (s: Side) => {
    const m = names.columns[s];
    return `SELECT t.${m.userId} AS u, ${sql.canonical(`t.${m.specializationId}`)} AS canon FROM ${sql.table(s)} t${sql.where(s)}`;
  };
  return { text: `SELECT count(*) AS n FROM (${side('progress')} UNION ${side('licenses')}) k`, values: sql.params.values };
}

/**
 * Every row of one pair (both sides, alias rows included) in one statement; with `lock`, the rows
 * are locked FOR UPDATE (progress first, then licenses) until the caller's transaction ends.
 */
export function buildReadPairQuery(
  names: MappingNames,
  facts: MappedTableFacts,
  userId: unknown,
  specializationId: string,
  aliases: ReadonlyMap<string, string>,
  lock: boolean,
  pairLock: string | undefined,
): BuiltStatement {
  const sql = new PairSql(names, facts, { aliases, specializationIds: [specializationId], userIds: [userId] });
  const forUpdate = lock ? ' FOR UPDATE OF t' : '';
  // Where a table has no unique key, the pair's advisory lock comes first (as in applyBatch).
  const advisory = lock && pairLock !== undefined ? `pair_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(${sql.params.add(pairLock, 'int8')}) AS locked), ` : '';
  const afterLock = advisory ? [`(SELECT count(*) FROM pair_lock) > 0`] : [];
  const p = names.columns.progress;
  const l = names.columns.licenses;
  const text = `WITH ${advisory}p AS (
  SELECT t.${p.userId} AS u, t.${p.specializationId}::text AS sid, t.${p.level} AS lvl,
         ${p.xp ? `t.${p.xp}` : 'NULL::int4'} AS xp, ${p.sessions ? `t.${p.sessions}` : 'NULL::int4'} AS ses, t.ctid::text AS rid
  FROM ${sql.table('progress')} t${sql.where('progress', afterLock)} ORDER BY 2, 6${forUpdate}
), l AS (
  SELECT t.${l.userId} AS u, t.${l.specializationId}::text AS sid, t.${l.level} AS lvl, t.${l.maxAchievedLevel} AS mx, t.ctid::text AS rid
  FROM ${sql.table('licenses')} t${sql.where('licenses', afterLock)} ORDER BY 2, 5${forUpdate}
)
SELECT 'p' AS side, p.sid, p.lvl, p.xp, p.ses, NULL AS mx, p.rid FROM p
UNION ALL
SELECT 'l' AS side, l.sid, l.lvl, NULL, NULL, l.mx, l.rid FROM l`;
  return { text, values: sql.params.values };
}
