/**
 * The pieces every read statement of `createPgSyncStore` shares (internal: not exported from
 * `levelsync/pg`): pair filters, the canonical-id expression, per-table filters and the select
 * lists of pair rows. The statements themselves are in `scan-query.ts`.
 *
 * @internal
 * @module
 */
import type { UserId } from '../domain/records.js';
import type { Shard } from '../sync/shard.js';
import type { MappingNames } from './mapping/names.js';
import { SqlParams } from './sql-params.js';
import type { MappedTableFacts } from './table-introspection.js';

/** The filters of a pair query, resolved against the alias map. */
export interface PairFilter {
  /** Legacy alias → canonical id (empty: every id is its own specialization). */
  readonly aliases: ReadonlyMap<string, string>;
  /** Canonical ids; rows stored under their aliases are included. */
  readonly specializationIds?: readonly string[];
  /** User ids in the column's form (see `toColumnUserId`). */
  readonly userIds?: readonly unknown[];
  readonly shard?: Shard;
  /** Only pairs whose key comes after this one in key order (user id in the column's form). */
  readonly after?: { readonly userId: UserId; readonly specializationId: string };
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

export type Side = 'progress' | 'licenses';

/**
 * Builds the pieces every pair query shares: the canonical-id expression (a CASE over the alias
 * map, only when there are aliases), and the per-table filters (applied to each table before
 * any join, so that indexes on user or specialization ids can serve them).
 */
export class PairSql {
  readonly params = new SqlParams();
  private aliasPlaceholderCache: (readonly [string, string])[] | undefined;
  private readonly specFilter: string | undefined;
  private readonly userFilter: string | undefined;
  private readonly shardFilter: { readonly count: string; readonly index: string } | undefined;
  private readonly afterKey: { readonly userId: string; readonly specializationId: string; readonly safe: boolean } | undefined;
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
    this.afterKey = filter.after
      ? {
          userId: this.params.add(filter.after.userId, this.userType),
          specializationId: this.params.add(filter.after.specializationId, 'text'),
          safe: typeof filter.after.userId === 'number',
        }
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
    if (this.afterKey) out.push(this.afterCondition(`t.${m.userId}`, this.canonical(`t.${m.specializationId}`), this.afterKey));
    return out;
  }

  /**
   * A row's pair (user, canonical id) comes after the key in the order of {@link orderBy}: on
   * each row, before any join (a pair's key is its rows' key), with a plain `user >= key` first
   * so that an index on the user id can serve it.
   */
  private afterCondition(user: string, canon: string, key: { readonly userId: string; readonly specializationId: string; readonly safe: boolean }): string {
    const laterSpec = `${canon} COLLATE "C" > ${key.specializationId}`;
    switch (this.names.userIdType) {
      case 'text':
        return `${user} COLLATE "C" >= ${key.userId} AND (${user} COLLATE "C" > ${key.userId} OR ${laterSpec})`;
      case 'bigint': {
        // Ids within ±2^53 numerically, then the others by their decimal text (see orderBy).
        const beyond = `${user} NOT BETWEEN -9007199254740991 AND 9007199254740991`;
        return key.safe
          ? `(${user} >= ${key.userId} OR ${user} < -9007199254740991) AND (${beyond} OR ${user} > ${key.userId} OR ${laterSpec})`
          : `${beyond} AND (${user}::text COLLATE "C" > ${key.userId}::text COLLATE "C" OR (${user} = ${key.userId} AND ${laterSpec}))`;
      }
      default:
        return `${user} >= ${key.userId} AND (${user} > ${key.userId} OR ${laterSpec})`;
    }
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

export function selectColumns(sql: PairSql, canon = 'canon'): (readonly [string, string])[] {
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

export function selectList(sql: PairSql, canon = 'canon'): string {
  return selectColumns(sql, canon)
    .map(([expr, name]) => `${expr} AS ${name}`)
    .join(', ');
}
