import { describeCause } from '../../errors.js';
import type { MaxLevelResolver } from '../../max-level/resolution.js';
import { safeLogger, type Logger } from '../../logger.js';
import { MAX_LEVEL_CHANNEL } from './capture-ddl.js';

/**
 * A session that can LISTEN: a `pg.PoolClient` or `pg.Client` (it emits `notification`,
 * `error` and `end`).
 */
export interface ListenSession {
  query(text: string): Promise<unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeListener?(event: string, listener: (...args: any[]) => void): unknown;
  /** pg.PoolClient: give it back (destroyed). */
  release?(destroy?: boolean | Error): void;
  /** pg.Client: close it. */
  end?(): Promise<void>;
}

/**
 * Where notifications come from: a `pg.Pool` (one checked-out session is held for LISTEN; it
 * must not be a transaction-pooled PgBouncer connection), a function opening a dedicated
 * session, or an in-process PGlite database (`db.listen`).
 *
 * ```ts
 * createPgMaxLevelInvalidation(pool, { resolver });                      // pg.Pool
 * createPgMaxLevelInvalidation(async () => { const c = new pg.Client(url); await c.connect(); return c; }, { resolver });
 * createPgMaxLevelInvalidation(db, { resolver });                        // PGlite
 * ```
 */
export type ListenSource =
  | { connect(): Promise<ListenSession> }
  | (() => Promise<ListenSession>)
  | { listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>> };

/**
 * Options of {@link createPgMaxLevelInvalidation}.
 *
 * ```ts
 * createPgMaxLevelInvalidation(pool, { resolver, schema: 'public', logger: pino() });
 * ```
 */
export interface MaxLevelInvalidationOptions {
  readonly resolver: MaxLevelResolver;
  /** Only notifications about this schema's specializations table (default: every schema). */
  readonly schema?: string;
  /** First reconnection delay (default 500 ms), doubling up to 30 s. */
  readonly reconnectMs?: number;
  readonly logger?: Logger;
  /** Called after each invalidation (for metrics and tests). */
  readonly onInvalidate?: (specializationId: string | undefined) => void;
}

/**
 * A subscription that keeps a resolver's cache in step with the database.
 *
 * ```ts
 * const sub = createPgMaxLevelInvalidation(pool, { resolver });
 * await sub.ready;
 * process.once('SIGTERM', () => void sub.close());
 * ```
 */
export interface MaxLevelInvalidation {
  /** Resolves once the first LISTEN is in place. */
  readonly ready: Promise<void>;
  /** True while listening. */
  readonly connected: boolean;
  close(): Promise<void>;
}

/**
 * Subscribes a resolver to the max-level notifications of the specializations trigger (migration
 * 3 or `installCapture`): a changed, added or deleted maximum invalidates that id in this
 * process's cache as soon as the change commits. When the connection drops it says so through
 * the logger (cached maxima then expire by the resolver's TTL, as without a subscription),
 * reconnects with backoff, and invalidates the whole cache once listening again (it may have
 * missed notifications meanwhile).
 *
 * ```ts
 * const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(pool)] });
 * const sub = createPgMaxLevelInvalidation(pool, { resolver, logger });
 * ```
 */
export function createPgMaxLevelInvalidation(source: ListenSource, options: MaxLevelInvalidationOptions): MaxLevelInvalidation {
  const logger = safeLogger(options.logger);
  const firstDelay = options.reconnectMs ?? 500;
  let closed = false;
  let connected = false;
  let session: ListenSession | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delay = firstDelay;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));

  const invalidate = (id: string | undefined) => {
    options.resolver.invalidate(id);
    options.onInvalidate?.(id);
  };

  const onPayload = (payload: string | undefined) => {
    let id: string | undefined;
    try {
      const message = JSON.parse(payload ?? '') as { schema?: unknown; id?: unknown };
      if (options.schema !== undefined && message.schema !== options.schema) return;
      id = typeof message.id === 'string' ? message.id : undefined;
    } catch {
      id = undefined;
    }
    logger.debug({ specializationId: id ?? '*' }, 'maximum level changed: cache entry invalidated');
    invalidate(id);
  };

  const scheduleReconnect = (why: string) => {
    if (closed || timer) return;
    if (connected) {
      logger.warn({ retryInMs: delay }, `max-level invalidation disconnected (${why}): cached maxima expire by TTL until it reconnects`);
    }
    connected = false;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, 30_000);
  };

  async function connect(): Promise<void> {
    if (closed) return;
    try {
      if (typeof source === 'object' && 'listen' in source) {
        unlisten = await source.listen(MAX_LEVEL_CHANNEL, (payload) => onPayload(payload));
      } else {
        const s = typeof source === 'function' ? await source() : await source.connect();
        session = s;
        const onEnd = (cause?: unknown) => {
          if (session !== s) return;
          session = undefined;
          try {
            s.release?.(true);
          } catch {
            // already gone
          }
          scheduleReconnect(cause ? describeCause(cause) : 'connection ended');
        };
        s.on('notification', (message: { channel?: string; payload?: string }) => {
          if (message.channel === MAX_LEVEL_CHANNEL) onPayload(message.payload);
        });
        s.on('error', onEnd);
        s.on('end', () => onEnd());
        await s.query(`LISTEN ${MAX_LEVEL_CHANNEL}`);
      }
      if (closed) return;
      const wasDown = !connected;
      connected = true;
      delay = firstDelay;
      // Notifications sent while not listening are lost: forget every cached maximum once.
      invalidate(undefined);
      if (wasDown) logger.info({}, 'max-level invalidation listening');
      resolveReady();
    } catch (cause) {
      if (session) {
        try {
          session.release?.(true);
        } catch {
          // ignore
        }
        session = undefined;
      }
      logger.warn({ retryInMs: delay }, `max-level invalidation could not listen (${describeCause(cause)}): cached maxima expire by TTL until it does`);
      scheduleReconnect(describeCause(cause));
    }
  }

  void connect();

  return {
    ready,
    get connected() {
      return connected;
    },
    async close() {
      closed = true;
      connected = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const s = session;
      session = undefined;
      if (unlisten) await unlisten().catch(() => undefined);
      if (s) {
        await s.query(`UNLISTEN ${MAX_LEVEL_CHANNEL}`).catch(() => undefined);
        if (s.release) s.release();
        else await s.end?.().catch(() => undefined);
      }
      resolveReady();
    },
  };
}
