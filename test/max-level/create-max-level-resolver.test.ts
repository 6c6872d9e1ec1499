import { errAsync, okAsync } from 'neverthrow';
import { describe, expect, it, vi } from 'vitest';
import { createMaxLevelResolver, defineCatalog, type MaxLevelRepository, repositoryUnavailable } from 'levelsync';
import { createInMemoryMaxLevelRepository } from 'levelsync/testing';
import { createFakeClock } from './fake-clock.js';

const MINUTE = 60_000;

describe('createMaxLevelResolver: where a value comes from', () => {
  it('answers from the first repository that knows the id, naming it, with no errors', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const config = createInMemoryMaxLevelRepository({ name: 'config', values: { INTERNSHIP: 4 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres, config] });

    const resolution = (await resolver.resolve('INTERNSHIP'))._unsafeUnwrap();

    expect(resolution).toEqual({
      specializationId: 'INTERNSHIP',
      requestedId: 'INTERNSHIP',
      alias: null,
      maxLevel: 3,
      source: 'repository',
      repository: 'postgres',
      errors: [],
    });
    expect(config.calls).toBe(0);
  });

  it('asks the next repository when one says "not found"', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres' });
    const config = createInMemoryMaxLevelRepository({ name: 'config', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres, config] });

    const resolution = (await resolver.resolve('INTERNSHIP'))._unsafeUnwrap();

    expect(resolution).toMatchObject({ maxLevel: 3, source: 'repository', repository: 'config', errors: [] });
  });

  it('records a failing repository in errors and answers from the next one', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    postgres.failWith(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    const config = createInMemoryMaxLevelRepository({ name: 'config', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres, config] });

    const resolution = (await resolver.resolve('INTERNSHIP'))._unsafeUnwrap();

    expect(resolution.source).toBe('repository');
    expect(resolution.repository).toBe('config');
    expect(resolution.errors).toHaveLength(1);
    expect(resolution.errors[0]).toMatchObject({ _tag: 'RepositoryUnavailable', repository: 'postgres' });
    expect(resolution.errors[0]?.message).toContain('ECONNREFUSED');
  });

  it('answers from the cache while the value is fresh, naming the repository that supplied it', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock: createFakeClock() });

    await resolver.resolve('INTERNSHIP');
    const second = (await resolver.resolve('internship'))._unsafeUnwrap();

    expect(second).toMatchObject({ specializationId: 'INTERNSHIP', maxLevel: 3, source: 'cache', repository: 'postgres', errors: [] });
    expect(postgres.calls).toBe(1);
  });

  it('answers from the stale cache when every repository fails, with the failures listed', async () => {
    const clock = createFakeClock();
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { LFA_COACH: 7 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock });
    await resolver.resolve('LFA_COACH');

    clock.advance(10 * MINUTE);
    postgres.failWith(new Error('timeout'));
    const resolution = (await resolver.resolve('LFA_COACH'))._unsafeUnwrap();

    // 7, not the catalog constant 8: the last known good value beats the constants.
    expect(resolution).toMatchObject({ maxLevel: 7, source: 'stale-cache', repository: 'postgres' });
    expect(resolution.errors.map((error) => error._tag)).toEqual(['RepositoryUnavailable']);
  });

  it('answers from the fallback constants when no repository knows the id', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres' });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    const resolution = (await resolver.resolve('LFA_FOOTBALL_PLAYER'))._unsafeUnwrap();

    expect(resolution).toEqual({
      specializationId: 'LFA_FOOTBALL_PLAYER',
      requestedId: 'LFA_FOOTBALL_PLAYER',
      alias: null,
      maxLevel: 8,
      source: 'fallback',
      errors: [],
    });
    expect('repository' in resolution).toBe(false);
  });

  it('never caches a fallback value', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres' });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    await resolver.resolve('INTERNSHIP');
    const second = (await resolver.resolve('INTERNSHIP'))._unsafeUnwrap();

    expect(second.source).toBe('fallback');
    expect(postgres.calls).toBe(2);
  });

  it('uses explicit fallback constants instead of the catalog maxima', async () => {
    const resolver = createMaxLevelResolver({ repositories: [], fallback: { INTERNSHIP: 4, CUSTOM_TRACK: 2 } });

    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap().maxLevel).toBe(4);
    expect((await resolver.resolve('CUSTOM_TRACK'))._unsafeUnwrap()).toMatchObject({ maxLevel: 2, source: 'fallback' });
    expect((await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrapErr()._tag).toBe('UnknownSpecialization');
  });

  it('with fallback: false, a catalog id no repository knows is unknown', async () => {
    const resolver = createMaxLevelResolver({ repositories: [createInMemoryMaxLevelRepository()], fallback: false });

    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrapErr()._tag).toBe('UnknownSpecialization');
  });
});

