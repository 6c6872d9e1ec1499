import type pg from 'pg';
import { expect, it } from 'vitest';
import { applyPlan, createPlan, parsePlan, scanDesyncs, type SyncAction } from 'levelsync';
import { formatPairKey } from '../../src/sync/pair-key.js';
import { createPgSyncStore } from 'levelsync/pg';
import { describeWithServer, useTestDatabase } from '../support/postgres-server.js';
import { actionVisibility, indexSnapshot } from './support/invariants.js';
import { createRng, printFigures, scale, SEED, TEST_TIMEOUT, type Rng } from './support/reliability.js';
import { ALIAS_OF, canonicalOf, createWorld, generateDrift, injectDrift, insertRows, maxOf, snapshot, type Snapshot, type World } from './support/world.js';

// A plan is made, then k of its pairs change before it is applied (either side: levels moved,
// max achieved raised, rows deleted, rows created — under the canonical id or a legacy alias).
// Applying the saved plan must find exactly those k pairs stale, leave them as the change left
// them, and apply everything else.

const USERS = scale(1_500, 8_000);
const ROUNDS = scale(6, 25);
const MAX_K = scale(60, 400);

type Change = 'progress-level' | 'progress-delete' | 'progress-create' | 'license-level' | 'license-max' | 'license-delete' | 'license-create';

