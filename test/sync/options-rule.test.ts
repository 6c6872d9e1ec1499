import { describe, expect, it } from 'vitest';
import { applyPlan, createMaxLevelResolver, createPlan, createPlanStream, syncPair, type SyncStore } from 'levelsync';
import { healthReport } from '../../src/sync/health.js';
import { createInMemoryMaxLevelRepository } from 'levelsync/testing';
import { store, testResolver } from './fixtures.js';

// One rule for bad options: factories throw a TypeError at construction, per-call functions
// return a ValidationError naming the field, nothing is clamped or ignored silently. And one
// clock convention: every wall-clock option is `now?: () => Date`.

const pair = () =>
  store({
    progress: [{ userId: 1, specializationId: 'LFA_COACH', level: 4 }],
    licenses: [{ userId: 1, specializationId: 'LFA_COACH', level: 3, maxAchievedLevel: 3 }],
  });

describe('syncPair options', () => {
  it('refuses maxAttempts below 1 with a ValidationError instead of raising it to 1, and writes nothing', async () => {
    const s = pair();
    const result = await syncPair(s, { userId: 1, specializationId: 'LFA_COACH' }, { resolver: testResolver(), maxAttempts: 0 });
    expect(result._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'maxAttempts' });
    expect(s.snapshot().licenses[0]?.level).toBe(3);
  });

  it('refuses a maxAttempts that is not an integer', async () => {
    const result = await syncPair(pair(), { userId: 1, specializationId: 'LFA_COACH' }, { resolver: testResolver(), maxAttempts: 2.5 });
    expect(result._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'maxAttempts' });
  });

  it('refuses an invalid actor with a ValidationError, like applyPlan', async () => {
    const result = await syncPair(pair(), { userId: 1, specializationId: 'LFA_COACH' }, { resolver: testResolver(), actor: '' });
    expect(result._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'actor' });
  });

  it('refuses a now that is not a function (a Date) with a ValidationError', async () => {
    const result = await syncPair(pair(), { userId: 1, specializationId: 'LFA_COACH' }, { resolver: testResolver(), now: new Date() as never });
    expect(result._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'now' });
  });

  it('writes the time its now option gives', async () => {
    const s = pair();
    const at = new Date('2026-03-04T05:06:07Z');
    const times: Date[] = [];
    const spy: SyncStore = { ...s, applyBatch: (actions, context) => (times.push(context.now), s.applyBatch(actions, context)) };
    await syncPair(spy, { userId: 1, specializationId: 'LFA_COACH' }, { resolver: testResolver(), now: () => at });
    expect(times).toEqual([at]);
  });
});

describe('applyPlan options', () => {
  it('refuses a now that is not a function with a ValidationError, before writing anything', async () => {
    const s = pair();
    const plan = createPlan([])._unsafeUnwrap();
    const result = await applyPlan(plan, s, { now: new Date() as never });
    expect(result._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'now' });
    expect(s.batchCalls).toBe(0);
  });
});

describe('createPlan and createPlanStream: now is () => Date', () => {
  it('records the time its now option gives', () => {
    const plan = createPlan([], { now: () => new Date('2026-01-02T03:04:05Z') })._unsafeUnwrap();
    expect(plan.createdAt).toBe('2026-01-02T03:04:05.000Z');
  });

  it('refuses a Date (the former convention) or an invalid Date with a ValidationError', () => {
    expect(createPlan([], { now: new Date() as never })._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'now' });
    expect(createPlan([], { now: () => new Date('not a date') })._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'now' });
  });

  it('createPlanStream refuses a now that is not a function with a ValidationError', () => {
    const pages = (async function* () {})();
    expect(createPlanStream({ pages }, { now: new Date() as never })._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'now' });
    expect(createPlanStream({ pages }, { now: () => new Date('2026-01-02T03:04:05Z') })._unsafeUnwrap().header.createdAt).toBe('2026-01-02T03:04:05.000Z');
  });
});

describe('healthReport: now is () => Date', () => {
  it('reads checkedAt from now', () => {
    expect(healthReport({ totalPairs: 0, desyncs: [], now: () => new Date('2026-01-02T03:04:05Z') }).checkedAt).toBe('2026-01-02T03:04:05.000Z');
  });

  it('throws a TypeError for a now that is not a function (it returns no Result)', () => {
    expect(() => healthReport({ totalPairs: 0, desyncs: [], now: new Date() as never })).toThrow(TypeError);
  });
});

describe('createMaxLevelResolver: now is () => Date', () => {
  const repositories = [createInMemoryMaxLevelRepository({ name: 'db', values: {} })];

  it('throws a TypeError at construction for the former clock option, naming its replacement', () => {
    expect(() => createMaxLevelResolver({ repositories, clock: () => 0 } as never)).toThrow(/now: \(\) => Date/);
  });

  it('throws a TypeError at construction for a now that is not a function', () => {
    expect(() => createMaxLevelResolver({ repositories, now: 0 as never })).toThrow(TypeError);
  });
});
