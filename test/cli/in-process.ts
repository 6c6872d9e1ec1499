import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ok } from 'neverthrow';
import { createMaxLevelResolver } from 'levelsync';
import { createInMemoryMaxLevelRepository, createInMemorySyncStore, type InMemorySyncStore, type SyncStoreSeed } from 'levelsync/testing';
import type { CliBackend, OpenBackend } from '../../src/cli/cli-backend.js';
import { runCli } from '../../src/cli/run-cli.js';

/** What a run printed and returned. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The specializations the in-memory "database" knows (PLAYER is the legacy id of GANCUJU_PLAYER). */
export const SPECIALIZATIONS = [
  { id: 'GANCUJU_PLAYER', maxLevel: 8 },
  { id: 'PLAYER', maxLevel: 8 },
  { id: 'LFA_FOOTBALL_PLAYER', maxLevel: 8 },
  { id: 'LFA_COACH', maxLevel: 8 },
  { id: 'INTERNSHIP', maxLevel: 3 },
];

/** A store with a little of everything: in sync, both mismatches, both orphans, above max, legacy id. */
export function sampleStore(): InMemorySyncStore {
  const seed: SyncStoreSeed = {
    specializations: SPECIALIZATIONS,
    progress: [
      { userId: 1, specializationId: 'LFA_COACH', level: 3 }, // in sync
      { userId: 2, specializationId: 'LFA_COACH', level: 4 }, // progress ahead
      { userId: 3, specializationId: 'LFA_COACH', level: 2 }, // license ahead (admin advanced)
      { userId: 4, specializationId: 'INTERNSHIP', level: 1 }, // no license
      { userId: 6, specializationId: 'INTERNSHIP', level: 3 }, // license above max
      { userId: 7, specializationId: 'PLAYER', level: 2 }, // legacy id, in sync
    ],
    licenses: [
      { userId: 1, specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 },
      { userId: 2, specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 },
      { userId: 3, specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 },
      { userId: 5, specializationId: 'GANCUJU_PLAYER', level: 2, maxAchievedLevel: 2 }, // no progress
      { userId: 6, specializationId: 'INTERNSHIP', level: 5, maxAchievedLevel: 5 },
      { userId: 7, specializationId: 'PLAYER', level: 2, maxAchievedLevel: 2 },
    ],
  };
  return createInMemorySyncStore(seed);
}

/** An `OpenBackend` over an in-memory store and repository; counts how often it was opened and closed. */
export function memoryBackend(store: InMemorySyncStore, values: Record<string, number | null> = { GANCUJU_PLAYER: 8, LFA_FOOTBALL_PLAYER: 8, LFA_COACH: 8, INTERNSHIP: 3 }) {
  const stats = { opened: 0, closed: 0 };
  const open: OpenBackend = async (args) => {
    stats.opened++;
    const backend: CliBackend = {
      target: 'memory',
      mapping: args.mapping,
      store,
      resolver: createMaxLevelResolver({ repositories: [createInMemoryMaxLevelRepository({ name: 'db', values })] }),
      migrate: async () => ok({ schema: 'levelsync', applied: ['0001_initial'], current: ['0001_initial'], specializationsAdded: [] }),
      close: async () => {
        stats.closed++;
      },
    };
    return ok(backend);
  };
  return { open, stats };
}

/** Runs the command in-process with captured output. */
export async function run(
  argv: readonly string[],
  options: { openBackend?: OpenBackend; cwd?: string; env?: Record<string, string | undefined>; tty?: boolean } = {},
): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const tty = options.tty ?? false;
  const code = await runCli(
    argv,
    {
      stdout: { write: (t: string) => (stdout += t), isTTY: tty },
      stderr: { write: (t: string) => (stderr += t), isTTY: tty, columns: 100 } as { write(t: string): unknown; isTTY: boolean },
      env: options.env ?? {},
      cwd: options.cwd ?? tempDir(),
    },
    options.openBackend ? { openBackend: options.openBackend } : {},
  );
  return { code, stdout, stderr };
}

const created: string[] = [];

/** A new empty folder under the system's temp dir, removed by {@link removeTempDirs}. */
export function tempDir(prefix = 'levelsync-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes the folders {@link tempDir} made in this test file (call it in `afterAll`). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}
