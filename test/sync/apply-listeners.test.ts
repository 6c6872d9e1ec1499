import { describe, expect, it } from 'vitest';
import { applyPlan, createPlan, scanDesyncs, type Logger, type SyncEvent, type SyncPlan } from 'levelsync';
import type { InMemorySyncStore } from 'levelsync/testing';
import { store, testResolver } from './fixtures.js';

function behind(n: number): InMemorySyncStore {
  const users = Array.from({ length: n }, (_, i) => i + 1);
  return store({
    progress: users.map((userId) => ({ userId, specializationId: 'LFA_COACH', level: 3 })),
    licenses: users.map((userId) => ({ userId, specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 })),
  });
}

async function planFor(s: InMemorySyncStore): Promise<SyncPlan> {
  const scan = (await scanDesyncs(s, { resolver: testResolver() }))._unsafeUnwrap();
  return createPlan(scan)._unsafeUnwrap();
}

const throwing: Logger = {
  debug: () => {
    throw new Error('debug broke');
  },
  info: () => {
    throw new Error('info broke');
  },
  warn: () => {
    throw new Error('warn broke');
  },
  error: () => {
    throw new Error('error broke');
  },
};

describe('applyPlan with listeners that throw', () => {
  it('a throwing logger never rejects the run: every batch is applied and reported', async () => {
    const s = behind(6);
    const plan = await planFor(s);
    s.failNextBatches(1, new Error('boom')); // so that warn/error are called too
    const report = (await applyPlan(plan, s, { batchSize: 2, logger: throwing }))._unsafeUnwrap();
    expect(report.status).toBe('CompletedWithFailures');
    expect(report.counts).toMatchObject({ Applied: 4, Failed: 2, total: 6 });
  });

  it('a throwing onEvent never rejects the run: the run goes on and the exception is logged at warn', async () => {
    const s = behind(6);
    const plan = await planFor(s);
    const warnings: string[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (_context, message) => warnings.push(message ?? '') };
    const seen: string[] = [];
    const onEvent = (event: SyncEvent) => {
      seen.push(event.type);
      throw new Error(`listener broke on ${event.type}`);
    };
    const report = (await applyPlan(plan, s, { batchSize: 2, logger, onEvent }))._unsafeUnwrap();
    expect(report.status).toBe('Completed');
    expect(report.counts.Applied).toBe(6);
    expect(seen).toEqual(['run-started', 'batch-finished', 'batch-finished', 'batch-finished', 'run-finished']);
    expect(warnings.filter((w) => w.includes('onEvent threw'))).toHaveLength(5);
    expect(warnings[0]).toContain('listener broke on run-started');
  });

  it('an onEvent that returns a rejected promise is reported, not left unhandled', async () => {
    const s = behind(2);
    const plan = await planFor(s);
    const warnings: string[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (_context, message) => warnings.push(message ?? '') };
    const report = (await applyPlan(plan, s, { logger, onEvent: async () => Promise.reject(new Error('async listener broke')) }))._unsafeUnwrap();
    expect(report.status).toBe('Completed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.some((w) => w.includes('async listener broke'))).toBe(true);
  });

  it('a throwing (deprecated) onProgress never rejects the run either', async () => {
    const s = behind(4);
    const plan = await planFor(s);
    const report = (
      await applyPlan(plan, s, {
        batchSize: 2,
        onProgress: () => {
          throw new Error('progress broke');
        },
      })
    )._unsafeUnwrap();
    expect(report.counts.Applied).toBe(4);
  });

  it('onEvent carries what onProgress did: batch-finished has done and total', async () => {
    const s = behind(5);
    const plan = await planFor(s);
    const progress: (readonly [number, number | null])[] = [];
    await applyPlan(plan, s, { batchSize: 2, onEvent: (e) => e.type === 'batch-finished' && progress.push([e.done, e.total]) });
    expect(progress).toEqual([
      [2, 5],
      [4, 5],
      [5, 5],
    ]);
  });
});
