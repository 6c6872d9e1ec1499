import { describe, expect, it } from 'vitest';
import { SILENT_LOGGER, safeLogger, safeListener, type Logger } from '../../src/logger.js';

describe('safeLogger', () => {
  it('calls the user logger as a method (pino keeps its this) with context and message', () => {
    const lines: string[] = [];
    const user = {
      prefix: 'app',
      debug(this: { prefix: string }, o: object, m?: string) {
        lines.push(`${this.prefix} debug ${m} ${JSON.stringify(o)}`);
      },
      info: () => {},
      warn: () => {},
      error: () => {},
    };
    safeLogger(user).debug({ a: 1 }, 'hello');
    expect(lines).toEqual(['app debug hello {"a":1}']);
  });

  it('swallows what a method throws and treats a missing method as a no-op', () => {
    const broken = {
      debug: () => {
        throw new Error('debug');
      },
      info: () => {
        throw 'not even an error';
      },
    } as unknown as Logger;
    const safe = safeLogger(broken);
    expect(() => safe.debug({}, 'x')).not.toThrow();
    expect(() => safe.info({}, 'x')).not.toThrow();
    expect(() => safe.warn({}, 'x')).not.toThrow();
    expect(() => safe.error({}, 'x')).not.toThrow();
  });

  it('is silent without a logger and wraps only once', () => {
    expect(safeLogger(undefined)).toBe(SILENT_LOGGER);
    const safe = safeLogger(console);
    expect(safeLogger(safe)).toBe(safe);
  });
});

describe('safeListener', () => {
  it('reports what the listener throws at warn, without credentials, and never throws', () => {
    const warnings: string[] = [];
    const logger: Logger = { ...SILENT_LOGGER, warn: (_o, m) => warnings.push(m ?? '') };
    const listener = () => {
      throw new Error('failed to reach postgres://app:hunter2@db/prod');
    };
    const emit = safeListener<{ type: string }>(listener, 'test onEvent', logger);
    expect(() => emit({ type: 'run-started' })).not.toThrow();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^test onEvent threw \(ignored\)/);
    expect(warnings[0]).not.toContain('hunter2');
  });
});
