import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { describeWithServer, useTestDatabase } from '../support/postgres-server.js';
import { seedOriginal } from './support/continuous-world.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = `${ROOT}src/cli/main.ts`;
const TSX = pathToFileURL(`${ROOT}node_modules/tsx/dist/loader.mjs`).href;
const cwd = mkdtempSync(join(tmpdir(), 'levelsync-cli-continuous-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function levelsync(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('levelsync capture --dry-run', () => {
  it('prints the DDL for the original schema without any database', async () => {
    const result = await levelsync(['capture', 'install', '--mapping', 'original', '--schema', 'app', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('CREATE TABLE IF NOT EXISTS "app"."levelsync_changes"');
    expect(result.stdout).toContain('AFTER UPDATE ON "app"."specialization_progress" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT');
    expect(result.stdout).toContain('CREATE TRIGGER "levelsync_capture_key_change" AFTER UPDATE OF "student_id", "specialization_id" ON "app"."specialization_progress" FOR EACH ROW');
    expect(result.stdout).not.toContain('REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows');
    const filtered = await levelsync(['capture', 'install', '--mapping', 'original', '--schema', 'app', '--dry-run', '--filter-updates']);
    expect(filtered.stdout).toContain('REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows');
    expect(filtered.stdout).not.toContain('levelsync_capture_key_change" AFTER');
    expect(result.stdout).not.toContain('pg_notify(\'levelsync_changes\'');
    const uninstall = await levelsync(['capture', 'uninstall', '--mapping', 'original', '--dry-run']);
    expect(uninstall.stdout).toContain('DROP TABLE IF EXISTS "public"."levelsync_changes"');
    const bad = await levelsync(['capture', 'reinstall', '--dry-run']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('install or uninstall');
  }, 60_000);
});

describeWithServer('levelsync capture, check --pending, health and watch on the original schema', () => {
  const database = useTestDatabase('cli_continuous');

  it('install, check --pending, health lag, watch stopped by SIGTERM after repairing, uninstall', async () => {
    const db = database();
    const pool = db.pool;
    const run = (t: string, v?: readonly unknown[]) => pool.query(t, v as unknown[]).then((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 }));
    await seedOriginal(run, 'cli_cont', 100);
    const base = ['--mapping', 'original', '--schema', 'cli_cont', '--database-url', db.url];

    const notInstalled = await levelsync(['watch', ...base]);
    expect(notInstalled.code).toBe(2);
    expect(notInstalled.stderr).toContain('capture install --mapping original');

    expect((await levelsync(['capture', 'install', ...base])).code).toBe(0);
    await pool.query(`UPDATE cli_cont.specialization_progress SET current_level = 8 WHERE student_id <= 7 AND specialization_id = 'LFA_COACH'`);

    const pending = await levelsync(['check', '--pending', '--json', ...base]);
    expect(pending.code).toBe(1);
    const report = JSON.parse(pending.stdout);
    expect(report).toMatchObject({ pending: true, pendingKeys: 7, pairsChecked: 7, pairsNeedingWork: 7 });

    const health = JSON.parse((await levelsync(['health', '--json', ...base])).stdout);
    expect(health.changeCapture).toMatchObject({ installed: true, pending: 7 });

    const watch = spawn(process.execPath, ['--import', TSX, MAIN, 'watch', '--json', ...base], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd } });
    let stdout = '';
    watch.stdout.on('data', (c) => (stdout += String(c)));
    const deadline = Date.now() + 60_000;
    while (!/"type":"batch"/.test(stdout) && Date.now() < deadline) await sleep(100);
    watch.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => watch.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; applied?: number });
    expect(events.filter((e) => e.type === 'batch').reduce((n, e) => n + (e.applied ?? 0), 0)).toBe(7);
    expect(events.at(-1)?.type).toBe('stopped');

    const after = await levelsync(['check', '--pending', ...base]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('no desyncs among the pending pairs');
    expect((await levelsync(['capture', 'uninstall', ...base])).code).toBe(0);
    expect((await pool.query(`SELECT to_regclass('cli_cont.levelsync_changes') AS t`)).rows[0].t).toBeNull();
  }, 180_000);
});
