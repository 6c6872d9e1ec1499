import { describe, expect, it } from 'vitest';
import { applyPlan, createPlan, scanDesyncs, type Logger, type SyncEvent, type SyncPlan } from 'levelsync';
import type { InMemorySyncStore } from 'levelsync/testing';
import { store, testResolver } from './fixtures.js';

/** 30 pairs whose license is one level behind progress: 30 SetLicenseLevel actions. */
function behind(n = 30): InMemorySyncStore {
  const users = Array.from({ length: n }, (_, i) => i + 1);
  return store({
    progress: users.map((userId) => ({ userId, specializationId: 'LFA_COACH', level: 3 })),
    licenses: users.map((userId) => ({ userId, specializationId: 'LFA_COACH', level: 2, maxAchievedLevel: 2 })),
  });
}

async function planFor(s: InMemorySyncStore, policy = {}): Promise<SyncPlan> {
  const scan = (await scanDesyncs(s, { resolver: testResolver() }))._unsafeUnwrap();
  return createPlan(scan, { policy })._unsafeUnwrap();
}

describe('applyPlan', () => {
  it('applies every action in batches of batchSize, each batch one store call', async () => {
    const s = behind();
    const plan = await planFor(s);
    const progress: number[] = [];
    const report = (await applyPlan(plan, s, { batchSize: 7, onProgress: (p) => progress.push(p.done) }))._unsafeUnwrap();
    expect(report.status).toBe('Completed');
    expect(report.counts).toMatchObject({ Applied: 30, Stale: 0, Failed: 0, total: 30 });
    expect(report.batches.map((b) => b.size)).toEqual([7, 7, 7, 7, 2]);
    expect(s.batchCalls).toBe(5);
    expect(progress).toEqual([7, 14, 21, 28, 30]);
    expect(s.snapshot().licenses.every((r) => r.level === 3)).toBe(true);
    expect(s.snapshot().progressions).toHaveLength(30);
  });

  it('never splits the actions of one pair across batches', async () => {
    // Clamping both sides of each pair gives two actions per pair.
    const users = Array.from({ length: 5 }, (_, i) => i + 1);
    const s = store({
      progress: users.map((userId) => ({ userId, specializationId: 'INTERNSHIP', level: 4 })),
      licenses: users.map((userId) => ({ userId, specializationId: 'INTERNSHIP', level: 5, maxAchievedLevel: 5 })),
    });
    const plan = await planFor(s, { aboveMax: 'clamp' });
    expect(plan.actions).toHaveLength(10);
    const report = (await applyPlan(plan, s, { batchSize: 3 }))._unsafeUnwrap();
    expect(report.batches.map((b) => b.size)).toEqual([4, 4, 2]);
    expect(report.counts.Applied).toBe(10);
  });

  it('rolls a failed batch back whole, reports it, and goes on with the next batches', async () => {
    const s = behind(10);
    const plan = await planFor(s);
    s.failWhen((a) => a.userId === 5);
    const events: SyncEvent[] = [];
    const report = (await applyPlan(plan, s, { batchSize: 4, onEvent: (e) => events.push(e) }))._unsafeUnwrap();
    expect(report.status).toBe('CompletedWithFailures');
    expect(report.batches.map((b) => b.status)).toEqual(['Applied', 'Failed', 'Applied']);
    expect(report.counts).toMatchObject({ Applied: 6, Failed: 4 });
    const levels = s.snapshot().licenses.map((r) => [r.userId, r.level]);
    expect(levels).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((u) => [u, u >= 5 && u <= 8 ? 2 : 3]));
    expect(events.filter((e) => e.type === 'action-failed')).toHaveLength(4);
    expect(events.find((e) => e.type === 'batch-failed')).toMatchObject({ batch: { index: 1, size: 4 } });
  });

  it('stops after a failed batch when onBatchFailure is stop, and skips the rest', async () => {
    const s = behind(10);
    const plan = await planFor(s);
    s.failNextBatches(1, new Error('connection lost'));
    const report = (await applyPlan(plan, s, { batchSize: 4, onBatchFailure: 'stop' }))._unsafeUnwrap();
    expect(report.status).toBe('Stopped');
    expect(report.counts).toMatchObject({ Applied: 0, Failed: 4, Skipped: 6 });
    expect(report.batches[0]?.error?.message).toContain('connection lost');
    expect(s.snapshot().progressions).toHaveLength(0);
  });

  it('retries a batch the database rolled back for a transient reason (deadlock), then counts it failed', async () => {
    const deadlock = () => Object.assign(new Error('deadlock detected'), { code: '40P01' });
    const s = behind(6);
    const plan = await planFor(s);
    s.failNextBatches(2, deadlock());
    const events: SyncEvent[] = [];
    const report = (await applyPlan(plan, s, { batchSize: 3, onEvent: (e) => events.push(e) }))._unsafeUnwrap();
    expect(report.status).toBe('Completed');
    expect(report.batches.map((b) => [b.status, b.attempts])).toEqual([
      ['Applied', 3],
      ['Applied', 1],
    ]);
    expect(events.filter((e) => e.type === 'batch-retried')).toHaveLength(2);
    expect(report.counts.Applied).toBe(6);

    const t = behind(3);
    t.failNextBatches(1, deadlock());
    const noRetry = (await applyPlan(await planFor(t), t, { transientRetries: 0 }))._unsafeUnwrap();
    expect(noRetry.batches[0]).toMatchObject({ status: 'Failed', attempts: 1, error: { _tag: 'StoreUnavailable', transient: true } });
  });

  it('does not retry a batch that failed for a lasting reason', async () => {
    const s = behind(3);
    s.failNextBatches(1, new Error('permission denied for table licenses'));
    const report = (await applyPlan(await planFor(s), s))._unsafeUnwrap();
    expect(report.batches[0]).toMatchObject({ status: 'Failed', attempts: 1, error: { transient: false } });
  });

  it('stops between batches when the AbortSignal fires', async () => {
    const s = behind(10);
    const plan = await planFor(s);
    const controller = new AbortController();
    const report = (
      await applyPlan(plan, s, { batchSize: 3, signal: controller.signal, onProgress: (p) => p.batch === 1 && controller.abort() })
    )._unsafeUnwrap();
    expect(report.status).toBe('Aborted');
    expect(report.counts).toMatchObject({ Applied: 6, Skipped: 4 });
  });

  it('dry run walks the same path, writes nothing and reports every write action as Planned', async () => {
    const s = behind(10);
    const plan = await planFor(s);
    const before = s.snapshot();
    const events: SyncEvent[] = [];
    const report = (await applyPlan(plan, s, { dryRun: true, batchSize: 4, onEvent: (e) => events.push(e) }))._unsafeUnwrap();
    expect(report.dryRun).toBe(true);
    expect(report.counts).toMatchObject({ Planned: 10, Applied: 0, total: 10 });
    expect(report.batches.map((b) => b.status)).toEqual(['Planned', 'Planned', 'Planned']);
    expect(events.map((e) => e.type)).toEqual(['run-started', 'batch-finished', 'batch-finished', 'batch-finished', 'run-finished']);
    expect(s.snapshot()).toEqual(before);
    expect(s.batchCalls).toBe(0);
  });

  it('reports flagged actions as Flagged and sends them nowhere', async () => {
    const s = store({ progress: [{ userId: 1, specializationId: 'MYSTERY', level: 1 }] });
    const plan = await planFor(s);
    const report = (await applyPlan(plan, s))._unsafeUnwrap();
    expect(report.outcomes).toEqual([{ index: 0, kind: 'FlagForReview', status: 'Flagged', batch: null }]);
    expect(s.batchCalls).toBe(0);
  });

  it('refuses to run beside another run holding the lock (RunInProgress), and writes nothing', async () => {
    const s = behind(3);
    const plan = await planFor(s);
    const held = (await s.acquireRunLock({}))._unsafeUnwrap();
    const result = await applyPlan(plan, s);
    expect(result._unsafeUnwrapErr()._tag).toBe('RunInProgress');
    expect(s.snapshot().progressions).toHaveLength(0);
    await held.release();
    expect((await applyPlan(plan, s))._unsafeUnwrap().counts.Applied).toBe(3);
  });

  it('records the actor on progression rows', async () => {
    const s = behind(1);
    await applyPlan(await planFor(s), s, { actor: 99 });
    expect(s.snapshot().progressions[0]?.advancedBy).toBe(99);
  });

  it('rejects invalid options naming the field, before writing anything', async () => {
    const s = behind(2);
    const result = await applyPlan(await planFor(s), s, { batchSize: 0 });
    expect(result._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'batchSize' });
    expect(s.batchCalls).toBe(0);
  });

  it('is silent without a logger and logs start, failures and finish with one, never secrets', async () => {
    const s = behind(4);
    const plan = await planFor(s);
    s.failNextBatches(1, new Error('connect ECONNREFUSED postgres://app:hunter2@db.internal:5432/prod'));
    const lines: string[] = [];
    const logger: Logger = {
      debug: (o, m) => lines.push(`debug ${m} ${JSON.stringify(o)}`),
      info: (o, m) => lines.push(`info ${m} ${JSON.stringify(o)}`),
      warn: (o, m) => lines.push(`warn ${m} ${JSON.stringify(o)}`),
      error: (o, m) => lines.push(`error ${m} ${JSON.stringify(o)}`),
    };
    await applyPlan(plan, s, { batchSize: 2, logger });
    expect(lines[0]).toMatch(/^info levelsync apply started/);
    expect(lines.some((l) => l.startsWith('error batch 0 rolled back'))).toBe(true);
    expect(lines.at(-1)).toMatch(/^info levelsync apply finished .*"Applied":2/);
    expect(lines.join('\n')).not.toContain('hunter2');
  });
});
