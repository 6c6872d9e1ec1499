/**
 * The read statements of `createPgSyncStore` (internal: not exported from `levelsync/pg`).
 *
 * @internal
 * @module
 */
import type { MappingNames } from './mapping/names.js';
import { PairSql, selectColumns, selectList, type BuiltStatement, type PairFilter, type Side } from './pair-sql.js';
import { isIntegerColumn, type MappedTableFacts } from './table-introspection.js';

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
