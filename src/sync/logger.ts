/**
 * The logger levelsync accepts: any object with `debug/info/warn/error` taking a context object
 * and a message. pino loggers and `console` both satisfy it. levelsync is silent without one and
 * never logs connection strings or credentials.
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
