import { describeCause } from './errors.js';

/**
 * The logger levelsync accepts: any object with `debug/info/warn/error` taking a context object
 * and a message. pino loggers and `console` both satisfy it. levelsync is silent without one and
 * never logs connection strings or credentials.
 *
 * Every user logger is called through {@link safeLogger}: a logger that throws (or lacks a
 * method) never breaks a resolution, a scan or a run.
 */
export interface Logger {
  debug(context: object, message?: string): void;
  info(context: object, message?: string): void;
  warn(context: object, message?: string): void;
  error(context: object, message?: string): void;
}

const noop = () => {};

/** A logger that drops everything (the default). */
export const SILENT_LOGGER: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Loggers made by {@link safeLogger}, so that wrapping twice costs nothing. */
const wrapped = new WeakSet<Logger>();

/**
 * The logger to call for a user-supplied one (or none): each method calls the user's (as a
 * method, so pino's `this` holds) and swallows whatever it throws; a missing method is a no-op.
 * Wrapping a logger this function made returns it as is. Internal: not part of the public API.
 *
 * ```ts
 * const logger = safeLogger(options.logger);
 * logger.warn({ store: 'postgres' }, 'batch rolled back'); // never throws
 * ```
 */
export function safeLogger(logger: Logger | undefined): Logger {
  if (logger === undefined || logger === null || logger === SILENT_LOGGER) return SILENT_LOGGER;
  if (wrapped.has(logger)) return logger;
  const user = logger as Partial<Record<(typeof LEVELS)[number], unknown>>;
  const call =
    (level: (typeof LEVELS)[number]) =>
    (context: object, message?: string): void => {
      try {
        const method = user[level];
        if (typeof method === 'function') method.call(logger, context, message);
      } catch {
        // A broken logger must not break the work it reports on.
      }
    };
  const safe: Logger = Object.freeze({ debug: call('debug'), info: call('info'), warn: call('warn'), error: call('error') });
  wrapped.add(safe);
  return safe;
}

/**
 * A user callback (`onEvent`, `onProgress`) that cannot break the work it listens to: what it
 * throws, or a promise it returns that rejects, is swallowed and reported at warn through
 * `logger` (give it a {@link safeLogger}). Internal: not part of the public API.
 *
 * ```ts
 * const emit = safeListener(options.onEvent, 'applyPlan onEvent', logger);
 * emit({ type: 'run-started', … }); // never throws
 * ```
 */
export function safeListener<T>(listener: ((value: T) => unknown) | undefined, name: string, logger: Logger): (value: T) => void {
  if (typeof listener !== 'function') return () => {};
  const report = (value: T, cause: unknown) => {
    const type = typeof value === 'object' && value !== null && 'type' in value ? { event: String(value.type) } : {};
    logger.warn(type, `${name} threw (ignored): ${describeCause(cause)}`);
  };
  return (value) => {
    try {
      const returned: unknown = listener(value);
      if (typeof (returned as PromiseLike<unknown> | null)?.then === 'function') {
        (returned as PromiseLike<unknown>).then(undefined, (cause: unknown) => report(value, cause));
      }
    } catch (cause) {
      report(value, cause);
    }
  };
}
