import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPgSyncStore } from 'levelsync/pg';
import { createAdminApi } from '../../examples/admin-api/admin-api.js';
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
    expect(all.json).toMatchObject({ total: 4, byKind: { LevelMismatch: 2, MissingLicense: 1, MissingProgress: 1 } });
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

  it('reports health, counting orphans on both sides', async () => {
    const r = await call('GET', '/admin/health', 'admin:1');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'critical', totalPairs: 5, inconsistentPairs: 4, orphans: { progressOnly: 1, licenseOnly: 1 } });
  });
});