describeWithServer('reliability: stale plans', () => {
  const database = useTestDatabase('rel_stale');

  it(
    `${ROUNDS} rounds: k pairs changed between plan and apply → exactly k stale, none overwritten, the rest applied`,
    async () => {
      const db = database();
      const rng = createRng(SEED + 21);
      const world = await createWorld(db.pool, 'levelsync', 'stale');
      await insertRows(db.pool, world, generateDrift(rng, world, Array.from({ length: USERS }, (_, i) => i + 1)));
      const store = createPgSyncStore(db.pool, { mapping: world.mapping, chunkSize: rng.pick([100, 2_000]) });
      const resolver = world.resolver(db.pool);
      let nextUser = USERS + 1;
      const figures = { rounds: 0, plannedWrites: 0, plannedPairs: 0, changedPairs: 0, staleActions: 0, stalePairs: 0, applied: 0, changes: '' };
      const byChange = new Map<Change, number>();

      for (let round = 0; round < ROUNDS; round++) {
        figures.rounds++;
        nextUser = await injectDrift(db.pool, world, rng, nextUser, scale(300, 1_500));
        // Odd rounds clamp levels above the maximum: a pair then gets two writes (both sides).
        const policy = round % 2 === 1 ? { aboveMax: 'clamp' as const } : {};
        const plan = createPlan((await scanDesyncs(store, { resolver }))._unsafeUnwrap(), { policy })._unsafeUnwrap();
        const saved = JSON.stringify(plan); // as `levelsync plan > plan.json` would

        const groups = new Map<string, SyncAction[]>();
        for (const action of plan.actions) {
          if (action.kind === 'FlagForReview') continue;
          groups.set(formatPairKey(action), [...(groups.get(formatPairKey(action)) ?? []), action]);
        }
        const k = rng.int(1, Math.min(MAX_K, groups.size));
        const chosen = new Set(rng.sample([...groups.keys()], k));
        for (const key of chosen) {
          const change = await changePair(db.pool, world, rng, groups.get(key)![0]!);
          byChange.set(change, (byChange.get(change) ?? 0) + 1);
        }
        const changed = await snapshot(db.pool, world);

        const parsed = parsePlan(saved);
        expect(parsed.isOk() ? 'ok' : parsed.error.message).toBe('ok');
        const report = (await applyPlan(parsed._unsafeUnwrap(), store, { batchSize: rng.pick([50, 300, 1_000]) }))._unsafeUnwrap();
        const after = await snapshot(db.pool, world);

        // Exactly the k changed pairs are stale, all their actions; everything else was applied.
        const stalePairs = new Set<string>();
        plan.actions.forEach((action, i) => {
          const status = report.outcomes[i]!.status;
          if (action.kind === 'FlagForReview') expect(status).toBe('Flagged');
          // A change that happens to leave the pair exactly as the plan would is AlreadyApplied: not written either.
          else if (chosen.has(formatPairKey(action))) expect(['Stale', 'AlreadyApplied'], `${formatPairKey(action)} ${action.kind}`).toContain(status);
          else expect(status, `${formatPairKey(action)} ${action.kind}`).toBe('Applied');
          if (status === 'Stale' || status === 'AlreadyApplied') stalePairs.add(formatPairKey(action));
        });
        expect(stalePairs.size).toBe(k);
        expect(report.counts.Failed).toBe(0);

        // None overwritten: the changed pairs hold exactly what the change left, with no new history.
        expect(pairRows(after, chosen)).toEqual(pairRows(changed, chosen));
        // The rest applied, each action with its history row.
        const index = indexSnapshot(after, changed.history.reduce((m, h) => Math.max(m, h.id), 0));
        for (const action of plan.actions) {
          if (action.kind === 'FlagForReview' || chosen.has(formatPairKey(action))) continue;
          expect(actionVisibility(action, index), `${formatPairKey(action)} ${action.kind}`).toBe('written');
        }
        const newHistory = after.history.filter((h) => !changed.history.some((c) => c.id === h.id));
        for (const h of newHistory) expect(chosen.has(pairOfLicense(after, h.licenseId))).toBe(false);

        figures.plannedWrites += report.counts.Applied + report.counts.Stale + report.counts.AlreadyApplied;
        figures.plannedPairs += groups.size;
        figures.changedPairs += k;
        figures.staleActions += report.counts.Stale + report.counts.AlreadyApplied;
        figures.stalePairs += stalePairs.size;
        figures.applied += report.counts.Applied;

        // Leave the round converged: the changed pairs are planned again from their new state.
        const again = createPlan((await scanDesyncs(store, { resolver }))._unsafeUnwrap(), { policy })._unsafeUnwrap();
        const rerun = (await applyPlan(again, store))._unsafeUnwrap();
        expect(rerun.counts.Stale + rerun.counts.Failed).toBe(0);
      }
      figures.changes = [...byChange].map(([c, n]) => `${c}:${n}`).join(',');
      printFigures('stale-plans', figures);
      expect(figures.stalePairs).toBe(figures.changedPairs);
      expect(figures.plannedWrites).toBeGreaterThan(figures.plannedPairs); // some pairs had two writes
      expect(byChange.size).toBeGreaterThanOrEqual(5); // both sides, updates, deletions and creations were exercised
    },
    TEST_TIMEOUT,
  );
});

/** Every row of the given pairs (any stored id), by row id, for comparison. */
function pairRows(snap: Snapshot, keys: ReadonlySet<string>) {
  const inPair = (row: { userId: number; specializationId: string }) => keys.has(`${row.userId}/${canonicalOf(row.specializationId)}`);
  return {
    progress: snap.progress.filter(inPair),
    licenses: snap.licenses.filter(inPair),
    history: snap.history.filter((h) => keys.has(pairOfLicense(snap, h.licenseId))),
  };
}

function pairOfLicense(snap: Snapshot, licenseId: number): string {
  const license = snap.licenseById.get(licenseId);
  return license ? `${license.userId}/${canonicalOf(license.specializationId)}` : '?';
}

/**
 * Changes a planned pair so that it no longer matches the plan's expected state, as a writer
 * between plan and apply would; returns what was done.
 */