describe('createMaxLevelResolver: unknown ids and invalid input', () => {
  it('returns UnknownSpecialization for an id no repository and no constant knows', async () => {
    const resolver = createMaxLevelResolver({ repositories: [createInMemoryMaxLevelRepository({ name: 'postgres' })] });

    const error = (await resolver.resolve('UNDERWATER_HOCKEY'))._unsafeUnwrapErr();

    expect(error).toMatchObject({ _tag: 'UnknownSpecialization', specializationId: 'UNDERWATER_HOCKEY', errors: [] });
    expect(error.message).toContain("'UNDERWATER_HOCKEY'");
  });

  it('carries the repository failures met when the id is unknown', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres' });
    postgres.failWith(new Error('relation "specializations" does not exist'));
    const config = createInMemoryMaxLevelRepository({ name: 'config', values: { UNDERWATER_HOCKEY: 0 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres, config] });

    const error = (await resolver.resolve('UNDERWATER_HOCKEY'))._unsafeUnwrapErr();

    expect(error._tag).toBe('UnknownSpecialization');
    if (error._tag !== 'UnknownSpecialization') return;
    expect(error.errors.map((issue) => [issue._tag, issue.repository])).toEqual([
      ['RepositoryUnavailable', 'postgres'],
      ['InvalidMaxLevel', 'config'],
    ]);
    expect(error.message).toContain('2 repository problems');
  });

  it.each([
    ['', '(empty)'],
    ['1PLAYER', 'starts with a digit'],
    ['PLAYER-ONE', 'has a dash'],
    ['A'.repeat(51), 'is too long'],
  ])('rejects the id %j (%s) as a ValidationError naming the field', async (id) => {
    const postgres = createInMemoryMaxLevelRepository();
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    const error = (await resolver.resolve(id))._unsafeUnwrapErr();

    expect(error).toMatchObject({ _tag: 'ValidationError', field: 'specializationId' });
    expect(error.message).toContain('specializationId');
    expect(postgres.calls).toBe(0);
  });

  it('rejects a non-string id without throwing', async () => {
    const resolver = createMaxLevelResolver({ repositories: [] });

    const error = (await resolver.resolve(42 as unknown as string))._unsafeUnwrapErr();

    expect(error).toMatchObject({ _tag: 'ValidationError', field: 'specializationId' });
  });
});

describe('createMaxLevelResolver: invalid stored maxima', () => {
  it.each([
    ['0', 0],
    ['NULL', null],
    ['a negative number', -2],
    ['a fraction', 3.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('rejects %s as InvalidMaxLevel, records it and falls through to the next repository', async (_label, value) => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: value } });
    const config = createInMemoryMaxLevelRepository({ name: 'config', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres, config] });

    const resolution = (await resolver.resolve('INTERNSHIP'))._unsafeUnwrap();

    expect(resolution).toMatchObject({ maxLevel: 3, source: 'repository', repository: 'config' });
    expect(resolution.errors).toHaveLength(1);
    expect(resolution.errors[0]).toMatchObject({ _tag: 'InvalidMaxLevel', repository: 'postgres', specializationId: 'INTERNSHIP' });
    expect(Object.is((resolution.errors[0] as { value: unknown }).value, value)).toBe(true);
  });

  it('falls through to the fallback constant when the only repository holds an invalid value', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 0 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    const resolution = (await resolver.resolve('INTERNSHIP'))._unsafeUnwrap();

    expect(resolution).toMatchObject({ maxLevel: 3, source: 'fallback' });
    expect(resolution.errors.map((error) => error._tag)).toEqual(['InvalidMaxLevel']);
    expect(resolution.errors[0]?.message).toContain('0');
  });

  it('never caches an invalid value', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 0 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], fallback: false });

    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrapErr()._tag).toBe('UnknownSpecialization');
    postgres.set('INTERNSHIP', 3);
    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap()).toMatchObject({ maxLevel: 3, source: 'repository' });
  });

  it('lists every issue met, in the order met', async () => {
    const first = createInMemoryMaxLevelRepository({ name: 'first', values: { INTERNSHIP: -1 } });
    const second = createInMemoryMaxLevelRepository({ name: 'second' });
    second.failWith('down');
    const third = createInMemoryMaxLevelRepository({ name: 'third', values: { INTERNSHIP: null } });
    const fourth = createInMemoryMaxLevelRepository({ name: 'fourth', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [first, second, third, fourth] });

    const resolution = (await resolver.resolve('INTERNSHIP'))._unsafeUnwrap();

    expect(resolution.repository).toBe('fourth');
    expect(resolution.errors.map((error) => `${error._tag}@${error.repository}`)).toEqual([
      'InvalidMaxLevel@first',
      'RepositoryUnavailable@second',
      'InvalidMaxLevel@third',
    ]);
  });
});

