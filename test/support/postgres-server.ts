import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';

/**
 * The PostgreSQL server the server tests use: `LEVELSYNC_TEST_DATABASE_URL`, for example
 * `postgres://postgres@127.0.0.1:5432/test` (the role must be allowed to CREATE DATABASE).
 * Unset: every server suite is skipped with a visible reason and everything else runs.
 */
export const TEST_DATABASE_URL: string | undefined = process.env['LEVELSYNC_TEST_DATABASE_URL'] || undefined;

/** Why the server suites are skipped, or undefined when they run. */
export const SERVER_SKIP_REASON: string | undefined = TEST_DATABASE_URL
  ? undefined
  : 'LEVELSYNC_TEST_DATABASE_URL is not set: PostgreSQL-server tests are skipped (set it to e.g. postgres://postgres@127.0.0.1:5432/test)';

let warned = false;

/**
 * `describe` for tests that need the PostgreSQL server: skipped, with a one-line warning saying
 * why, when `LEVELSYNC_TEST_DATABASE_URL` is unset.
 */
export function describeWithServer(name: string, fn: () => void): void {
  if (SERVER_SKIP_REASON && !warned) {
    warned = true;
    console.warn(`[levelsync tests] ${SERVER_SKIP_REASON}`);
  }
  describe.skipIf(!TEST_DATABASE_URL)(SERVER_SKIP_REASON ? `${name} (skipped: ${SERVER_SKIP_REASON})` : name, fn);
}

/** A database created for one test file; `drop()` removes it (and only it). */
export interface TestDatabase {
  readonly name: string;
  /** The connection string of the created database (same credentials as the server URL). */
  readonly url: string;
  /** A pool on the created database (ended by `drop()`). */
  readonly pool: pg.Pool;
  /** Another pool on the same database, e.g. for concurrent writers (ended by `drop()`). */
  newPool(config?: pg.PoolConfig): pg.Pool;
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named database (`levelsync_<label>_<random>`) on the test server. CI runs
 * on a shared server: `drop()` drops exactly this database, nothing else.
 */
export async function createTestDatabase(label: string, serverUrl: string = requireServerUrl()): Promise<TestDatabase> {
  const safeLabel = label.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 30);
  const name = `levelsync_${safeLabel}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl, name);
  const pools: pg.Pool[] = [];
  const newPool = (config: pg.PoolConfig = {}) => {
    const pool = new pg.Pool({ connectionString: url, max: 8, ...config });
    pool.on('error', () => {}); // idle clients terminated by a test must not crash the run
    pools.push(pool);
    return pool;
  };
  const pool = newPool();
  let dropped = false;
  return {
    name,
    url,
    pool,
    newPool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * Registers `beforeAll`/`afterAll` hooks creating and dropping one database for the enclosing
 * suite, and returns a getter for it. Use inside {@link describeWithServer}.
 */
export function useTestDatabase(label: string): () => TestDatabase {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(label);
  }, 60_000);
  afterAll(async () => {
    await database?.drop();
  }, 60_000);
  return () => {
    if (!database) throw new Error('the test database is not ready (use the getter inside a test or hook)');
    return database;
  };
}

function requireServerUrl(): string {
  if (!TEST_DATABASE_URL) throw new Error(SERVER_SKIP_REASON);
  return TEST_DATABASE_URL;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
