import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll } from 'vitest';

/**
 * One in-process PGlite database for the enclosing suite (test file): `PGlite.create()` takes
 * 5–18 s and ~500 MB here, so create one per file, reset between tests with DROP SCHEMA or
 * TRUNCATE, and never one per test. Returns a getter.
 */
export function usePGlite(): () => PGlite {
  let db: PGlite | undefined;
  beforeAll(async () => {
    db = await PGlite.create();
  }, 180_000);
  afterAll(async () => {
    await db?.close();
  }, 60_000);
  return () => {
    if (!db) throw new Error('PGlite is not ready (use the getter inside a test or hook)');
    return db;
  };
}