describe('createMaxLevelResolver: a failing repository', () => {
  it('is answered from the stale cache, then from the constants once the cache is invalidated', async () => {
    const clock = createFakeClock();
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { GANCUJU_PLAYER: 6 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock });
    expect((await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrap()).toMatchObject({ maxLevel: 6, source: 'repository' });

    clock.advance(2 * MINUTE);
    postgres.failWith(new Error('connection terminated'));
    expect((await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrap()).toMatchObject({ maxLevel: 6, source: 'stale-cache' });

    resolver.invalidate('GANCUJU_PLAYER');
    const resolution = (await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrap();
    expect(resolution).toMatchObject({ maxLevel: 8, source: 'fallback' });
    expect(resolution.errors.map((error) => error._tag)).toEqual(['RepositoryUnavailable']);
  });

  it('is not answered from the stale cache when the cache is disabled', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { GANCUJU_PLAYER: 6 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], cache: false });
    await resolver.resolve('GANCUJU_PLAYER');
    expect((await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrap().source).toBe('repository');

    postgres.failWith(new Error('down'));
    expect((await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrap()).toMatchObject({ maxLevel: 8, source: 'fallback' });
  });

  it('is answered from the stale cache when its data is invalid, not just when it is down', async () => {
    const clock = createFakeClock();
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { LFA_COACH: 5 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock });
    await resolver.resolve('LFA_COACH');

    clock.advance(2 * MINUTE);
    postgres.set('LFA_COACH', 0);
    const resolution = (await resolver.resolve('LFA_COACH'))._unsafeUnwrap();

    expect(resolution).toMatchObject({ maxLevel: 5, source: 'stale-cache' });
    expect(resolution.errors.map((error) => error._tag)).toEqual(['InvalidMaxLevel']);
  });

  it('an authoritative "not found" skips the stale cache and goes to the constants', async () => {
    const clock = createFakeClock();
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { LFA_COACH: 5, RETIRED_TRACK: 4 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock });
    await resolver.resolve('LFA_COACH');
    await resolver.resolve('RETIRED_TRACK');

    clock.advance(2 * MINUTE);
    postgres.delete('LFA_COACH');
    postgres.delete('RETIRED_TRACK');

    expect((await resolver.resolve('LFA_COACH'))._unsafeUnwrap()).toMatchObject({ maxLevel: 8, source: 'fallback', errors: [] });
    expect((await resolver.resolve('RETIRED_TRACK'))._unsafeUnwrapErr()._tag).toBe('UnknownSpecialization');
  });

  it('treats a repository that throws or rejects as unavailable, without throwing', async () => {
    const throwing: MaxLevelRepository = {
      name: 'throwing',
      findMaxLevel: () => {
        throw new Error('boom');
      },
    };
    const rejecting: MaxLevelRepository = {
      name: 'rejecting',
      findMaxLevel: () => Promise.reject(new Error('postgres://app:hunter2@db:5432/app refused')) as never,
    };
    const resolver = createMaxLevelResolver({ repositories: [throwing, rejecting] });

    const resolution = (await resolver.resolve('INTERNSHIP'))._unsafeUnwrap();

    expect(resolution).toMatchObject({ maxLevel: 3, source: 'fallback' });
    expect(resolution.errors.map((error) => `${error._tag}@${error.repository}`)).toEqual([
      'RepositoryUnavailable@throwing',
      'RepositoryUnavailable@rejecting',
    ]);
    expect(resolution.errors[1]?.message).not.toContain('hunter2');
  });

  it('masks credentials a repository left in its own error message', async () => {
    const leaky: MaxLevelRepository = {
      name: 'leaky',
      findMaxLevel: () =>
        errAsync({ _tag: 'RepositoryUnavailable', repository: 'leaky', message: 'cannot reach postgres://app:hunter2@db/app' }),
    };
    const resolver = createMaxLevelResolver({ repositories: [leaky] });

    const resolution = (await resolver.resolve('INTERNSHIP'))._unsafeUnwrap();

    expect(resolution.errors[0]?.message).toBe('cannot reach postgres://app:***@db/app');
  });

  it('treats an err that is not a RepositoryUnavailable as one', async () => {
    const odd: MaxLevelRepository = { name: 'odd', findMaxLevel: () => errAsync(new Error('weird') as never) };
    const resolver = createMaxLevelResolver({ repositories: [odd] });

    const resolution = (await resolver.resolve('INTERNSHIP'))._unsafeUnwrap();

    expect(resolution.errors[0]).toMatchObject({ _tag: 'RepositoryUnavailable', repository: 'odd' });
    expect(resolution.errors[0]?.message).toContain('weird');
  });

  it('logs repository failures at warn and fallbacks at info, without the connection string', async () => {
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres' });
    postgres.failWith(new Error('could not connect to postgres://levelsync:s3cret@db/levelsync'));
    const resolver = createMaxLevelResolver({ repositories: [postgres], logger });

    await resolver.resolve('INTERNSHIP');

    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.info).toHaveBeenCalledTimes(1);
    expect(logger.info.mock.calls[0]?.[0]).toMatchObject({ specializationId: 'INTERNSHIP', maxLevel: 3 });
    expect(JSON.stringify([logger.warn.mock.calls, logger.info.mock.calls])).not.toContain('s3cret');
  });

  it('keeps resolving when the logger itself throws', async () => {
    const broken = () => {
      throw new Error('logger down');
    };
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres' });
    postgres.failWith('down');
    const resolver = createMaxLevelResolver({
      repositories: [postgres],
      logger: { debug: broken, info: broken, warn: broken, error: broken },
    });

    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap().source).toBe('fallback');
  });
});

