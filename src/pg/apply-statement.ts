/**
 * The apply statement of `createPgSyncStore` (internal: not exported from `levelsync/pg`).
 *
 * @internal
 * @module
 */
import type { WriteAction } from '../sync/action.js';
import { formatPairKey, pairKeyId } from '../sync/pair-key.js';
import type { ApplyContext } from '../sync/sync-store.js';
import { validationError, type ValidationError, type ValidationIssue } from '../errors.js';
import type { MappingNames } from './mapping/names.js';
import type { PgUserIdType } from './mapping/schema.js';
import { fitsUserIdType } from './sql-params.js';

/**
 * The apply statement: ONE statement per chunk of write actions, built from data-modifying CTEs
 * over bound arrays (one parameter per column, so the SQL text is the same for any chunk size):
 *
 * 1. `action`: the actions, unnested; `id_group`: every stored id of each canonical id.
 * 2. `progress_row`, `license_row`: the pairs' rows under any of their ids, locked FOR UPDATE in
 *    key order (progress first, then licenses — the order `readPair({ lock: true })` uses);
 *    `progress_found`, `license_found`: what each pair holds per side.
 * 3. `verdict`: the compare-and-set verdict of each action against the locked rows (`ok`):
 *    exactly the expected records (none under any id where `expected` says null).
 * 4. Creations `INSERT … ON CONFLICT DO NOTHING`; updates guarded again by the expected values;
 *    a pair's other write happens only if its creation did.
 * 5. `history_rows`: one progression row per license level change, creation included, from
 *    RETURNING.
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
    [L.userId, 'verdict.user_id'],
    [L.specializationId, 'verdict.write_sid'],
    [L.level, 'verdict.write_level'],
    [L.maxAchievedLevel, 'verdict.write_max'],
    ...(L.startedAt ? [[L.startedAt, now]] : []),
    ...(L.createdAt ? [[L.createdAt, now]] : []),
    ...(L.updatedAt ? [[L.updatedAt, now]] : []),
  ];
  const insertProgress = [
    [P.userId, 'verdict.user_id'],
    [P.specializationId, 'verdict.write_sid'],
    [P.level, 'verdict.write_level'],
    ...(P.xp ? [[P.xp, '0']] : []),
    ...(P.sessions ? [[P.sessions, '0']] : []),
    ...(P.createdAt ? [[P.createdAt, now]] : []),
    ...(P.updatedAt ? [[P.updatedAt, now]] : []),
  ];
  const setProgress = [`${P.level} = verdict.write_level`, ...(P.updatedAt ? [`${P.updatedAt} = ${now}`] : [])];
  const setLicense = [
    `${L.level} = verdict.write_level`,
    `${L.maxAchievedLevel} = greatest(t.${L.maxAchievedLevel}, verdict.write_max)`,
    ...(L.lastAdvancedAt
      ? [`${L.lastAdvancedAt} = CASE WHEN t.${L.level} IS DISTINCT FROM verdict.write_level THEN ${now} ELSE t.${L.lastAdvancedAt} END`]
      : []),
    ...(L.updatedAt ? [`${L.updatedAt} = ${now}`] : []),
  ];
  const history = [
    ...(withLicenseId ? [[H.licenseId!, 'level_change.id']] : [[H.userId!, 'level_change.user_id'], [H.specializationId!, 'level_change.sid']]),
    [H.fromLevel, 'level_change.from_level'],
    [H.toLevel, 'level_change.to_level'],
    ...(H.advancedBy ? [[H.advancedBy, `$20::${U}`]] : []),
    ...(H.reason ? [[H.reason, 'level_change.reason']] : []),
    ...(H.evidence ? [[H.evidence, 'level_change.evidence']] : []),
    ...(H.advancedAt ? [[H.advancedAt, now]] : []),
  ];
  const cols = (pairs: readonly (readonly string[])[]) => pairs.map((p) => p[0]).join(', ');
  const vals = (pairs: readonly (readonly string[])[]) => pairs.map((p) => p[1]).join(', ');
  const licenseIdOut = withLicenseId ? `t.${L.id!} AS id, ` : '';
  const idCol = withLicenseId ? 'inserted.id, ' : '';
  const idSel = withLicenseId ? 'created_license.id, ' : '';
  const upIdSel = withLicenseId ? 'updated.id, ' : '';

  return `WITH action AS (
  SELECT * FROM unnest($1::int4[], $2::text[], $3::${U}[], $4::text[], $5::bool[], $6::text[], $7::numeric[], $8::bool[],
                       $9::text[], $10::numeric[], $11::numeric[], $12::text[], $13::int4[], $14::int4[], $15::text[], $16::text[])
    AS action(idx, kind, user_id, canon, expects_progress, expected_progress_sid, expected_progress_level, expects_license, expected_license_sid, expected_license_level, expected_license_max, write_sid, write_level, write_max, reason, evidence)
), id_group AS (
  SELECT * FROM unnest($17::text[], $18::text[]) AS id_group(canon, sid)
), pair_key AS (
  SELECT DISTINCT user_id, canon FROM action
), progress_row AS (
  SELECT pair_key.user_id, pair_key.canon, t.${P.specializationId}::text AS sid, t.${P.level} AS stored_level
  FROM pair_key JOIN id_group ON id_group.canon = pair_key.canon JOIN ${pt} t ON t.${P.userId} = pair_key.user_id AND t.${P.specializationId} = id_group.sid
  ORDER BY pair_key.user_id, id_group.sid
  FOR UPDATE OF t
), license_row AS (
  SELECT pair_key.user_id, pair_key.canon, t.${L.specializationId}::text AS sid, t.${L.level} AS stored_level, t.${L.maxAchievedLevel} AS max_achieved
  FROM pair_key JOIN id_group ON id_group.canon = pair_key.canon JOIN ${lt} t ON t.${L.userId} = pair_key.user_id AND t.${L.specializationId} = id_group.sid
  WHERE (SELECT count(*) FROM progress_row) >= 0
  ORDER BY pair_key.user_id, id_group.sid
  FOR UPDATE OF t
), progress_found AS (
  SELECT user_id, canon, count(*) AS row_count, min(sid) AS sid, min(stored_level) AS stored_level FROM progress_row GROUP BY user_id, canon
), license_found AS (
  SELECT user_id, canon, count(*) AS row_count, min(sid) AS sid, min(stored_level) AS stored_level, min(max_achieved) AS max_achieved FROM license_row GROUP BY user_id, canon
), verdict AS (
  SELECT action.*,
    ((CASE WHEN action.expects_progress THEN progress_found.row_count = 1 AND progress_found.sid = action.expected_progress_sid AND progress_found.stored_level IS NOT DISTINCT FROM action.expected_progress_level ELSE progress_found.row_count IS NULL END)
     AND (CASE WHEN action.expects_license THEN license_found.row_count = 1 AND license_found.sid = action.expected_license_sid AND license_found.stored_level IS NOT DISTINCT FROM action.expected_license_level AND license_found.max_achieved IS NOT DISTINCT FROM action.expected_license_max
               ELSE license_found.row_count IS NULL END)) IS TRUE AS ok,
    bool_or(action.kind = 'CreateLicense') OVER same_pair AS creates_license,
    bool_or(action.kind = 'CreateProgress') OVER same_pair AS creates_progress,
    -- AlreadyApplied: the pair's rows already hold the state the plan leaves them in.
    ((CASE WHEN action.expects_progress OR bool_or(action.kind = 'CreateProgress') OVER same_pair
           THEN progress_found.row_count = 1 AND progress_found.sid = coalesce(max(action.write_sid) FILTER (WHERE action.kind = 'CreateProgress') OVER same_pair, action.expected_progress_sid)
                AND progress_found.stored_level IS NOT DISTINCT FROM coalesce(max(action.write_level) FILTER (WHERE action.kind IN ('CreateProgress', 'SetProgressLevel')) OVER same_pair, action.expected_progress_level)
           ELSE progress_found.row_count IS NULL END)
     AND (CASE WHEN action.expects_license OR bool_or(action.kind = 'CreateLicense') OVER same_pair
           THEN license_found.row_count = 1 AND license_found.sid = coalesce(max(action.write_sid) FILTER (WHERE action.kind = 'CreateLicense') OVER same_pair, action.expected_license_sid)
                AND license_found.stored_level IS NOT DISTINCT FROM coalesce(max(action.write_level) FILTER (WHERE action.kind IN ('CreateLicense', 'SetLicenseLevel')) OVER same_pair, action.expected_license_level)
                AND license_found.max_achieved IS NOT DISTINCT FROM coalesce(max(action.write_max) FILTER (WHERE action.kind IN ('CreateLicense', 'SetLicenseLevel')) OVER same_pair, action.expected_license_max)
           ELSE license_found.row_count IS NULL END)) IS TRUE AS done
  FROM action
  LEFT JOIN progress_found ON progress_found.user_id = action.user_id AND progress_found.canon = action.canon
  LEFT JOIN license_found ON license_found.user_id = action.user_id AND license_found.canon = action.canon
  WINDOW same_pair AS (PARTITION BY action.user_id, action.canon)
), inserted_license AS (
  INSERT INTO ${lt} AS t (${cols(insertLicense)})
  SELECT ${vals(insertLicense)} FROM verdict WHERE verdict.ok AND verdict.kind = 'CreateLicense' ORDER BY verdict.idx
  ON CONFLICT DO NOTHING
  RETURNING ${licenseIdOut}t.${L.userId} AS user_id, t.${L.specializationId}::text AS sid
), created_license AS (
  SELECT verdict.idx, ${idCol}verdict.user_id, verdict.canon, verdict.write_sid AS sid, verdict.write_level, verdict.reason, verdict.evidence
  FROM verdict JOIN inserted_license inserted ON inserted.user_id = verdict.user_id AND inserted.sid = verdict.write_sid WHERE verdict.ok AND verdict.kind = 'CreateLicense'
), inserted_progress AS (
  INSERT INTO ${pt} AS t (${cols(insertProgress)})
  SELECT ${vals(insertProgress)} FROM verdict WHERE verdict.ok AND verdict.kind = 'CreateProgress' ORDER BY verdict.idx
  ON CONFLICT DO NOTHING
  RETURNING t.${P.userId} AS user_id, t.${P.specializationId}::text AS sid
), created_progress AS (
  SELECT verdict.idx, verdict.user_id, verdict.canon FROM verdict JOIN inserted_progress inserted ON inserted.user_id = verdict.user_id AND inserted.sid = verdict.write_sid WHERE verdict.ok AND verdict.kind = 'CreateProgress'
), updated_progress AS (
  UPDATE ${pt} AS t SET ${setProgress.join(', ')}
  FROM verdict
  WHERE verdict.ok AND verdict.kind = 'SetProgressLevel' AND t.${P.userId} = verdict.user_id AND t.${P.specializationId} = verdict.expected_progress_sid
    AND t.${P.level} IS NOT DISTINCT FROM verdict.expected_progress_level
    AND (NOT verdict.creates_license OR EXISTS (SELECT 1 FROM created_license WHERE created_license.user_id = verdict.user_id AND created_license.canon = verdict.canon))
  RETURNING verdict.idx
), updated_license AS (
  UPDATE ${lt} AS t SET ${setLicense.join(', ')}
  FROM verdict
  WHERE verdict.ok AND verdict.kind = 'SetLicenseLevel' AND t.${L.userId} = verdict.user_id AND t.${L.specializationId} = verdict.expected_license_sid
    AND t.${L.level} IS NOT DISTINCT FROM verdict.expected_license_level AND t.${L.maxAchievedLevel} IS NOT DISTINCT FROM verdict.expected_license_max
    AND (NOT verdict.creates_progress OR EXISTS (SELECT 1 FROM created_progress WHERE created_progress.user_id = verdict.user_id AND created_progress.canon = verdict.canon))
  RETURNING verdict.idx, ${licenseIdOut}verdict.user_id, verdict.expected_license_sid AS sid, verdict.expected_license_level AS from_level, verdict.write_level AS to_level, verdict.reason, verdict.evidence
), history_rows AS (
  INSERT INTO ${ht} (${cols(history)})
  SELECT ${vals(history)}
  FROM (
    SELECT created_license.idx, ${idSel}created_license.user_id, created_license.sid, $21::int4 AS from_level, created_license.write_level AS to_level, created_license.reason, created_license.evidence FROM created_license
    UNION ALL
    SELECT updated.idx, ${upIdSel}updated.user_id, updated.sid, updated.from_level::int4, updated.to_level, updated.reason, updated.evidence FROM updated_license updated
    WHERE updated.from_level IS DISTINCT FROM updated.to_level
  ) level_change
  ORDER BY level_change.idx
  RETURNING 1
)
SELECT idx, false AS done FROM created_license UNION ALL SELECT idx, false FROM created_progress UNION ALL SELECT idx, false FROM updated_progress UNION ALL SELECT idx, false FROM updated_license
UNION ALL SELECT idx, true FROM verdict WHERE NOT verdict.ok AND verdict.done`;
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
    const key = `${pairKeyId(action)}\u0000${side}`;
    if (seen.has(key)) issues.push({ field: `actions[${i}]`, message: `is a second write to the ${side} record of ${formatPairKey(action)} in one batch` });
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
    const key = pairKeyId(action);
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
