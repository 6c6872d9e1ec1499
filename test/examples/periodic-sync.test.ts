import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createLevelsyncMapping, createPgSyncStore } from 'levelsync/pg';
import { runSyncJob, type SyncJobLog } from '../../examples/periodic-sync/sync-job.js';
import { removeTempDirs, tempDir } from '../cli/in-process.js';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { countingPGlite, countingPool } from '../support/counting-client.js';
import { SAMPLE, levels, reset, useExampleDatabase } from './example-database.js';

describe('examples/periodic-sync', () => {
  afterAll(removeTempDirs);
  const database = useExampleDatabase('periodic_sync');
  let logDir = '';
  let clock = 0;
  // A clock one second apart per call, so that each run gets its own log name.
  const now = () => new Date(Date.UTC(2026, 0, 2, 6, 0, 0) + 1000 * clock++);

  beforeEach(async () => {
    logDir = join(tempDir(), 'sync_jobs');
    await reset(database().run, SAMPLE);
  });

  const readLog = (log: SyncJobLog) => JSON.parse(readFileSync(log.file, 'utf8'));

  it('repairs, writes a JSON job log, and never lowers a license staff advanced', async () => {
    const log = await runSyncJob({ pool: database().connection, logDir, now });
    expect(log).toMatchObject({ status: 'success', issuesFound: 4, applied: 4, stale: 0, failed: 0, flagged: 0 });
    expect(log.file).toBe(join(logDir, '20260102_060000_sync.json'));
    expect(readLog(log)).toEqual(JSON.parse(JSON.stringify(log)));
    const after = await levels(database().run);
    expect(after.licenses['2/GANCUJU_PLAYER']).toBe(3); // the original's job lowered it to 2
    expect(after.progress['2/GANCUJU_PLAYER']).toBe(3); // levelsync raised the progress instead

    const again = await runSyncJob({ pool: database().connection, logDir, now });
    expect(again).toMatchObject({ status: 'success', issuesFound: 0, applied: 0, message: 'No desync issues' });
    expect(readdirSync(logDir)).toHaveLength(2);
  });

  it('partial_failure when a batch fails: that batch is rolled back, the others are applied', async () => {
    await database().run(`CREATE OR REPLACE FUNCTION levelsync.refuse_user_4() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.user_id = 4 THEN RAISE EXCEPTION 'refused by a trigger'; END IF; RETURN NEW; END $$`);
    await database().run(`CREATE TRIGGER refuse_user_4 BEFORE INSERT ON levelsync.progress FOR EACH ROW EXECUTE FUNCTION levelsync.refuse_user_4()`);
    try {
      const log = await runSyncJob({ pool: database().connection, logDir, now, batchSize: 1 });
      expect(log).toMatchObject({ status: 'partial_failure', issuesFound: 4, applied: 3, failed: 1 });
      expect(readLog(log).status).toBe('partial_failure');
      expect((await levels(database().run)).progress['4/LFA_FOOTBALL_PLAYER']).toBeUndefined();
    } finally {
      await database().run('DROP TRIGGER IF EXISTS refuse_user_4 ON levelsync.progress');
    }
  });

  it('skipped, writing nothing, when another instance holds the run lock', async () => {
    const other = createPgSyncStore(database().other());
    const held = (await other.acquireRunLock({}))._unsafeUnwrap();
    const before = await levels(database().run);
    try {
      const log = await runSyncJob({ pool: database().connection, logDir, now });
      // Lock first: skipped before the scan, so no issue was counted.
      expect(log).toMatchObject({ status: 'skipped', issuesFound: 0, applied: 0, planFingerprint: null });
      expect(log.message).toMatch(/Another levelsync run holds the lock/);
    } finally {
      await held.release();
    }
    expect(await levels(database().run)).toEqual(before);
  });

  it('a shard whose run lock another session holds is skipped before its scan: no statement reads a table', async () => {
    const counting = database().kind === 'server' ? countingPool(database().connection as pg.Pool) : countingPGlite(database().connection as PGlite);
    const shard = { index: 1, count: 2 };
    // Another instance on the same shard: on the server its own pool (another session); PGlite
    // has one session, where the run lock is the store's in-process table of that database.
    const holder = createPgSyncStore(database().kind === 'server' ? database().other() : counting.connection);
    const held = (await holder.acquireRunLock({ shard }))._unsafeUnwrap();
    const before = await levels(database().run);
    counting.reset();
    try {
      const log = await runSyncJob({ pool: counting.connection, shard, logDir, now });
      expect(log).toMatchObject({ status: 'skipped', issuesFound: 0, applied: 0 });
      expect(log.message).toMatch(/Another levelsync run holds the lock for shard 2\/2/);
      expect(readLog(log).status).toBe('skipped');
    } finally {
      await held.release();
    }
    const texts = counting.statements.map((s) => s.text);
    const reads = texts.filter((t) => /\b(progress|licenses|license_progressions|specializations)\b/.test(t));
    console.log(`shard job under a held lock: ${texts.length} statement(s) [${texts.map((t) => t.replace(/\s+/g, ' ').slice(0, 50)).join(' | ')}], ${reads.length} reading a table`);
    expect(reads).toEqual([]);
    if (database().kind === 'server') expect(texts.some((t) => /pg_try_advisory_lock/.test(t))).toBe(true);
    expect(await levels(database().run)).toEqual(before);
    // Once the lock is free, the same shard runs.
    expect((await runSyncJob({ pool: counting.connection, shard, logDir, now })).status).toBe('success');
  });

  it('error, with a log, when the tables cannot be read', async () => {
    const mapping = createLevelsyncMapping({ schema: 'no_such_schema' })._unsafeUnwrap();
    const log = await runSyncJob({ pool: database().connection, mapping, logDir, now });
    expect(log.status).toBe('error');
    expect(log.message).toMatch(/no_such_schema/);
    expect(existsSync(log.file)).toBe(true);
  });
});
