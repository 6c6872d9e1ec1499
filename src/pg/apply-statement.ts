/**
 * The apply statement of `createPgSyncStore` (internal: not exported from `levelsync/pg`).
 *
 * @internal
 * @module
 */
import type { WriteAction } from '../sync/action.js';
import type { ApplyContext } from '../sync/sync-store.js';
import { validationError, type ValidationError, type ValidationIssue } from '../errors.js';
import type { MappingNames } from './mapping/names.js';
import type { PgUserIdType } from './mapping/schema.js';
import { fitsUserIdType } from './sql-params.js';

/**
 * The apply statement: ONE statement per chunk of write actions, built from data-modifying CTEs
 * over bound arrays (one parameter per column, so the SQL text is the same for any chunk size):
 *
 * 1. `x`: the actions, unnested; `g`: every stored id of each canonical id in the chunk.
 * 2. `pr`, `lr`: the pairs' rows under any of their ids, locked FOR UPDATE in key order
 *    (progress first, then licenses — the order `readPair({ lock: true })` uses).
 * 3. `v`: the compare-and-set verdict of each action against the locked rows: exactly the
 *    expected records (none under any id where `expected` says null).
 * 4. Creations `INSERT … ON CONFLICT DO NOTHING`; updates guarded again by the expected values;
 *    a pair's other write happens only if its creation did.
 * 5. `hist`: one progression row per license level change, creation included, from RETURNING.
 *
 * The statement is atomic on its own: with a pool it needs no BEGIN/COMMIT; inside a caller's
 * transaction it simply joins it. It returns the index of every applied action (`done` false)
 * and of every action not applied because the pair's rows already hold the state the plan
 * leaves them in (`done` true: `AlreadyApplied`, not `Stale`).
 */
