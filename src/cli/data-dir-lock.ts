import { closeSync, linkSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { err, ok, type Result } from 'neverthrow';

/**
 * One writer per embedded database folder, across processes.
 *
 * PGlite runs PostgreSQL inside this process: nothing stops a second process from opening the
 * same folder, and two of them corrupt it (duplicate rows under a unique key, broken heap pages,
 * a folder that no longer opens). Node has no `flock`, so the lock is a file next to the folder
 * (`<folder>.lock`), created atomically: its content (pid, process start time, host) is written
 * to a private temporary file first, which is then hard-linked to the lock name. `link(2)` fails
 * with EEXIST when the lock exists, on every local file system, so exactly one process wins and
 * nobody ever reads a half-written lock.
 *
 * A lock left by a process that died (`kill -9`, a power cut) is recovered: it is stale when its
 * host is this one and its pid is not alive, or is alive but started at another time (the pid
 * was reused: the start time comes from /proc/<pid>/stat). Removal of a stale lock happens under
 * a second lock (`<folder>.lock.recover`, same link technique), so two processes recovering at
 * once cannot delete each other's fresh lock. A lock from another host is never taken over.
 */
export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file (only if it is still ours). Never throws; idempotent. */
  release(): void;
}

/** Who holds a lock, as written in the lock file. */
export interface LockHolder {
  readonly pid: number;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat field 22), or null where unknown. */
  readonly startTime: string | null;
  readonly host: string;
  readonly createdAt: string;
}

/** Why the folder could not be locked. */
export type DataDirLockError =
  | { readonly _tag: 'Held'; readonly holder: LockHolder; readonly path: string }
  | { readonly _tag: 'Failed'; readonly path: string; readonly cause: unknown };

/** The lock file of an embedded database folder. */
export function lockPathOf(dataDir: string): string {
  return join(dirname(dataDir), `${basename(dataDir)}.lock`);
}

/** The start time of a process (clock ticks since boot), or null where /proc is not available. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (cause) {
    return (cause as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the holder is certainly gone: same host, and its pid is dead or belongs to another process now. */
export function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  if (!isAlive(holder.pid)) return true;
  if (holder.startTime === null) return false;
  const now = processStartTime(holder.pid);
  return now !== null && now !== holder.startTime;
}

function readHolder(path: string): LockHolder | null {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string') return null;
    return { pid: value.pid, startTime: typeof value.startTime === 'string' ? value.startTime : null, host: value.host, createdAt: String(value.createdAt ?? '') };
  } catch {
    return null;
  }
}

/** Hard-links a file with `content` to `target`: true when created, false when `target` exists. */
function createExclusive(target: string, content: string): boolean {
  const temporary = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(temporary, 'wx', 0o644);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, target);
    return true;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw cause;
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** A recovery lock older than this belongs to a process that died while recovering (it takes milliseconds). */
const RECOVERY_LOCK_STALE_MS = 10_000;

/**
 * Takes the lock of an embedded database folder for this process, before PGlite opens it.
 * Released by `release()` and, as a last resort, when the process exits.
 */
export function lockDataDir(dataDir: string): Result<DataDirLock, DataDirLockError> {
  const path = lockPathOf(dataDir);
  const me: LockHolder = { pid: process.pid, startTime: processStartTime(process.pid), host: hostname(), createdAt: new Date().toISOString() };
  const content = `${JSON.stringify(me)}\n`;
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      if (createExclusive(path, content)) return ok(held(path, me));
      const holder = readHolder(path);
      if (holder === null) {
        // Not a lock file levelsync wrote (or emptied by hand): never guess, say who to ask.
        return err({ _tag: 'Held', path, holder: { pid: 0, startTime: null, host: 'unknown', createdAt: '' } });
      }
      if (!isStale(holder)) return err({ _tag: 'Held', path, holder });
      recoverStale(path, holder);
    }
    return err({ _tag: 'Failed', path, cause: new Error('the lock kept changing hands') });
  } catch (cause) {
    return err({ _tag: 'Failed', path, cause });
  }
}

/** Removes a stale lock under the recovery lock, only if it still names the same dead holder. */
function recoverStale(path: string, stale: LockHolder): void {
  const recovery = `${path}.recover`;
  if (!createExclusive(recovery, `${process.pid}\n`)) {
    try {
      if (Date.now() - statSync(recovery).mtimeMs > RECOVERY_LOCK_STALE_MS) unlinkSync(recovery);
    } catch {
      // gone meanwhile
    }
    return;
  }
  try {
    const again = readHolder(path);
    if (again !== null && again.pid === stale.pid && again.startTime === stale.startTime && again.createdAt === stale.createdAt) unlinkSync(path);
  } finally {
    rmSync(recovery, { force: true });
  }
}

function held(path: string, me: LockHolder): DataDirLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    const holder = readHolder(path);
    if (holder !== null && holder.pid === me.pid && holder.createdAt === me.createdAt) rmSync(path, { force: true });
  };
  process.on('exit', release);
  return { path, release };
}
