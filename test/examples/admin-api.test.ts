import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ORIGINAL_SYSTEM_MAPPING, createPgMapping, createPgSyncStore } from 'levelsync/pg';
import { MAX_PAGE_SIZE, createAdminApi, createAdminApp } from '../../examples/admin-api/admin-api.js';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { countingPGlite, countingPool } from '../support/counting-client.js';
import { createOriginalSchema } from '../support/original-schema.js';
import { SAMPLE, levels, reset, useExampleDatabase } from './example-database.js';

describe('examples/admin-api', () => {
  const database = useExampleDatabase('admin_api');
  let server: Server;
  let base = '';

  beforeAll(async () => {
    server = createAdminApi({ pool: database().connection });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(async () => {
    await reset(database().run, SAMPLE);
  });

  const call = async (method: string, path: string, user?: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...(user ? { 'x-user': user } : {}), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, json: await response.json() };
  };

  it('lists desyncs for admins and instructors, optionally by specialization (legacy ids accepted)', async () => {
    const all = await call('GET', '/admin/sync/desync-issues', 'instructor:7');
    expect(all.status).toBe(200);
    expect(all.json).toMatchObject({ total: 4, issueCount: 4, byKind: { LevelMismatch: 2, MissingLicense: 1, MissingProgress: 1 }, nextCursor: null });
    const player = await call('GET', '/admin/sync/desync-issues?specialization=player', 'admin:1');
    expect(player.status).toBe(200);
    expect(player.json.issues.map((i: { userId: number; specializationId: string }) => `${i.userId}/${i.specializationId}`)).toEqual(['2/GANCUJU_PLAYER']);
  });

  it('401 without credentials, 403 with the wrong role (the original messages)', async () => {
    expect((await call('GET', '/admin/sync/desync-issues')).status).toBe(401);
    const student = await call('GET', '/admin/sync/desync-issues', 'student:42');
    expect(student).toEqual({ status: 403, json: { error: 'Only admins and instructors can view sync issues' } });
    const sync = await call('POST', '/admin/sync/user/1', 'student:42', { specialization: 'LFA_COACH' });
    expect(sync).toEqual({ status: 403, json: { error: 'Only admins and instructors can sync progress' } });
    const bulk = await call('POST', '/admin/sync/all', 'instructor:7', {});
    expect(bulk).toEqual({ status: 403, json: { error: 'Only admins can perform bulk sync' } });
  });

  it('400 naming the bad field, and nothing written', async () => {
    const before = await levels(database().run);
    const cases: [string, unknown, string][] = [
      ['/admin/sync/user/1', {}, 'specialization'],
      ['/admin/sync/user/1', { specialization: 'LFA_COACH', direction: 'sideways' }, 'direction'],
      ['/admin/sync/user/1', { specialization: 'no such id!' }, 'specialization'],
      ['/admin/sync/user/1', { specialization: 'BASKETBALL' }, 'specialization'],
      ['/admin/sync/user/1', { specialization: 'LFA_COACH', dryRun: true }, 'dryRun'],
      ['/admin/sync/user/abc', { specialization: 'LFA_COACH' }, 'userId'],
      ['/admin/sync/user/1', '{not json', '(body)'],
      ['/admin/sync/all', { dry_run: 'no' }, 'dry_run'],
    ];
    for (const [path, body, field] of cases) {
      const r = await call('POST', path, 'admin:1', body);
      expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(r.json.field).toBe(field);
      expect(r.json.error).toContain(field === '(body)' ? 'not valid JSON' : field);
    }
    expect((await call('GET', '/admin/sync/desync-issues?specialization=', 'admin:1')).json.field).toBe('specialization');
    expect(await levels(database().run)).toEqual(before);
  });

  it('syncs one user for one specialization (instructor allowed), recording who did it', async () => {
    const r = await call('POST', '/admin/sync/user/1', 'instructor:7', { specialization: 'coach' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ userId: 1, specialization: 'LFA_COACH', inSync: true, actions: [{ kind: 'SetLicenseLevel', change: 'license 2 → 3, max achieved 2 → 3', outcome: 'Applied' }] });
    expect((await levels(database().run)).licenses['1/LFA_COACH']).toBe(3);
    const history = await database().run(`SELECT advanced_by::int AS by, from_level, to_level FROM levelsync.license_progressions ORDER BY id DESC LIMIT 1`);
    expect(history.rows[0]).toEqual({ by: 7, from_level: 2, to_level: 3 });
    expect((await call('POST', '/admin/sync/user/999', 'admin:1', { specialization: 'LFA_COACH' })).status).toBe(404);
  });

  it("never lowers a license staff advanced, even when asked for the original's progress_to_license", async () => {
    const r = await call('POST', '/admin/sync/user/2', 'admin:1', { specialization: 'GANCUJU_PLAYER', direction: 'progress_to_license' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ direction: 'progress-to-license', inSync: false, actions: [{ kind: 'FlagForReview', outcome: 'Flagged' }] });
    expect((await levels(database().run)).licenses['2/GANCUJU_PLAYER']).toBe(3);
  });

  it('syncs one user across every specialization they have', async () => {
    await database().run(`INSERT INTO levelsync.progress (user_id, specialization_id, level) VALUES (3, 'LFA_COACH', 2)`);
    const r = await call('POST', '/admin/sync/user/3/all', 'instructor:7', {});
    expect(r.status).toBe(200);
    expect(Object.keys(r.json.results).sort()).toEqual(['INTERNSHIP', 'LFA_COACH']);
    const after = await levels(database().run);
    expect(after.licenses).toMatchObject({ '3/INTERNSHIP': 1, '3/LFA_COACH': 2 });
  });

  it('bulk sync is a dry run unless the body says dry_run: false', async () => {
    const before = await levels(database().run);
    const dry = await call('POST', '/admin/sync/all', 'admin:1', {});
    expect(dry.status).toBe(200);
    expect(dry.json).toMatchObject({ dryRun: true, totalIssues: 4, counts: { Planned: 4, Applied: 0 }, message: 'Dry run complete. No changes made.' });
    expect(await levels(database().run)).toEqual(before);
    const real = await call('POST', '/admin/sync/all', 'admin:1', { dry_run: false });
    expect(real.json).toMatchObject({ dryRun: false, status: 'Completed', counts: { Applied: 4, Failed: 0 } });
    const health = await call('GET', '/admin/health', 'instructor:7');
    expect(health.json).toMatchObject({ status: 'healthy', totalPairs: 5, consistentPairs: 5 });
  });

  it('409 when a bulk run is already in progress', async () => {
    const other = createPgSyncStore(database().other());
    const held = (await other.acquireRunLock({}))._unsafeUnwrap();
    try {
      const r = await call('POST', '/admin/sync/all', 'admin:1', { dry_run: false });
      expect(r.status).toBe(409);
      expect(r.json.error).toMatch(/Another levelsync run holds the lock/);
    } finally {
      await held.release();
    }
    expect((await call('POST', '/admin/sync/all', 'admin:1', { dry_run: false })).status).toBe(200);
  });

  it('409 from a held run lock before any scan: no statement reads a table, nothing written', async () => {
    const counting = database().kind === 'server' ? countingPool(database().connection as pg.Pool) : countingPGlite(database().connection as PGlite);
    const app = createAdminApp({ pool: counting.connection });
    // Another run: on the server its own pool (another session); PGlite has one session, where
    // the run lock is the store's in-process table of that database.
    const holder = createPgSyncStore(database().kind === 'server' ? database().other() : counting.connection);
    const held = (await holder.acquireRunLock({}))._unsafeUnwrap();
    const before = await levels(database().run);
    counting.reset();
    try {
      const r = await app.request('/admin/sync/all', { method: 'POST', headers: { 'x-user': 'admin:1', 'content-type': 'application/json' }, body: '{"dry_run": false}' });
      expect(r.status).toBe(409);
      expect(((await r.json()) as { error: string }).error).toMatch(/Another levelsync run holds the lock/);
    } finally {
      await held.release();
    }
    const texts = counting.statements.map((s) => s.text);
    const reads = texts.filter((t) => /\b(progress|licenses|license_progressions|specializations)\b/.test(t));
    console.log(`bulk sync under a held lock: ${texts.length} statement(s) [${texts.map((t) => t.replace(/\s+/g, ' ').slice(0, 50)).join(' | ')}], ${reads.length} reading a table`);
    expect(reads).toEqual([]);
    if (database().kind === 'server') expect(texts.some((t) => /pg_try_advisory_lock/.test(t))).toBe(true);
    expect(await levels(database().run)).toEqual(before);
  });

  it('reports health, counting orphans on both sides', async () => {
    const r = await call('GET', '/admin/health', 'admin:1');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'critical', totalPairs: 5, inconsistentPairs: 4, orphans: { progressOnly: 1, licenseOnly: 1 } });
  });

  it('pages of 100 over 10 000 issues cover each issue exactly once, in a stable order', async () => {
    await reset(database().run, {});
    await database().run(`INSERT INTO levelsync.progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 3 FROM generate_series(1, 10000) u`);
    await database().run(`INSERT INTO levelsync.licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 2, 2 FROM generate_series(1, 10000) u`);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: { status: number; json: any } = await call('GET', `/admin/sync/desync-issues?limit=100${cursor ? `&cursor=${cursor}` : ''}`, 'admin:1');
      expect(r.status).toBe(200);
      expect(r.json.total).toBe(10_000);
      expect(r.json.issues.length).toBeLessThanOrEqual(100);
      for (const issue of r.json.issues) seen.push(`${issue.userId}/${issue.specializationId}/${issue.kind}`);
      cursor = r.json.nextCursor;
      pages++;
    } while (cursor !== null && pages < 200);
    expect(pages).toBe(100);
    expect(seen).toHaveLength(10_000);
    expect(new Set(seen).size).toBe(10_000);
    expect(seen.slice(0, 3)).toEqual(['1/LFA_COACH/LevelMismatch', '2/LFA_COACH/LevelMismatch', '3/LFA_COACH/LevelMismatch']);
    expect(seen.at(-1)).toBe('10000/LFA_COACH/LevelMismatch');
  }, 300_000);

  /** `count` LevelMismatch pairs (user u, LFA_COACH), users 1…count. */
  const mismatches = async (count: number) => {
    await reset(database().run, {});
    await database().run(`INSERT INTO levelsync.progress (user_id, specialization_id, level) SELECT u, 'LFA_COACH', 3 FROM generate_series(1, ${count}) u`);
    await database().run(`INSERT INTO levelsync.licenses (user_id, specialization_id, level, max_achieved_level) SELECT u, 'LFA_COACH', 2, 2 FROM generate_series(1, ${count}) u`);
  };
  const keyOf = (issue: { userId: number; specializationId: string }) => `${issue.userId}/${issue.specializationId}`;

  it('a page started from a cursor reads no pair at or before the cursor, and stops reading after the page', async () => {
    await mismatches(5_000);
    const counting = database().kind === 'server' ? countingPool(database().connection as pg.Pool) : countingPGlite(database().connection as PGlite);
    const app = createAdminApp({ pool: counting.connection });
    const get = async (query: string) => (await (await app.request(`/admin/sync/desync-issues?${query}`, { headers: { 'x-user': 'admin:1' } })).json()) as any;
    let cursor: string = (await get('limit=100')).nextCursor;
    for (let page = 2; page <= 20; page++) cursor = (await get(`limit=100&cursor=${cursor}`)).nextCursor;
    // Pages 1–20 hold users 1…2000: the next page starts after user 2000.
    counting.reset();
    const page = await get(`limit=100&cursor=${cursor}`);
    expect(page.issues.map(keyOf)).toEqual(Array.from({ length: 100 }, (_, i) => `${2001 + i}/LFA_COACH`));
    expect(page.total).toBe(5_000);
    const fetched = counting.statements.filter((s) => /^FETCH /.test(s.text)).flatMap((s) => s.rows ?? []);
    const users = fetched.map((row) => Number(row['u']));
    expect(users.length).toBeGreaterThan(100);
    expect(Math.min(...users)).toBe(2001);
    // One FETCH (of at most MAX_PAGE_SIZE + 1 rows) holds the page and the pair after it; the
    // 3 000 pairs after the cursor are not all read.
    expect(users.length).toBeLessThanOrEqual(MAX_PAGE_SIZE + 1);
  });

  it('a desync inserted between pages: no issue twice, none skipped, one after the cursor listed', async () => {
    await mismatches(1_000);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: { status: number; json: any } = await call('GET', `/admin/sync/desync-issues?limit=100${cursor ? `&cursor=${cursor}` : ''}`, 'admin:1');
      seen.push(...r.json.issues.map(keyOf));
      cursor = r.json.nextCursor;
      if (++pages === 3) {
        // Before the cursor (user 50: an earlier key), and after it (user 700, another specialization).
        await database().run(`INSERT INTO levelsync.progress (user_id, specialization_id, level) VALUES (50, 'INTERNSHIP', 2), (700, 'INTERNSHIP', 2)`);
      }
    } while (cursor !== null && pages < 50);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toContain('700/INTERNSHIP');
    expect(seen).not.toContain('50/INTERNSHIP');
    expect(seen.filter((k) => k.endsWith('/LFA_COACH'))).toHaveLength(1_000);
    expect(seen.indexOf('700/INTERNSHIP')).toBe(seen.indexOf('700/LFA_COACH') - 1);
  });

  it('a cursor is tied to its listing: another specialization filter is a 400 naming cursor', async () => {
    await mismatches(5);
    const first = await call('GET', '/admin/sync/desync-issues?limit=2', 'admin:1');
    expect(first.json).toMatchObject({ total: 5, issueCount: 5, byKind: { LevelMismatch: 5 } });
    const other = await call('GET', `/admin/sync/desync-issues?limit=2&specialization=INTERNSHIP&cursor=${first.json.nextCursor}`, 'admin:1');
    expect(other).toMatchObject({ status: 400, json: { field: 'cursor' } });
    const next = await call('GET', `/admin/sync/desync-issues?limit=2&cursor=${first.json.nextCursor}`, 'admin:1');
    expect(next.json).toEqual({ total: 5, limit: 2, issues: [expect.objectContaining({ userId: 3 }), expect.objectContaining({ userId: 4 })], nextCursor: expect.any(String) });
  });

  it('415 for a body not sent as JSON, rather than a quiet dry run', async () => {
    const before = await levels(database().run);
    const response = await fetch(`${base}/admin/sync/all`, { method: 'POST', headers: { 'x-user': 'admin:1', 'content-type': 'application/x-www-form-urlencoded' }, body: '{"dry_run": false}' });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ field: '(body)' });
    expect(await levels(database().run)).toEqual(before);
    const noBody = await fetch(`${base}/admin/sync/all`, { method: 'POST', headers: { 'x-user': 'admin:1' } });
    expect(await noBody.json()).toMatchObject({ dryRun: true });
  });

  it('400 for a bad limit or cursor, naming it', async () => {
    for (const [query, field] of [['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=ten', 'limit'], ['cursor=nonsense', 'cursor'], ['page=2', 'page']] as const) {
      const r = await call('GET', `/admin/sync/desync-issues?${query}`, 'admin:1');
      expect(r.status, query).toBe(400);
      expect(r.json.field, query).toBe(field);
    }
  });

  it("the original system's tables: rows under PLAYER and COACH are a summary, not issues, and not in total", async () => {
    const schema = 'admin_api_original';
    await createOriginalSchema(database().run, { schema });
    await database().run(`INSERT INTO ${schema}.users (id, name) SELECT u, 'user ' || u FROM generate_series(1, 6) u`);
    await database().run(`INSERT INTO ${schema}.specializations (id, name, max_levels) VALUES
      ('GANCUJU_PLAYER', 'GanCuju Player', 8), ('LFA_COACH', 'LFA Coach', 8), ('LFA_FOOTBALL_PLAYER', 'LFA Football Player', 8),
      ('INTERNSHIP', 'Internship', 3), ('PLAYER', 'Player (legacy)', 8), ('COACH', 'Coach (legacy)', 8)`);
    // In sync under legacy ids (1, 2, 5), a real mismatch under canonical ids (3), a mismatch under a legacy id (4).
    await database().run(`INSERT INTO ${schema}.specialization_progress (student_id, specialization_id, current_level) VALUES
      (1, 'PLAYER', 3), (2, 'COACH', 2), (3, 'GANCUJU_PLAYER', 4), (4, 'PLAYER', 5), (5, 'LFA_COACH', 2)`);
    await database().run(`INSERT INTO ${schema}.user_licenses (user_id, specialization_type, current_level, max_achieved_level, started_at) VALUES
      (1, 'PLAYER', 3, 3, now()), (2, 'LFA_COACH', 2, 2, now()), (3, 'GANCUJU_PLAYER', 2, 2, now()), (4, 'PLAYER', 3, 3, now()), (5, 'COACH', 2, 2, now())`);
    try {
      const mapping = createPgMapping({ schema }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
      const app = createAdminApp({ pool: database().connection, mapping });
      const response = await app.request('/admin/sync/desync-issues', { headers: { 'x-user': 'admin:1' } });
      expect(response.status).toBe(200);
      const json = (await response.json()) as any;
      expect(json).toMatchObject({ total: 2, issueCount: 2, byKind: { LevelMismatch: 2 } });
      expect(json.issues.map((i: { userId: number; specializationId: string; kind: string }) => `${i.userId}/${i.specializationId}/${i.kind}`)).toEqual([
        '3/GANCUJU_PLAYER/LevelMismatch',
        '4/GANCUJU_PLAYER/LevelMismatch',
      ]);
      expect([...json.legacyIds].sort((a: { storedId: string }, b: { storedId: string }) => a.storedId.localeCompare(b.storedId))).toEqual([
        expect.objectContaining({ storedId: 'COACH', canonicalId: 'LFA_COACH', progressRows: 1, licenseRows: 1, pairs: 2 }),
        expect.objectContaining({ storedId: 'PLAYER', canonicalId: 'GANCUJU_PLAYER', progressRows: 2, licenseRows: 2, pairs: 2 }),
      ]);
      const student = await app.request('/admin/sync/desync-issues', { headers: { 'x-user': 'student:3' } });
      expect(student.status).toBe(403);
    } finally {
      await database().run(`DROP SCHEMA ${schema} CASCADE`);
    }
  });
});
