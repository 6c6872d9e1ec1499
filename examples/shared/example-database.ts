// Used by the examples' main.ts files only: a database to run them against. With DATABASE_URL,
// a pg.Pool on your server (levelsync's tables are created in schema `levelsync` if missing);
// without it, an in-memory PGlite database with a few sample learners, so that every example
// runs with no server at all.
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { DEFAULT_CATALOG } from 'levelsync';
import { LEVELSYNC_MAPPING, migrate, toPgConnection, upsertSpecializations } from 'levelsync/pg';

/** A checked-out session: what `pg.Pool#connect()` returns. */
export interface SessionLike {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount?: number | null }>;
  release(): void;
}

/** What `pg.Pool` offers: one-off queries, and sessions for transactions. */
export interface SessionPoolLike {
  connect(): Promise<SessionLike>;
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

export interface ExampleDatabase {
  /** Where the data is, for the console. */
  readonly description: string;
  /** What `levelsync/pg` is given: the pg.Pool, or the PGlite database. */
  readonly connection: pg.Pool | PGlite;
  /** Sessions for your own transactions: the pg.Pool, or PGlite's single session lent out. */
  readonly pool: SessionPoolLike;
  close(): Promise<void>;
}

export async function openExampleDatabase(): Promise<ExampleDatabase> {
  if (process.env.DATABASE_URL) {
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
    (await migrate(pool))._unsafeUnwrap();
    await addDefaultSpecializations(pool);
    return { description: `PostgreSQL (${redact(process.env.DATABASE_URL)})`, connection: pool, pool, close: () => pool.end() };
  }
  console.log('DATABASE_URL is not set: starting an in-memory PGlite database with sample learners (5–20 s)…');
  const db = await PGlite.create();
  (await migrate(db))._unsafeUnwrap();
  await addDefaultSpecializations(db);
  await db.exec(SAMPLE_ROWS);
  return { description: 'in-memory PGlite with sample learners', connection: db, pool: pgliteSessions(db), close: () => db.close() };
}

/**
 * PGlite has ONE session: this lends it out as if it were a pool client. Transactions work as
 * long as one caller uses it at a time (the examples run one request at a time); use a real
 * pg.Pool for concurrent transactions.
 */
export function pgliteSessions(db: PGlite): SessionPoolLike {
  return {
    query: (text: string, values?: unknown[]) => db.query(text, values),
    connect: async () => ({
      query: (text: string, values?: unknown[]) => db.query(text, values),
      release: () => {},
    }),
  };
}

async function addDefaultSpecializations(connection: pg.Pool | PGlite): Promise<void> {
  const rows = DEFAULT_CATALOG.specializations.map((s) => ({ id: s.id, name: s.name, maxLevel: s.maxLevel }));
  // Only the missing ones: a maximum you changed in the table is kept.
  const existing = await toPgConnection(connection).run('SELECT id FROM levelsync.specializations');
  const known = new Set(existing.rows.map((r) => String(r['id'])));
  const missing = rows.filter((r) => !known.has(r.id));
  if (missing.length > 0) (await upsertSpecializations(connection, missing, { mapping: LEVELSYNC_MAPPING }))._unsafeUnwrap();
}

function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

/** Five learners: in sync, progress ahead, license ahead (advanced by staff), and one orphan on each side. */
const SAMPLE_ROWS = `
INSERT INTO levelsync.progress (user_id, specialization_id, level, xp, sessions) VALUES
  (1, 'LFA_COACH', 3, 60000, 20),
  (2, 'GANCUJU_PLAYER', 2, 25000, 12),
  (3, 'INTERNSHIP', 1, 10000, 15),
  (5, 'LFA_FOOTBALL_PLAYER', 4, 5000, 40);
INSERT INTO levelsync.licenses (user_id, specialization_id, level, max_achieved_level) VALUES
  (1, 'LFA_COACH', 2, 2),
  (2, 'GANCUJU_PLAYER', 3, 3),
  (4, 'LFA_FOOTBALL_PLAYER', 2, 2),
  (5, 'LFA_FOOTBALL_PLAYER', 4, 4);
INSERT INTO levelsync.license_progressions (license_id, from_level, to_level, advanced_by, reason)
  SELECT id, 2, 3, 900, 'Passed the practical assessment' FROM levelsync.licenses WHERE user_id = 2;
`;