export function buildApplyStatement(names: MappingNames): string {
  // Quoted column names.
  const P = names.columns.progress;
  const L = names.columns.licenses;
  const H = names.columns.progressions;
  const pt = names.tables.progress;
  const lt = names.tables.licenses;
  const ht = names.tables.progressions;
  const U = names.userSqlType;
  const now = '$19::timestamptz';
  const withLicenseId = H.licenseId !== undefined && L.id !== undefined;

  const insertLicense = [
    [L.userId, 'v.uid'],
    [L.specializationId, 'v.ws'],
    [L.level, 'v.wl'],
    [L.maxAchievedLevel, 'v.wm'],
    ...(L.startedAt ? [[L.startedAt, now]] : []),
    ...(L.createdAt ? [[L.createdAt, now]] : []),
    ...(L.updatedAt ? [[L.updatedAt, now]] : []),
  ];
  const insertProgress = [
    [P.userId, 'v.uid'],
    [P.specializationId, 'v.ws'],
    [P.level, 'v.wl'],
    ...(P.xp ? [[P.xp, '0']] : []),
    ...(P.sessions ? [[P.sessions, '0']] : []),
    ...(P.createdAt ? [[P.createdAt, now]] : []),
    ...(P.updatedAt ? [[P.updatedAt, now]] : []),
  ];
  const setProgress = [`${P.level} = v.wl`, ...(P.updatedAt ? [`${P.updatedAt} = ${now}`] : [])];
  const setLicense = [
    `${L.level} = v.wl`,
    `${L.maxAchievedLevel} = greatest(t.${L.maxAchievedLevel}, v.wm)`,
    ...(L.lastAdvancedAt
      ? [`${L.lastAdvancedAt} = CASE WHEN t.${L.level} IS DISTINCT FROM v.wl THEN ${now} ELSE t.${L.lastAdvancedAt} END`]
      : []),
    ...(L.updatedAt ? [`${L.updatedAt} = ${now}`] : []),
  ];
  const history = [
    ...(withLicenseId ? [[H.licenseId!, 'h.id']] : [[H.userId!, 'h.uid'], [H.specializationId!, 'h.sid']]),
    [H.fromLevel, 'h.from_level'],
    [H.toLevel, 'h.to_level'],
    ...(H.advancedBy ? [[H.advancedBy, `$20::${U}`]] : []),
    ...(H.reason ? [[H.reason, 'h.reason']] : []),
    ...(H.evidence ? [[H.evidence, 'h.evidence']] : []),
    ...(H.advancedAt ? [[H.advancedAt, now]] : []),
  ];
  const cols = (pairs: readonly (readonly string[])[]) => pairs.map((p) => p[0]).join(', ');
  const vals = (pairs: readonly (readonly string[])[]) => pairs.map((p) => p[1]).join(', ');
  const licenseIdOut = withLicenseId ? `t.${L.id!} AS id, ` : '';
  const idCol = withLicenseId ? 'i.id, ' : '';
  const idSel = withLicenseId ? 'cl.id, ' : '';
  const upIdSel = withLicenseId ? 'u.id, ' : '';

  return `WITH x AS (
  SELECT * FROM unnest($1::int4[], $2::text[], $3::${U}[], $4::text[], $5::bool[], $6::text[], $7::numeric[], $8::bool[],
                       $9::text[], $10::numeric[], $11::numeric[], $12::text[], $13::int4[], $14::int4[], $15::text[], $16::text[])
    AS x(idx, kind, uid, canon, ep, eps, epl, el, els, ell, elm, ws, wl, wm, reason, evidence)
), g AS (
  SELECT * FROM unnest($17::text[], $18::text[]) AS g(canon, sid)
), k AS (
  SELECT DISTINCT uid, canon FROM x
), pr AS (
  SELECT k.uid, k.canon, t.${P.specializationId}::text AS sid, t.${P.level} AS lvl
  FROM k JOIN g ON g.canon = k.canon JOIN ${pt} t ON t.${P.userId} = k.uid AND t.${P.specializationId} = g.sid
  ORDER BY k.uid, g.sid
  FOR UPDATE OF t
), lr AS (
  SELECT k.uid, k.canon, t.${L.specializationId}::text AS sid, t.${L.level} AS lvl, t.${L.maxAchievedLevel} AS mx
  FROM k JOIN g ON g.canon = k.canon JOIN ${lt} t ON t.${L.userId} = k.uid AND t.${L.specializationId} = g.sid
  WHERE (SELECT count(*) FROM pr) >= 0
  ORDER BY k.uid, g.sid
  FOR UPDATE OF t
), ps AS (
  SELECT uid, canon, count(*) AS n, min(sid) AS sid, min(lvl) AS lvl FROM pr GROUP BY uid, canon
), ls AS (
  SELECT uid, canon, count(*) AS n, min(sid) AS sid, min(lvl) AS lvl, min(mx) AS mx FROM lr GROUP BY uid, canon
), v AS (
  SELECT x.*,
    ((CASE WHEN x.ep THEN ps.n = 1 AND ps.sid = x.eps AND ps.lvl IS NOT DISTINCT FROM x.epl ELSE ps.n IS NULL END)
     AND (CASE WHEN x.el THEN ls.n = 1 AND ls.sid = x.els AND ls.lvl IS NOT DISTINCT FROM x.ell AND ls.mx IS NOT DISTINCT FROM x.elm
               ELSE ls.n IS NULL END)) IS TRUE AS ok,
    bool_or(x.kind = 'CreateLicense') OVER w AS creates_license,
    bool_or(x.kind = 'CreateProgress') OVER w AS creates_progress,
    -- AlreadyApplied: the pair's rows already hold the state the plan leaves them in.
    ((CASE WHEN x.ep OR bool_or(x.kind = 'CreateProgress') OVER w
           THEN ps.n = 1 AND ps.sid = coalesce(max(x.ws) FILTER (WHERE x.kind = 'CreateProgress') OVER w, x.eps)
                AND ps.lvl IS NOT DISTINCT FROM coalesce(max(x.wl) FILTER (WHERE x.kind IN ('CreateProgress', 'SetProgressLevel')) OVER w, x.epl)
           ELSE ps.n IS NULL END)
     AND (CASE WHEN x.el OR bool_or(x.kind = 'CreateLicense') OVER w
           THEN ls.n = 1 AND ls.sid = coalesce(max(x.ws) FILTER (WHERE x.kind = 'CreateLicense') OVER w, x.els)
                AND ls.lvl IS NOT DISTINCT FROM coalesce(max(x.wl) FILTER (WHERE x.kind IN ('CreateLicense', 'SetLicenseLevel')) OVER w, x.ell)
                AND ls.mx IS NOT DISTINCT FROM coalesce(max(x.wm) FILTER (WHERE x.kind IN ('CreateLicense', 'SetLicenseLevel')) OVER w, x.elm)
           ELSE ls.n IS NULL END)) IS TRUE AS done
  FROM x
  LEFT JOIN ps ON ps.uid = x.uid AND ps.canon = x.canon
  LEFT JOIN ls ON ls.uid = x.uid AND ls.canon = x.canon
  WINDOW w AS (PARTITION BY x.uid, x.canon)
), ins_l AS (
  INSERT INTO ${lt} AS t (${cols(insertLicense)})
  SELECT ${vals(insertLicense)} FROM v WHERE v.ok AND v.kind = 'CreateLicense' ORDER BY v.idx
  ON CONFLICT DO NOTHING
  RETURNING ${licenseIdOut}t.${L.userId} AS uid, t.${L.specializationId}::text AS sid
), cl AS (
  SELECT v.idx, ${idCol}v.uid, v.canon, v.ws AS sid, v.wl, v.reason, v.evidence
  FROM v JOIN ins_l i ON i.uid = v.uid AND i.sid = v.ws WHERE v.ok AND v.kind = 'CreateLicense'
), ins_p AS (
  INSERT INTO ${pt} AS t (${cols(insertProgress)})
  SELECT ${vals(insertProgress)} FROM v WHERE v.ok AND v.kind = 'CreateProgress' ORDER BY v.idx
  ON CONFLICT DO NOTHING
  RETURNING t.${P.userId} AS uid, t.${P.specializationId}::text AS sid
), cp AS (
  SELECT v.idx, v.uid, v.canon FROM v JOIN ins_p i ON i.uid = v.uid AND i.sid = v.ws WHERE v.ok AND v.kind = 'CreateProgress'
), up_p AS (
  UPDATE ${pt} AS t SET ${setProgress.join(', ')}
  FROM v
  WHERE v.ok AND v.kind = 'SetProgressLevel' AND t.${P.userId} = v.uid AND t.${P.specializationId} = v.eps
    AND t.${P.level} IS NOT DISTINCT FROM v.epl
    AND (NOT v.creates_license OR EXISTS (SELECT 1 FROM cl WHERE cl.uid = v.uid AND cl.canon = v.canon))
  RETURNING v.idx
), up_l AS (
  UPDATE ${lt} AS t SET ${setLicense.join(', ')}
  FROM v
  WHERE v.ok AND v.kind = 'SetLicenseLevel' AND t.${L.userId} = v.uid AND t.${L.specializationId} = v.els
    AND t.${L.level} IS NOT DISTINCT FROM v.ell AND t.${L.maxAchievedLevel} IS NOT DISTINCT FROM v.elm
    AND (NOT v.creates_progress OR EXISTS (SELECT 1 FROM cp WHERE cp.uid = v.uid AND cp.canon = v.canon))
  RETURNING v.idx, ${licenseIdOut}v.uid, v.els AS sid, v.ell AS from_level, v.wl AS to_level, v.reason, v.evidence
), hist AS (
  INSERT INTO ${ht} (${cols(history)})
  SELECT ${vals(history)}
  FROM (
    SELECT cl.idx, ${idSel}cl.uid, cl.sid, $21::int4 AS from_level, cl.wl AS to_level, cl.reason, cl.evidence FROM cl
    UNION ALL
    SELECT u.idx, ${upIdSel}u.uid, u.sid, u.from_level::int4, u.to_level, u.reason, u.evidence FROM up_l u
    WHERE u.from_level IS DISTINCT FROM u.to_level
  ) h
  ORDER BY h.idx
  RETURNING 1
)
SELECT idx, false AS done FROM cl UNION ALL SELECT idx, false FROM cp UNION ALL SELECT idx, false FROM up_p UNION ALL SELECT idx, false FROM up_l
UNION ALL SELECT idx, true FROM v WHERE NOT v.ok AND v.done`;
}

