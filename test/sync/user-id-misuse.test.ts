import { describe, expect, it } from 'vitest';
import { createPlan, scanDesyncs, syncPair, userIdForKind } from 'levelsync';
import { createInMemorySyncStore } from 'levelsync/testing';
import { testResolver } from './fixtures.js';

const SPECS = [
  { id: 'GANCUJU_PLAYER', maxLevel: 8 },
  { id: 'PLAYER', maxLevel: 8 },
  { id: 'LFA_COACH', maxLevel: 8 },
];

/** The original system's shape: integer user ids, every row under the legacy id PLAYER, a P5/L3 desync. */
function integerStore() {
  return createInMemorySyncStore({
    specializations: SPECS,
    progress: [{ userId: 30, specializationId: 'PLAYER', level: 5 }],
    licenses: [{ userId: 30, specializationId: 'PLAYER', level: 3, maxAchievedLevel: 3 }],
  });
}

function textStore() {
  return createInMemorySyncStore({
    specializations: SPECS,
    progress: [{ userId: '30', specializationId: 'PLAYER', level: 5 }],
    licenses: [{ userId: '30', specializationId: 'PLAYER', level: 3, maxAchievedLevel: 3 }],
  });
}

describe('a user id whose type does not match the store: converted exactly or refused, never "not found, in sync"', () => {
  it('syncPair with the decimal string "30" on an integer store finds user 30 (stored under PLAYER) and repairs the P5/L3 desync', async () => {
    const store = integerStore();
    const report = (await syncPair(store, { userId: '30', specializationId: 'PLAYER' }, { resolver: testResolver() }))._unsafeUnwrap();
    expect(report).toMatchObject({ notFound: false, inSync: true, outcomes: ['Applied'] });
    expect(store.snapshot().licenses).toEqual([{ userId: 30, specializationId: 'PLAYER', level: 5, maxAchievedLevel: 5 }]);
  });

  it('syncPair with a string that is not a decimal integer on an integer store is a ValidationError naming userId; nothing written', async () => {
    for (const bad of ['abc', '030', '30.0', ' 30']) {
      const store = integerStore();
      const result = await syncPair(store, { userId: bad, specializationId: 'PLAYER' }, { resolver: testResolver() });
      expect(result._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError' });
      expect(result._unsafeUnwrapErr().message).toMatch(/userId/);
      expect(store.snapshot().licenses[0]!.level).toBe(3);
    }
  });

  it('syncPair with a number on a text store is a ValidationError naming userId; nothing written', async () => {
    const store = textStore();
    const result = await syncPair(store, { userId: 30, specializationId: 'GANCUJU_PLAYER' }, { resolver: testResolver() });
    expect(result._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError' });
    expect(result._unsafeUnwrapErr().message).toMatch(/userId.*must be a string/);
    expect(store.snapshot().licenses[0]!.level).toBe(3);
    // The same id as a string works.
    expect((await syncPair(store, { userId: '30', specializationId: 'GANCUJU_PLAYER' }, { resolver: testResolver() }))._unsafeUnwrap()).toMatchObject({ notFound: false, inSync: true });
  });

  it('scans with userIds of the wrong type fail with a ValidationError naming userIds[i]; decimal strings are converted', async () => {
    const wrong = await scanDesyncs(textStore(), { resolver: testResolver(), userIds: [30] });
    expect(wrong._unsafeUnwrapErr().message).toMatch(/userIds\[0\]/);
    const converted = (await scanDesyncs(integerStore(), { resolver: testResolver(), userIds: ['30'] }))._unsafeUnwrap();
    expect(converted.desyncs.map((d) => [d.userId, d.specializationId, d.kind])).toEqual([[30, 'GANCUJU_PLAYER', 'LevelMismatch']]);
    // Legacy ids: one summary, no per-pair note.
    expect(converted.legacyIds).toEqual([{ storedId: 'PLAYER', canonicalId: 'GANCUJU_PLAYER', progressRows: 1, licenseRows: 1, pairs: 1, deprecatedAfter: '2026-05-18' }]);
  });

  it('a plan whose actions carry a user id of the wrong type is refused by the store at apply, nothing written', async () => {
    const store = textStore();
    const plan = createPlan((await scanDesyncs(integerStore(), { resolver: testResolver() }))._unsafeUnwrap())._unsafeUnwrap();
    const written = await store.applyBatch(plan.actions.filter((a) => a.kind !== 'FlagForReview') as never, { actor: null, now: new Date() });
    expect(written._unsafeUnwrapErr().message).toMatch(/actions\[0\]\.userId/);
    expect(store.snapshot().licenses[0]!.level).toBe(3);
  });

  it('userIdForKind: the rule in one function', () => {
    expect(userIdForKind('9223372036854775807', 'integer')).toEqual({ ok: true, value: '9223372036854775807' });
    expect(userIdForKind('9007199254740991', 'integer')).toEqual({ ok: true, value: 9007199254740991 });
    expect(userIdForKind(9007199254740993, 'integer')).toMatchObject({ ok: false });
    expect(userIdForKind('9223372036854775808', 'integer')).toMatchObject({ ok: false });
    expect(userIdForKind(-0, 'integer')).toEqual({ ok: true, value: -0 });
    expect(userIdForKind('x', 'text')).toEqual({ ok: true, value: 'x' });
    expect(userIdForKind(1, 'text')).toMatchObject({ ok: false });
  });
});
