import type pg from 'pg';
import { syncPair, type MaxLevelResolver } from 'levelsync';
import { createPgSyncStore, pgClient } from 'levelsync/pg';
import { changesOfSyncPair, type LevelChange } from './invariants.js';
import type { Rng } from './reliability.js';
import { ALIAS_OF, maxOf, type World } from './world.js';

/**
 * Live traffic next to bulk runs, the way a service produces it:
 * - `progress-hook`: BEGIN; lock the pair (`readPair({ lock: true })`); level the progress record
 *   up (or create it at level 1, as a first XP gain does); `syncPair(progress-to-license)` on the
 *   same session; COMMIT.
 * - `license-hook`: BEGIN; lock the license (as examples/service-hooks does: license first);
 *   advance it one level with its progression row; `syncPair(license-to-progress)`; COMMIT.
 * - `progress-plain`: one autocommit UPDATE setting a random level (up or down).
 * - `license-plain`: a staff edit: UPDATE to a random level (max achieved raised, never lowered)
 *   and its progression row, in one transaction.
 * Every committed change is logged with the value it replaced (read with the row locked).
 */
export type WriterKind = 'progress-hook' | 'license-hook' | 'progress-plain' | 'license-plain';

export interface TrafficStats {
  ops: number;
  /** Committed level changes (writers' own and those of their syncPair calls). */
  changes: number;
  hookWrites: number;
  /** Transactions rolled back because of a unique violation (a concurrent creation won). */
  uniqueConflicts: number;
  /** Transactions PostgreSQL rolled back to break a deadlock. */
  deadlocks: number;
  /** syncPair reports whose last attempt mixed Applied and Stale outcomes (would make the log incomplete). */
  mixedOutcomes: number;
  /** Unexpected errors (the test fails on any). */
  errors: string[];
}

export function emptyStats(): TrafficStats {
  return { ops: 0, changes: 0, hookWrites: 0, uniqueConflicts: 0, deadlocks: 0, mixedOutcomes: 0, errors: [] };
}

const storedIdsOf = (canonical: string) => [canonical, ...[...ALIAS_OF].filter(([, c]) => c === canonical).map(([a]) => a)];
const isValidLevel = (level: unknown, max: number | undefined): level is number =>
  typeof level === 'number' && Number.isInteger(level) && level >= 1 && max !== undefined && level <= max;

