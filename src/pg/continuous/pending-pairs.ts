/**
 * Reading the pairs of a set of changed keys in one statement (internal).
 *
 * @internal
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import type { UserId } from '../../domain/records.js';
import type { ValidationError } from '../../errors.js';
import { pairKeyId } from '../../sync/pair-key.js';
import type { SyncPair } from '../../sync/pair.js';
import { quoteIdentifier as q, quoteTable } from '../identifier.js';
import { pairFromSideRows, sideRowReader } from '../pair-rows.js';
import type { PgMapping } from '../pg-mapping.js';
import { rowReader, textValue, userIdValue } from '../row-values.js';
import type { SqlRunner } from '../sql-client.js';
import { SqlParams, userIdSqlType } from '../sql-params.js';
import { CHANGE_TABLE } from './capture-ddl.js';

/** A changed key as the change table holds it: the user and the stored specialization id. */
export interface ChangedKey {
  readonly userId: UserId;
  readonly specializationId: string;
}

/**
 * The side rows of every pair in `keys` (a relation of `u, canon`), each canonical id expanded
 * to itself and its aliases, found through each table's (user, stored id) key.
 */
function pairRowsStatement(mapping: PgMapping, params: SqlParams, keys: string, aliases: ReadonlyMap<string, string>): string {
  const aliasIds = params.add([...aliases.keys()], 'text[]');
  const canonicals = params.add([...aliases.values()], 'text[]');
  const side = (name: 'progress' | 'licenses') => {
    const m = mapping[name];
    const extra =
      name === 'progress'
        ? `${mapping.progress.xp ? `t.${q(mapping.progress.xp)}` : 'NULL::int4'} AS xp, ${mapping.progress.sessions ? `t.${q(mapping.progress.sessions)}` : 'NULL::int4'} AS ses, NULL::int4 AS mx`
        : `NULL::int4 AS xp, NULL::int4 AS ses, t.${q(mapping.licenses.maxAchievedLevel)} AS mx`;
    // A LATERAL subquery with OFFSET 0 is never flattened into a join: one index probe per key,
    // whatever the planner guesses about the keys, so the cost follows the keys, not the table.
    return `SELECT '${name === 'progress' ? 'p' : 'l'}' AS side, g.u, g.canon, t.sid, t.lvl, t.xp, t.ses, t.mx, t.rid
  FROM g CROSS JOIN LATERAL (
    SELECT t.${q(m.specializationId)}::text AS sid, t.${q(m.level)} AS lvl, ${extra}, t.ctid::text AS rid
    FROM ${quoteTable(mapping.schema, m.table)} t WHERE t.${q(m.userId)} = g.u AND t.${q(m.specializationId)} = g.sid OFFSET 0) t`;
  };
  return `WITH k AS (${keys}),
g AS (
  SELECT k.u, k.canon, k.canon AS sid FROM k
  UNION
  SELECT k.u, k.canon, a.alias FROM k JOIN unnest(${aliasIds}, ${canonicals}) AS a(alias, canonical) ON a.canonical = k.canon
)
${side('progress')}
UNION ALL
${side('licenses')}`;
}

/**
 * Locks the rows of every pair in `keys` without waiting (`FOR UPDATE SKIP LOCKED`) and returns
 * the keys of the pairs it could not lock completely: a row of theirs is locked by another
 * transaction (an application's write in progress, or another reconciler). The caller leaves
 * those pairs for a later batch. So a reconciler never waits on a row lock while holding others,
 * and can never take part in a deadlock with the application's writers, whatever order they lock
 * rows in. A pair counts as busy when fewer of its rows could be locked than its snapshot shows
 * (a row deleted meanwhile also counts: conservative, the pair is only looked at later).
 */
export async function lockPairsOf(
  run: SqlRunner,
  mapping: PgMapping,
  keys: readonly { readonly userId: UserId; readonly specializationId: string }[],
  aliases: ReadonlyMap<string, string>,
): Promise<Result<{ readonly userId: UserId; readonly specializationId: string }[], ValidationError>> {
  if (keys.length === 0) return ok([]);
  const params = new SqlParams();
  const { users, canons } = bindKeys(params, mapping, keys);
  const aliasIds = params.add([...aliases.keys()], 'text[]');
  const canonicals = params.add([...aliases.values()], 'text[]');
  const count = (name: 'progress' | 'licenses', locking: boolean) => {
    const m = mapping[name];
    const rows = `SELECT 1 FROM ${quoteTable(mapping.schema, m.table)} t WHERE t.${q(m.userId)} = g.u AND t.${q(m.specializationId)} = g.sid`;
    return locking ? `(SELECT count(*) FROM (${rows} FOR UPDATE SKIP LOCKED) locked_rows)` : `(SELECT count(*) FROM (${rows}) seen_rows)`;
  };
  const text = `WITH keys AS (SELECT DISTINCT x.u, x.canon FROM unnest(${users}, ${canons}) AS x(u, canon)),
g AS (
  SELECT keys.u, keys.canon, keys.canon AS sid FROM keys
  UNION
  SELECT keys.u, keys.canon, a.alias FROM keys JOIN unnest(${aliasIds}, ${canonicals}) AS a(alias, canonical) ON a.canonical = keys.canon
),
counted AS (
  SELECT g.u, g.canon,
    ${count('progress', false)} + ${count('licenses', false)} AS seen,
    ${count('progress', true)} + ${count('licenses', true)} AS locked
  FROM g
)
SELECT u, canon FROM counted GROUP BY u, canon HAVING sum(seen) <> sum(locked)`;
  const result = await run(text, params.values);
  const readKey = rowReader({ u: userIdValue(mapping.userIdType), canon: textValue }, 'pair key row', {});
  const busy: { userId: UserId; specializationId: string }[] = [];
  for (const raw of result.rows) {
    const key = readKey(raw);
    if (key.isErr()) return err(key.error);
    busy.push({ userId: key.value.u, specializationId: key.value.canon });
  }
  return ok(busy);
}