describe('createMaxLevelResolver: cache', () => {
  it('makes exactly one repository call for 1000 concurrent cold lookups of one id', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    const results = await Promise.all(Array.from({ length: 1000 }, () => resolver.resolve('INTERNSHIP')));

    expect(postgres.calls).toBe(1);
    expect(results.every((result) => result.isOk() && result.value.maxLevel === 3)).toBe(true);
  });

  it('shares one lookup between an alias and its canonical id asked concurrently', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { GANCUJU_PLAYER: 8 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock: createFakeClock() });

    const [byAlias, byId] = await Promise.all([resolver.resolve('PLAYER'), resolver.resolve('GANCUJU_PLAYER')]);

    expect(postgres.calls).toBe(1);
    expect(byAlias._unsafeUnwrap()).toMatchObject({ requestedId: 'PLAYER', alias: { id: 'PLAYER' }, maxLevel: 8 });
    expect(byId._unsafeUnwrap()).toMatchObject({ requestedId: 'GANCUJU_PLAYER', alias: null, maxLevel: 8 });
  });

  it('shares one lookup even when the repository answers on a real timer', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 }, delayMs: 5 });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    await Promise.all(Array.from({ length: 50 }, () => resolver.resolve('INTERNSHIP')));

    expect(postgres.calls).toBe(1);
  });

  it('serves the cache until the TTL passes, then asks the repository again', async () => {
    const clock = createFakeClock();
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock, cache: { ttlMs: MINUTE } });
    await resolver.resolve('INTERNSHIP');
    postgres.set('INTERNSHIP', 4);

    clock.advance(MINUTE - 1);
    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap()).toMatchObject({ maxLevel: 3, source: 'cache' });
    expect(postgres.calls).toBe(1);

    clock.advance(1);
    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap()).toMatchObject({ maxLevel: 4, source: 'repository' });
    expect(postgres.calls).toBe(2);
  });

  it('has a default TTL of one minute', async () => {
    const clock = createFakeClock();
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock });
    await resolver.resolve('INTERNSHIP');

    clock.advance(59_999);
    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap().source).toBe('cache');
    clock.advance(1);
    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap().source).toBe('repository');
  });

  it('evicts the least recently used id when over maxEntries', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { A_TRACK: 1, B_TRACK: 2, C_TRACK: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock: createFakeClock(), cache: { maxEntries: 2 } });
    await resolver.resolve('A_TRACK');
    await resolver.resolve('B_TRACK');
    await resolver.resolve('A_TRACK'); // A is now more recently used than B
    await resolver.resolve('C_TRACK'); // evicts B
    postgres.resetCalls();

    expect((await resolver.resolve('A_TRACK'))._unsafeUnwrap().source).toBe('cache');
    expect((await resolver.resolve('C_TRACK'))._unsafeUnwrap().source).toBe('cache');
    expect((await resolver.resolve('B_TRACK'))._unsafeUnwrap().source).toBe('repository');
    expect(postgres.calls).toBe(1);
  });

  it('an evicted id has no last known good value', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { A_TRACK: 1, B_TRACK: 2 } });
    const clock = createFakeClock();
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock, cache: { maxEntries: 1 } });
    await resolver.resolve('A_TRACK');
    await resolver.resolve('B_TRACK'); // evicts A

    clock.advance(2 * MINUTE);
    postgres.failWith('down');

    expect((await resolver.resolve('B_TRACK'))._unsafeUnwrap().source).toBe('stale-cache');
    expect((await resolver.resolve('A_TRACK'))._unsafeUnwrapErr()._tag).toBe('UnknownSpecialization');
  });

  it('invalidate(alias) drops the canonical entry; invalidate() drops every entry', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { GANCUJU_PLAYER: 8, INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock: createFakeClock() });
    await resolver.resolve('GANCUJU_PLAYER');
    await resolver.resolve('INTERNSHIP');

    resolver.invalidate('player');
    expect((await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrap().source).toBe('repository');
    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap().source).toBe('cache');

    resolver.invalidate();
    expect((await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrap().source).toBe('repository');
    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap().source).toBe('repository');
  });

  it('does not cache an answer that was under way when invalidate() was called', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock: createFakeClock() });

    const underway = resolver.resolve('INTERNSHIP');
    resolver.invalidate('INTERNSHIP');
    postgres.set('INTERNSHIP', 4);
    expect((await underway)._unsafeUnwrap().maxLevel).toBe(3);

    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap()).toMatchObject({ maxLevel: 4, source: 'repository' });
  });

  it('invalidate() ignores an invalid id', () => {
    const resolver = createMaxLevelResolver({ repositories: [] });

    expect(() => resolver.invalidate('not an id!')).not.toThrow();
  });
});