/**
 * Checks a batch before it reaches SQL: user ids of the mapping's type, a usable timestamp, and
 * at most one write per side of a pair (two writes to one record in one compare-and-set batch
 * cannot both be judged against the state at the start of the batch).
 */
export function checkBatch(actions: readonly WriteAction[], context: ApplyContext, userIdType: PgUserIdType): ValidationError | null {
  const issues: ValidationIssue[] = [];
  if (!(context.now instanceof Date) || Number.isNaN(context.now.getTime())) issues.push({ field: 'context.now', message: 'must be a valid Date' });
  if (context.actor !== null && !fitsUserIdType(context.actor, userIdType)) {
    issues.push({ field: 'context.actor', message: `must be a user id of type ${userIdType}` });
  }
  const seen = new Set<string>();
  actions.forEach((action, i) => {
    if (!fitsUserIdType(action.userId, userIdType)) {
      issues.push({ field: `actions[${i}].userId`, message: `must be a user id of type ${userIdType}` });
    }
    const side = action.kind === 'SetProgressLevel' || action.kind === 'CreateProgress' ? 'progress' : 'license';
    const key = `${typeof action.userId}:${String(action.userId)}\u0000${action.specializationId}\u0000${side}`;
    if (seen.has(key)) issues.push({ field: `actions[${i}]`, message: `is a second write to the ${side} record of ${String(action.userId)}/${action.specializationId} in one batch` });
    seen.add(key);
  });
  return issues.length > 0 ? validationError('write batch', issues) : null;
}