/** One writer operation on one pair; returns the committed changes (empty when rolled back). */
export async function writerOperation(
  kind: WriterKind,
  pool: pg.Pool,
  world: World,
  resolver: MaxLevelResolver,
  key: { readonly userId: number; readonly specializationId: string },
  rng: Rng,
  stats: TrafficStats,
  source: string,
): Promise<LevelChange[]> {
  const { t, c } = world;
  const ids = storedIdsOf(key.specializationId);
  const client = await pool.connect();
  const log: LevelChange[] = [];
  let inTransaction = false;
  stats.ops++;
  try {
    switch (kind) {
      case 'progress-plain': {
        const max = maxOf(key.specializationId);
        if (max === undefined) return [];
        const level = rng.int(1, max);
        const result = await client.query(
          `WITH o AS (SELECT ${c.pId} AS id, ${c.pLevel} AS level FROM ${t.progress} WHERE ${c.pUser} = $1 AND ${c.pSpec} = ANY ($2::text[]) ORDER BY ${c.pId} LIMIT 1 FOR UPDATE)
           UPDATE ${t.progress} x SET ${c.pLevel} = $3 FROM o WHERE x.${c.pId} = o.id AND o.level BETWEEN 1 AND $4
           RETURNING o.level AS old, x.${c.pSpec}::text AS sid`,
          [key.userId, ids, level, max],
        );
        for (const row of result.rows) log.push({ side: 'progress', userId: key.userId, specializationId: row.sid, from: Number(row.old), to: level, source });
        break;
      }
      case 'license-plain': {
        const max = maxOf(key.specializationId);
        if (max === undefined) return [];
        const level = rng.int(1, max);
        await client.query('BEGIN');
        inTransaction = true;
        const result = await client.query(
          `WITH o AS (SELECT ${c.lId} AS id, ${c.lLevel} AS level, ${c.lMax} AS mx FROM ${t.licenses} WHERE ${c.lUser} = $1 AND ${c.lSpec} = ANY ($2::text[]) ORDER BY ${c.lId} LIMIT 1 FOR UPDATE)
           UPDATE ${t.licenses} x SET ${c.lLevel} = $3, ${c.lMax} = greatest(x.${c.lMax}, $3) FROM o
           WHERE x.${c.lId} = o.id AND o.level BETWEEN 1 AND $4 AND o.mx IS NOT NULL AND o.mx >= o.level
           RETURNING x.${c.lId} AS id, o.level AS old, x.${c.lSpec}::text AS sid`,
          [key.userId, ids, level, max],
        );
        const row = result.rows[0];
        if (row && Number(row.old) !== level) {
          await client.query(`INSERT INTO ${t.history} (${c.hLicense}, ${c.hFrom}, ${c.hTo}, ${c.hReason}) VALUES ($1, $2, $3, $4)`, [
            row.id,
            row.old,
            level,
            `${source}: staff edit`,
          ]);
        }
        await client.query('COMMIT');
        inTransaction = false;
        if (row) log.push({ side: 'license', userId: key.userId, specializationId: row.sid, from: Number(row.old), to: level, source });
        break;
      }
      case 'progress-hook':
      case 'license-hook': {
        await client.query('BEGIN');
        inTransaction = true;
        const store = createPgSyncStore(pgClient(client), { mapping: world.mapping });
        if (kind === 'progress-hook') {
          // Lock the pair the way levelsync does (the pair's advisory lock where a table has no
          // unique key, then its rows, progress first) before creating a missing record.
          const locked = await store.readPair(key, { aliases: resolver.catalog.aliasMap, lock: true });
          if (locked.isErr()) throw (locked.error as { cause?: unknown }).cause ?? new Error(locked.error.message);
          const rows = (
            await client.query(
              `SELECT ${c.pId} AS id, ${c.pSpec}::text AS sid, ${c.pLevel} AS level FROM ${t.progress} WHERE ${c.pUser} = $1 AND ${c.pSpec} = ANY ($2::text[]) ORDER BY ${c.pId} FOR UPDATE`,
              [key.userId, ids],
            )
          ).rows;
          const max = maxOf(key.specializationId);
          if (rows.length === 0 && max !== undefined) {
            // A first gain creates the record (a concurrent creation makes this fail: unique violation).
            await client.query(`INSERT INTO ${t.progress} (${c.pUser}, ${c.pSpec}, ${c.pLevel}) VALUES ($1, $2, 1)`, [key.userId, key.specializationId]);
            log.push({ side: 'progress', userId: key.userId, specializationId: key.specializationId, from: null, to: 1, source });
          } else if (rows.length === 1 && isValidLevel(rows[0].level, maxOf(rows[0].sid)) && rows[0].level < maxOf(rows[0].sid)!) {
            const to = rows[0].level + 1;
            await client.query(`UPDATE ${t.progress} SET ${c.pLevel} = $2 WHERE ${c.pId} = $1`, [rows[0].id, to]);
            log.push({ side: 'progress', userId: key.userId, specializationId: rows[0].sid, from: rows[0].level, to, source });
          }
        } else {
          const rows = (
            await client.query(
              `SELECT ${c.lId} AS id, ${c.lSpec}::text AS sid, ${c.lLevel} AS level, ${c.lMax} AS mx FROM ${t.licenses} WHERE ${c.lUser} = $1 AND ${c.lSpec} = ANY ($2::text[]) ORDER BY ${c.lId} FOR UPDATE`,
              [key.userId, ids],
            )
          ).rows;
          const row = rows[0];
          if (rows.length === 1 && isValidLevel(row.level, maxOf(row.sid)) && row.level < maxOf(row.sid)! && row.mx !== null && row.mx >= row.level) {
            const to = row.level + 1;
            await client.query(`UPDATE ${t.licenses} SET ${c.lLevel} = $2, ${c.lMax} = greatest(${c.lMax}, $2) WHERE ${c.lId} = $1`, [row.id, to]);
            await client.query(`INSERT INTO ${t.history} (${c.hLicense}, ${c.hFrom}, ${c.hTo}, ${c.hReason}) VALUES ($1, $2, $3, $4)`, [
              row.id,
              row.level,
              to,
              `${source}: advancement`,
            ]);
            log.push({ side: 'license', userId: key.userId, specializationId: row.sid, from: row.level, to, source });
          }
        }
        const synced = await syncPair(store, key, {
          resolver,
          policy: { direction: kind === 'progress-hook' ? 'progress-to-license' : 'license-to-progress' },
        });
        if (synced.isErr()) {
          // The store reports the driver error on `cause`: a deadlock or unique violation is traffic, anything else a failure.
          throw (synced.error as { cause?: unknown }).cause ?? new Error(synced.error.message);
        }
        const report = synced.value;
        if (new Set(report.outcomes).size > 1) stats.mixedOutcomes++;
        const changes = changesOfSyncPair(report.actions, report.outcomes, `${source}:syncPair`);
        await client.query('COMMIT');
        inTransaction = false;
        stats.hookWrites += report.outcomes.filter((o) => o === 'Applied').length;
        log.push(...changes);
        break;
      }
    }
    stats.changes += log.filter((change) => change.from !== change.to).length;
    return log;
  } catch (cause) {
    if (inTransaction) await client.query('ROLLBACK').catch(() => undefined);
    const code = (cause as { code?: string }).code;
    if (code === '40P01') stats.deadlocks++;
    else if (code === '23505') stats.uniqueConflicts++;
    else stats.errors.push(`${kind} ${key.userId}/${key.specializationId}: ${(cause as Error).message ?? String(cause)}`);
    return [];
  } finally {
    client.release();
  }
}