describe('createMaxLevelResolver: legacy aliases', () => {
  it('resolves PLAYER to GANCUJU_PLAYER and reports the alias (not yet deprecated)', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { GANCUJU_PLAYER: 8 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], clock: createFakeClock('2026-05-18T23:59:59Z') });

    const resolution = (await resolver.resolve('player'))._unsafeUnwrap();

    expect(resolution).toMatchObject({
      specializationId: 'GANCUJU_PLAYER',
      requestedId: 'PLAYER',
      alias: { id: 'PLAYER', deprecatedAfter: '2026-05-18', deprecated: false },
      maxLevel: 8,
      source: 'repository',
    });
  });

  it('reports a deprecated alias after its date and still resolves it by default', async () => {
    const resolver = createMaxLevelResolver({ repositories: [], clock: createFakeClock('2026-05-19T00:00:00Z') });

    const resolution = (await resolver.resolve('COACH'))._unsafeUnwrap();

    expect(resolution).toMatchObject({
      specializationId: 'LFA_COACH',
      alias: { id: 'COACH', deprecatedAfter: '2026-05-18', deprecated: true },
      maxLevel: 8,
      source: 'fallback',
    });
  });

  it('with refuseDeprecatedAliases, refuses an alias after its date with the original message', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { GANCUJU_PLAYER: 8 } });
    const resolver = createMaxLevelResolver({
      repositories: [postgres],
      clock: createFakeClock('2026-05-19T00:00:00Z'),
      refuseDeprecatedAliases: true,
    });

    const error = (await resolver.resolve('PLAYER'))._unsafeUnwrapErr();

    expect(error).toEqual({
      _tag: 'DeprecatedSpecializationId',
      specializationId: 'PLAYER',
      canonicalId: 'GANCUJU_PLAYER',
      deprecatedAfter: '2026-05-18',
      message: "Specialization ID 'PLAYER' is no longer supported. Use 'GANCUJU_PLAYER' instead.",
    });
    expect(postgres.calls).toBe(0);
    expect((await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrap().maxLevel).toBe(8);
  });

  it('with refuseDeprecatedAliases, still accepts an alias before its date', async () => {
    const resolver = createMaxLevelResolver({
      repositories: [],
      clock: createFakeClock('2026-05-18T12:00:00Z'),
      refuseDeprecatedAliases: true,
    });

    expect((await resolver.resolve('PLAYER'))._unsafeUnwrap()).toMatchObject({ alias: { deprecated: false }, maxLevel: 8 });
  });

  it('asks a repository that stores the legacy id under both ids, canonical first, and finds it', async () => {
    const legacy = createInMemoryMaxLevelRepository({ name: 'postgres', values: { PLAYER: 7 } });
    const asked: string[] = [];
    const spy: MaxLevelRepository = {
      name: legacy.name,
      findMaxLevel: (id) => {
        asked.push(id);
        return legacy.findMaxLevel(id);
      },
    };
    const resolver = createMaxLevelResolver({ repositories: [spy] });

    const resolution = (await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrap();

    expect(asked).toEqual(['GANCUJU_PLAYER', 'PLAYER']);
    expect(resolution).toMatchObject({ specializationId: 'GANCUJU_PLAYER', alias: null, maxLevel: 7, source: 'repository', repository: 'postgres' });
  });

  it('prefers the row under the canonical id over the legacy row', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { PLAYER: 5, GANCUJU_PLAYER: 8 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    expect((await resolver.resolve('PLAYER'))._unsafeUnwrap().maxLevel).toBe(8);
  });

  it('does not ask an unavailable repository again under the aliases', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres' });
    postgres.failWith('down');
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    const resolution = (await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrap();

    expect(postgres.calls).toBe(1);
    expect(resolution.errors).toHaveLength(1);
  });

  it('works with a custom catalog where PLAYER is the canonical id', async () => {
    const catalog = defineCatalog([
      { id: 'PLAYER', name: 'Player', maxLevel: 8 },
      { id: 'COACH', name: 'Coach', maxLevel: 8, aliases: [{ id: 'TRAINER' }] },
      { id: 'INTERNSHIP', name: 'Internship', maxLevel: 3 },
    ]);
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { PLAYER: 6, TRAINER: 7 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], catalog });

    expect(resolver.catalog).toBe(catalog);
    expect((await resolver.resolve('player'))._unsafeUnwrap()).toMatchObject({
      specializationId: 'PLAYER',
      alias: null,
      maxLevel: 6,
      source: 'repository',
    });
    expect((await resolver.resolve('TRAINER'))._unsafeUnwrap()).toMatchObject({
      specializationId: 'COACH',
      alias: { id: 'TRAINER', deprecatedAfter: null, deprecated: false },
      maxLevel: 7,
    });
    // GANCUJU_PLAYER is not in this catalog: no constant, no repository row.
    expect((await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrapErr()._tag).toBe('UnknownSpecialization');
  });
});