async function changePair(pool: pg.Pool, world: World, rng: Rng, action: SyncAction): Promise<Change> {
  const { t, c } = world;
  const { userId, specializationId: canonical, expected } = action;
  const max = maxOf(canonical)!;
  const other = (level: number | null) => {
    const choices = Array.from({ length: max }, (_, i) => i + 1).filter((l) => l !== level);
    return rng.pick(choices);
  };
  const options: Change[] = [];
  if (expected.progress) options.push('progress-level', 'progress-delete');
  else options.push('progress-create');
  if (expected.license) {
    options.push('license-level', 'license-max');
    const history = await pool.query(`SELECT count(*)::int AS n FROM ${t.history} h JOIN ${t.licenses} l ON l.${c.lId} = h.${c.hLicense} WHERE l.${c.lUser} = $1 AND l.${c.lSpec} = $2`, [
      userId,
      expected.license.specializationId,
    ]);
    if (history.rows[0].n === 0) options.push('license-delete');
  } else options.push('license-create');
  const change = rng.pick(options);
  const aliasOrCanonical = () => rng.pick([canonical, ...[...ALIAS_OF].filter(([, x]) => x === canonical).map(([a]) => a)]);
  let result: { rowCount: number | null };
  switch (change) {
    case 'progress-level':
      result = await pool.query(`UPDATE ${t.progress} SET ${c.pLevel} = $3 WHERE ${c.pUser} = $1 AND ${c.pSpec} = $2`, [userId, expected.progress!.specializationId, other(expected.progress!.level)]);
      break;
    case 'progress-delete':
      result = await pool.query(`DELETE FROM ${t.progress} WHERE ${c.pUser} = $1 AND ${c.pSpec} = $2`, [userId, expected.progress!.specializationId]);
      break;
    case 'progress-create':
      result = await pool.query(`INSERT INTO ${t.progress} (${c.pUser}, ${c.pSpec}, ${c.pLevel}) VALUES ($1, $2, $3)`, [userId, aliasOrCanonical(), rng.int(1, max)]);
      break;
    case 'license-level': {
      const to = other(expected.license!.level);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const updated = await client.query(
          `UPDATE ${t.licenses} SET ${c.lLevel} = $3, ${c.lMax} = greatest(${c.lMax}, $3) WHERE ${c.lUser} = $1 AND ${c.lSpec} = $2 RETURNING ${c.lId} AS id`,
          [userId, expected.license!.specializationId, to],
        );
        await client.query(`INSERT INTO ${t.history} (${c.hLicense}, ${c.hFrom}, ${c.hTo}, ${c.hReason}) VALUES ($1, $2, $3, 'staff edit between plan and apply')`, [
          updated.rows[0].id,
          expected.license!.level,
          to,
        ]);
        await client.query('COMMIT');
        result = updated;
      } finally {
        client.release();
      }
      break;
    }
    case 'license-max':
      result = await pool.query(`UPDATE ${t.licenses} SET ${c.lMax} = ${c.lMax} + 1 WHERE ${c.lUser} = $1 AND ${c.lSpec} = $2`, [userId, expected.license!.specializationId]);
      break;
    case 'license-delete':
      result = await pool.query(`DELETE FROM ${t.licenses} WHERE ${c.lUser} = $1 AND ${c.lSpec} = $2`, [userId, expected.license!.specializationId]);
      break;
    case 'license-create': {
      const level = rng.int(1, max);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const created = await client.query(
          `INSERT INTO ${t.licenses} (${c.lUser}, ${c.lSpec}, ${c.lLevel}, ${c.lMax}${world.licenseInsertExtra.columns}) VALUES ($1, $2, $3, $3${world.licenseInsertExtra.values}) RETURNING ${c.lId} AS id`,
          [userId, aliasOrCanonical(), level],
        );
        await client.query(`INSERT INTO ${t.history} (${c.hLicense}, ${c.hFrom}, ${c.hTo}, ${c.hReason}) VALUES ($1, $2, $3, 'created between plan and apply')`, [
          created.rows[0].id,
          world.creationFrom,
          level,
        ]);
        await client.query('COMMIT');
        result = created;
      } finally {
        client.release();
      }
      break;
    }
  }
  expect(result.rowCount, `${change} on ${userId}/${canonical}`).toBe(1);
  return change;
}