/** The bound values of the apply statement for one chunk, in the statement's parameter order. */
export function applyValues(
  actions: readonly WriteAction[],
  context: ApplyContext & { readonly aliases: ReadonlyMap<string, string> },
  names: MappingNames,
): unknown[] {
  const n = actions.length;
  const col = <T>(f: (a: WriteAction, i: number) => T): T[] => actions.map(f);
  const groups = new Map<string, Set<string>>();
  for (const action of actions) groups.set(action.specializationId, new Set([action.specializationId]));
  for (const [alias, canonical] of context.aliases) groups.get(canonical)?.add(alias);
  const gc: string[] = [];
  const gs: string[] = [];
  for (const [canonical, ids] of groups) {
    for (const id of ids) {
      gc.push(canonical);
      gs.push(id);
    }
  }
  const license = (a: WriteAction) => a.expected.license;
  const progress = (a: WriteAction) => a.expected.progress;
  return [
    Array.from({ length: n }, (_, i) => i),
    col((a) => a.kind),
    col((a) => a.userId),
    col((a) => a.specializationId),
    col((a) => progress(a) !== null),
    col((a) => progress(a)?.specializationId ?? null),
    col((a) => progress(a)?.level ?? null),
    col((a) => license(a) !== null),
    col((a) => license(a)?.specializationId ?? null),
    col((a) => license(a)?.level ?? null),
    col((a) => license(a)?.maxAchievedLevel ?? null),
    col((a) => (a.kind === 'CreateLicense' || a.kind === 'CreateProgress' ? a.write.specializationId : null)),
    col((a) => a.write.level),
    col((a) => (a.kind === 'CreateLicense' || a.kind === 'SetLicenseLevel' ? a.write.maxAchievedLevel : null)),
    col((a) => a.reason),
    col((a) => (a.kind === 'CreateLicense' || a.kind === 'SetLicenseLevel' ? a.evidence : null)),
    gc,
    gs,
    context.now,
    context.actor,
    names.source.progressions.creationFromLevel,
  ];
}

/**
 * Splits a batch into chunks of about `size` actions without splitting a pair's actions (they
 * share one compare-and-set state).
 */
export function chunkByPair(actions: readonly WriteAction[], size: number): { readonly actions: WriteAction[]; readonly indexes: number[] }[] {
  const byPair = new Map<string, number[]>();
  actions.forEach((action, i) => {
    const key = `${typeof action.userId}:${String(action.userId)}\u0000${action.specializationId}`;
    const list = byPair.get(key);
    if (list) list.push(i);
    else byPair.set(key, [i]);
  });
  const chunks: { actions: WriteAction[]; indexes: number[] }[] = [];
  let current: { actions: WriteAction[]; indexes: number[] } = { actions: [], indexes: [] };
  for (const indexes of byPair.values()) {
    if (current.indexes.length > 0 && current.indexes.length + indexes.length > size) {
      chunks.push(current);
      current = { actions: [], indexes: [] };
    }
    for (const i of indexes) {
      current.indexes.push(i);
      current.actions.push(actions[i]!);
    }
  }
  if (current.indexes.length > 0) chunks.push(current);
  return chunks;
}