describe('createMaxLevelResolver: options', () => {
  it.each([
    ['zero', 0],
    ['a negative number', -1],
    ['a fraction', 2.5],
    ['NaN', Number.NaN],
    ['a string', '8' as unknown as number],
  ])('throws a TypeError for a fallback constant that is %s', (_label, value) => {
    expect(() => createMaxLevelResolver({ repositories: [], fallback: { INTERNSHIP: value } })).toThrow(TypeError);
    expect(() => createMaxLevelResolver({ repositories: [], fallback: { INTERNSHIP: value } })).toThrow(/fallback\.INTERNSHIP/);
  });

  it('throws a TypeError for a fallback keyed by an alias or an invalid id', () => {
    expect(() => createMaxLevelResolver({ repositories: [], fallback: { PLAYER: 8 } })).toThrow(/GANCUJU_PLAYER/);
    expect(() => createMaxLevelResolver({ repositories: [], fallback: { 'not an id': 8 } })).toThrow(TypeError);
  });

  it('throws a TypeError for invalid cache settings or repositories', () => {
    expect(() => createMaxLevelResolver({ repositories: [], cache: { ttlMs: -1 } })).toThrow(TypeError);
    expect(() => createMaxLevelResolver({ repositories: [], cache: { maxEntries: 0 } })).toThrow(TypeError);
    expect(() => createMaxLevelResolver({ repositories: [{ name: 'x' } as MaxLevelRepository] })).toThrow(TypeError);
  });

  it('accepts a repository built from neverthrow helpers', async () => {
    const repository: MaxLevelRepository = {
      name: 'static',
      findMaxLevel: (id) => (id === 'INTERNSHIP' ? okAsync({ specializationId: id, maxLevel: 3 }) : errAsync(repositoryUnavailable('static', 'nope'))),
    };
    const resolver = createMaxLevelResolver({ repositories: [repository] });

    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap()).toMatchObject({ maxLevel: 3, repository: 'static' });
    expect((await resolver.resolve('LFA_COACH'))._unsafeUnwrap()).toMatchObject({ maxLevel: 8, source: 'fallback' });
  });
});
