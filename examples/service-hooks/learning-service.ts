// A learning service that records progress gains and license advancements, and keeps the two
// records in step by calling levelsync's `syncPair` INSIDE the same transaction: the change and
// its sync commit together or not at all. The original system committed the change, then ran
// the sync in a second transaction (or a separate session), and a failed hook left the two
// apart for up to six hours.
import { err, ok, type Result } from 'neverthrow';
import {
  DEFAULT_CATALOG,
  applyProgressGain,
  createMaxLevelResolver,
  describeCause,
  syncPair,
  validateAdvancement,
  type AdvancementRejected,
  type Catalog,
  type MaxLevelResolver,
  type ProgressGain,
  type ProgressLevelUp,
  type ResolveError,
  type StoreError,
  type SyncPairReport,
  type ValidationError,
} from 'levelsync';
import { createLevelsyncMapping, createPgMaxLevelRepository, createPgSyncStore, pgClient, type PgMapping } from 'levelsync/pg';

/** A checked-out session (`pg.PoolClient`). */
export interface Session {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
  release(): void;
}

/** What the service needs from the database: a `pg.Pool` fits. */
export interface SessionPool {
  connect(): Promise<Session>;
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/** Something that was not there. */
export interface NotFound {
  readonly _tag: 'NotFound';
  readonly message: string;
}
/** The transaction failed and was rolled back (the database, or a step that threw). */
export interface RolledBack {
  readonly _tag: 'RolledBack';
  readonly message: string;
  readonly cause?: unknown;
}
export type ServiceError = ValidationError | AdvancementRejected | ResolveError | StoreError | NotFound | RolledBack;

export interface ProgressResult {
  readonly progress: ProgressLevelUp;
  /** What the sync found and did to the license, in the same transaction. */
  readonly sync: SyncPairReport;
}

export interface AdvancementResult {
  readonly fromLevel: number;
  readonly toLevel: number;
  readonly sync: SyncPairReport;
}

export interface LearningServiceOptions {
  readonly pool: SessionPool;
  /** Schema of levelsync's tables (default `levelsync`, as `migrate()` creates them). */
  readonly schema?: string;
  /** Level definitions and aliases (default: the original system's catalog). */
  readonly catalog?: Catalog;
  readonly resolver?: MaxLevelResolver;
  /** Runs inside the transaction just before COMMIT; a throw rolls everything back (tests use it). */
  readonly beforeCommit?: (operation: 'progress' | 'advance') => Promise<void> | void;
}

export interface LearningService {
  /** Adds XP/sessions/hours, levels up per the catalog's thresholds, and brings the license along. */
  recordProgressGain(userId: number, specializationId: string, gain: ProgressGain): Promise<Result<ProgressResult, ServiceError>>;
  /** Advances a license one level (the level rules apply) and brings the progress record along. */
  advanceLicense(userId: number, specializationId: string, targetLevel: number, advancedBy: number, reason: string): Promise<Result<AdvancementResult, ServiceError>>;
}

export function createLearningService(options: LearningServiceOptions): LearningService {
  const mapping: PgMapping = createLevelsyncMapping({ schema: options.schema ?? 'levelsync' })._unsafeUnwrap();
  const catalog = options.catalog ?? DEFAULT_CATALOG;
  const resolver = options.resolver ?? createMaxLevelResolver({ catalog, repositories: [createPgMaxLevelRepository(pgClient(options.pool), { mapping })] });
  const s = `"${mapping.schema}"`;

  /** BEGIN … COMMIT on ONE session; any error or throw rolls back the whole unit. */
  async function inTransaction<T>(work: (session: Session) => Promise<Result<T, ServiceError>>): Promise<Result<T, ServiceError>> {
    const session = await options.pool.connect();
    try {
      await session.query('BEGIN');
      const result = await work(session);
      if (result.isErr()) {
        await session.query('ROLLBACK');
        return result;
      }
      await session.query('COMMIT');
      return result;
    } catch (cause) {
      await session.query('ROLLBACK').catch(() => undefined);
      return err({ _tag: 'RolledBack', message: `rolled back: ${describeCause(cause)}`, cause });
    } finally {
      session.release();
    }
  }

  /** The sync store bound to this session: its reads lock the pair's rows, its writes join the transaction. */
  const storeIn = (session: Session) => createPgSyncStore(pgClient(session), { mapping, catalog });

  return {
    recordProgressGain(userId, specializationId, gain) {
      return inTransaction(async (session) => {
        const spec = catalog.get(specializationId);
        if (!spec?.levels) return err({ _tag: 'NotFound', message: `No level definitions for ${specializationId}` });
        const id = spec.id;
        let row = (
          await session.query(
            `SELECT level, xp, sessions, projects, theory_hours, practice_hours FROM ${s}.progress
             WHERE user_id = $1 AND specialization_id = $2 FOR UPDATE`,
            [userId, id],
          )
        ).rows[0];
        if (!row) {
          row = (
            await session.query(
              `INSERT INTO ${s}.progress (user_id, specialization_id) VALUES ($1, $2)
               RETURNING level, xp, sessions, projects, theory_hours, practice_hours`,
              [userId, id],
            )
          ).rows[0];
        }
        const totals = {
          level: Number(row.level),
          xp: Number(row.xp),
          sessions: Number(row.sessions),
          projects: Number(row.projects),
          theoryHours: Number(row.theory_hours),
          practiceHours: Number(row.practice_hours),
        };
        const levelUp = applyProgressGain(totals, gain, spec.levels);
        if (levelUp.isErr()) return err(levelUp.error);
        const a = levelUp.value.after;
        await session.query(
          `UPDATE ${s}.progress SET level = $3, xp = $4, sessions = $5, projects = $6, theory_hours = $7, practice_hours = $8, updated_at = now()
           WHERE user_id = $1 AND specialization_id = $2`,
          [userId, id, a.level, a.xp, a.sessions, a.projects, a.theoryHours, a.practiceHours],
        );
        // The progress record is the truth here: the license follows, but is never lowered
        // (a license staff advanced stays; the pair is flagged instead).
        const sync = await syncPair(storeIn(session), { userId, specializationId: id }, { resolver, policy: { direction: 'progress-to-license' } });
        if (sync.isErr()) return err(sync.error);
        await options.beforeCommit?.('progress');
        return ok({ progress: levelUp.value, sync: sync.value });
      });
    },

    advanceLicense(userId, specializationId, targetLevel, advancedBy, reason) {
      return inTransaction(async (session) => {
        const id = catalog.canonicalId(specializationId);
        // Lock the pair in levelsync's order (progress rows, then licenses) before touching it, so
        // this transaction and a bulk run never wait on each other in opposite orders (deadlock).
        const locked = await storeIn(session).readPair({ userId, specializationId: id }, { lock: true });
        if (locked.isErr()) return err(locked.error);
        const license = (
          await session.query(`SELECT id, level, max_achieved_level FROM ${s}.licenses WHERE user_id = $1 AND specialization_id = $2 FOR UPDATE`, [userId, id])
        ).rows[0];
        // The original created a level-1 license here even when the advancement was then refused.
        if (!license) return err({ _tag: 'NotFound', message: `User ${userId} has no ${id} license` });
        const maxLevel = await resolver.resolve(id);
        if (maxLevel.isErr()) return err(maxLevel.error);
        const fromLevel = Number(license.level);
        const valid = validateAdvancement({ currentLevel: fromLevel, targetLevel, maxLevel: maxLevel.value.maxLevel });
        if (valid.isErr()) return err(valid.error);
        await session.query(
          `UPDATE ${s}.licenses SET level = $2, max_achieved_level = GREATEST(max_achieved_level, $2), last_advanced_at = now(), updated_at = now() WHERE id = $1`,
          [license.id, targetLevel],
        );
        await session.query(
          `INSERT INTO ${s}.license_progressions (license_id, from_level, to_level, advanced_by, reason, advanced_at) VALUES ($1, $2, $3, $4, $5, now())`,
          [license.id, fromLevel, targetLevel, advancedBy, reason],
        );
        // The license is the truth here: the progress record follows.
        const sync = await syncPair(storeIn(session), { userId, specializationId: id }, { resolver, policy: { direction: 'license-to-progress' }, actor: advancedBy });
        if (sync.isErr()) return err(sync.error);
        await options.beforeCommit?.('advance');
        return ok({ fromLevel, toLevel: targetLevel, sync: sync.value });
      });
    },
  };
}