/** Binds the keys as two parallel arrays (user ids, canonical ids); returns their placeholders. */
function bindKeys(params: SqlParams, mapping: PgMapping, keys: readonly { readonly userId: UserId; readonly specializationId: string }[]): { users: string; canons: string } {
  const users = params.add(
    keys.map((k) => k.userId),
    `${userIdSqlType(mapping.userIdType)}[]`,
  );
  const canons = params.add(
    keys.map((k) => k.specializationId),
    'text[]',
  );
  return { users, canons };
}

/** Groups side rows into pairs (key order is not needed by the reconciler). */
function assemble(mapping: PgMapping, rows: readonly Record<string, unknown>[]): Result<SyncPair[], ValidationError> {
  const readSide = sideRowReader(mapping);
  const readKey = rowReader({ u: userIdValue(mapping.userIdType), canon: textValue }, 'pair key row', {});
  const groups = new Map<string, { u: UserId; canon: string; rows: ReturnType<typeof readSide> extends Result<infer R, unknown> ? R[] : never }>();
  for (const raw of rows) {
    const key = readKey(raw);
    if (key.isErr()) return err(key.error);
    const side = readSide(raw);
    if (side.isErr()) return err(side.error);
    const id = pairKeyId({ userId: key.value.u, specializationId: key.value.canon });
    let group = groups.get(id);
    if (!group) {
      group = { u: key.value.u, canon: key.value.canon, rows: [] };
      groups.set(id, group);
    }
    group.rows.push(side.value);
  }
  const pairs: SyncPair[] = [];
  for (const group of groups.values()) {
    const pair = pairFromSideRows(group.u, group.canon, group.rows);
    if (pair) pairs.push(pair);
  }
  return ok(pairs);
}

/** Reads the pairs of the given canonical keys (keys with no record on either side are left out). */
export async function readPairsOf(
  run: SqlRunner,
  mapping: PgMapping,
  keys: readonly { readonly userId: UserId; readonly specializationId: string }[],
  aliases: ReadonlyMap<string, string>,
): Promise<Result<SyncPair[], ValidationError>> {
  if (keys.length === 0) return ok([]);
  const params = new SqlParams();
  const { users, canons } = bindKeys(params, mapping, keys);
  const text = pairRowsStatement(mapping, params, `SELECT DISTINCT x.u, x.canon FROM unnest(${users}, ${canons}) AS x(u, canon)`, aliases);
  const result = await run(text, params.values);
  return assemble(mapping, result.rows);
}

/**
 * Reads the pairs of every pending change (at most `limit` distinct keys, oldest first), and how
 * many distinct keys are pending. The cost depends on the number of pending changes, not on the
 * size of the tables.
 */
export async function readPendingPairs(
  run: SqlRunner,
  mapping: PgMapping,
  aliases: ReadonlyMap<string, string>,
  limit: number,
): Promise<Result<{ readonly pairs: SyncPair[]; readonly keys: number; readonly pending: number; readonly oldestMs: number }, ValidationError>> {
  const params = new SqlParams();
  const aliasIds = params.add([...aliases.keys()], 'text[]');
  const canonicals = params.add([...aliases.values()], 'text[]');
  const max = params.add(limit, 'int8');
  const changes = `${q(mapping.schema)}.${q(CHANGE_TABLE)}`;
  const keys = `SELECT c.u, c.canon FROM (
    SELECT c.user_id AS u, coalesce(a.canonical, c.specialization_id) AS canon, min(c.id) AS first
    FROM ${changes} c LEFT JOIN unnest(${aliasIds}, ${canonicals}) AS a(alias, canonical) ON a.alias = c.specialization_id
    GROUP BY 1, 2 ORDER BY 3 LIMIT ${max}) c`;
  const text = pairRowsStatement(mapping, params, keys, aliases);
  const [result, counted] = await Promise.all([
    run(text, params.values),
    run(
      `SELECT count(*) AS n, count(DISTINCT (user_id, specialization_id)) AS k,
              coalesce(extract(epoch FROM clock_timestamp() - min(changed_at)) * 1000, 0) AS age FROM ${changes}`,
    ),
  ]);
  const pairs = assemble(mapping, result.rows);
  if (pairs.isErr()) return err(pairs.error);
  const row = counted.rows[0] as { n: unknown; k: unknown; age: unknown };
  return ok({ pairs: pairs.value, keys: Number(row.k), pending: Number(row.n), oldestMs: Math.max(0, Math.round(Number(row.age))) });
}
