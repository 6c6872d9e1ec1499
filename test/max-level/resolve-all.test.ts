import { describe, expect, it } from 'vitest';
import { createMaxLevelResolver, type MaxLevelRepository } from 'levelsync';
import { createInMemoryMaxLevelRepository } from 'levelsync/testing';
import { createFakeClock } from './fake-clock.js';

/** A repository without findAll: the resolver must ask it one id at a time. */
function withoutFindAll(repository: MaxLevelRepository): MaxLevelRepository & { asked: string[] } {
  const asked: string[] = [];
  return {
    name: repository.name,
    asked,
    findMaxLevel: (id) => {
      asked.push(id);
      return repository.findMaxLevel(id);
    },
  };
}

describe('resolveAll()', () => {
  it('makes one findAll() call per repository and resolves every catalog id', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { GANCUJU_PLAYER: 8, INTERNSHIP: 3 } });
    const config = createInMemoryMaxLevelRepository({ name: 'config', values: { LFA_COACH: 7 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres, config] });

    const table = await resolver.resolveAll();

    expect(postgres.calls).toBe(1);
    expect(config.calls).toBe(1);
    expect([...table.resolutions.keys()]).toEqual(['GANCUJU_PLAYER', 'INTERNSHIP', 'LFA_COACH', 'LFA_FOOTBALL_PLAYER']);
    expect(table.resolutions.get('GANCUJU_PLAYER')).toMatchObject({ maxLevel: 8, source: 'repository', repository: 'postgres' });
    expect(table.resolutions.get('LFA_COACH')).toMatchObject({ maxLevel: 7, source: 'repository', repository: 'config' });
    expect(table.resolutions.get('LFA_FOOTBALL_PLAYER')).toMatchObject({ maxLevel: 8, source: 'fallback' });
    expect(table.unresolved.size).toBe(0);
  });

  it('merges the catalog ids with every id the repositories return, and lists the unresolved ones', async () => {
    const postgres = createInMemoryMaxLevelRepository({
      name: 'postgres',
      values: { INTERNSHIP: 3, FUTSAL_REFEREE: 5, BROKEN_TRACK: 0 },
    });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    const table = await resolver.resolveAll();

    expect(table.maxLevelOf('FUTSAL_REFEREE')).toBe(5);
    expect(table.maxLevelOf('INTERNSHIP')).toBe(3);
    expect(table.maxLevelOf('GANCUJU_PLAYER')).toBe(8);
    expect(table.maxLevelOf('BROKEN_TRACK')).toBeUndefined();
    expect([...table.unresolved.keys()]).toEqual(['BROKEN_TRACK']);
    const error = table.unresolved.get('BROKEN_TRACK');
    expect(error?._tag).toBe('UnknownSpecialization');
    expect(error?._tag === 'UnknownSpecialization' && error.errors.map((issue) => issue._tag)).toEqual(['InvalidMaxLevel']);
  });

  it('counts a row stored under a legacy alias for the canonical id', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { PLAYER: 7, COACH: 6 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    const table = await resolver.resolveAll();

    expect(postgres.calls).toBe(1);
    expect(table.resolutions.has('PLAYER')).toBe(false);
    expect(table.resolutions.get('GANCUJU_PLAYER')).toMatchObject({ maxLevel: 7, source: 'repository' });
    expect(table.maxLevelOf('LFA_COACH')).toBe(6);
    expect(table.maxLevelOf('COACH')).toBe(6);
  });

  it('includes the fallback ids', async () => {
    const resolver = createMaxLevelResolver({ repositories: [], fallback: { INTERNSHIP: 3, SUMMER_CAMP: 2 } });

    const table = await resolver.resolveAll();

    expect(table.maxLevelOf('SUMMER_CAMP')).toBe(2);
    // Catalog ids without a constant (fallback replaced) are listed as unresolved.
    expect([...table.unresolved.keys()]).toEqual(['GANCUJU_PLAYER', 'LFA_COACH', 'LFA_FOOTBALL_PLAYER']);
  });

  it('asks a repository without findAll() one id at a time, contributing no ids of its own', async () => {
    const config = withoutFindAll(createInMemoryMaxLevelRepository({ name: 'config', values: { INTERNSHIP: 3, HIDDEN_TRACK: 4 } }));
    const resolver = createMaxLevelResolver({ repositories: [config] });

    const table = await resolver.resolveAll();

    expect(table.maxLevelOf('INTERNSHIP')).toBe(3);
    expect(table.resolutions.has('HIDDEN_TRACK')).toBe(false);
    expect(config.asked).toContain('GANCUJU_PLAYER');
    expect(config.asked).toContain('PLAYER');
  });

  it('records a failing findAll() for every id and still resolves from the stale cache and the constants', async () => {
    const clock = createFakeClock();
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3, LFA_COACH: 6 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], now: clock });
    await resolver.resolveAll();

    clock.advance(5 * 60_000);
    postgres.failWith(new Error('down'));
    postgres.resetCalls();
    const table = await resolver.resolveAll();

    expect(postgres.calls).toBe(1);
    expect(table.resolutions.get('LFA_COACH')).toMatchObject({ maxLevel: 6, source: 'stale-cache' });
    expect(table.resolutions.get('GANCUJU_PLAYER')).toMatchObject({ maxLevel: 8, source: 'fallback' });
    for (const resolution of table.resolutions.values()) {
      expect(resolution.errors.map((error) => error._tag)).toEqual(['RepositoryUnavailable']);
    }
  });

  it('caches what it learns: a later resolve() is a cache hit', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], now: createFakeClock() });
    await resolver.resolveAll();

    const resolution = (await resolver.resolve('INTERNSHIP'))._unsafeUnwrap();

    expect(resolution).toMatchObject({ source: 'cache', repository: 'postgres', maxLevel: 3 });
    expect(postgres.calls).toBe(1);
  });

  it('shares one run between concurrent calls', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    const tables = await Promise.all(Array.from({ length: 20 }, () => resolver.resolveAll()));

    expect(postgres.calls).toBe(1);
    expect(tables.every((table) => table.maxLevelOf('INTERNSHIP') === 3)).toBe(true);
  });
});

describe('resolveAll(ids)', () => {
  it('resolves only the given ids, deduplicated by canonical id, with one findAll() call', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { GANCUJU_PLAYER: 8, INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    const table = await resolver.resolveAll(['internship', 'PLAYER', 'GANCUJU_PLAYER', 'INTERNSHIP']);

    expect(postgres.calls).toBe(1);
    expect([...table.resolutions.keys()]).toEqual(['GANCUJU_PLAYER', 'INTERNSHIP']);
    // Asked both ways: the canonical request is reported.
    expect(table.resolutions.get('GANCUJU_PLAYER')).toMatchObject({ requestedId: 'GANCUJU_PLAYER', alias: null });
  });

  it('reports the alias when only the alias was asked', async () => {
    const resolver = createMaxLevelResolver({ repositories: [], now: createFakeClock() });

    const table = await resolver.resolveAll(['COACH']);

    expect(table.resolutions.get('LFA_COACH')).toMatchObject({ requestedId: 'COACH', alias: { id: 'COACH' }, maxLevel: 8 });
  });

  it('lists unknown, invalid and refused ids as unresolved without failing as a whole', async () => {
    const resolver = createMaxLevelResolver({
      repositories: [createInMemoryMaxLevelRepository()],
      now: createFakeClock('2027-01-01T00:00:00Z'),
      refuseDeprecatedAliases: true,
    });

    // Never fails as a whole: it returns the table itself.
    const table = await resolver.resolveAll(['INTERNSHIP', 'NOBODY_KNOWS', 'bad id!', 'COACH']);

    expect(table.maxLevelOf('INTERNSHIP')).toBe(3);
    expect(Object.fromEntries([...table.unresolved].map(([id, error]) => [id, error._tag]))).toEqual({
      NOBODY_KNOWS: 'UnknownSpecialization',
      'bad id!': 'ValidationError',
      LFA_COACH: 'DeprecatedSpecializationId',
    });
  });

  it('serves fresh cache entries without asking the repositories', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres], now: createFakeClock() });
    await resolver.resolve('INTERNSHIP');

    const table = await resolver.resolveAll(['INTERNSHIP']);

    expect(table.resolutions.get('INTERNSHIP')?.source).toBe('cache');
    expect(postgres.calls).toBe(1);
  });

  it('joins a resolve() already under way for the same id', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    await Promise.all([resolver.resolve('INTERNSHIP'), resolver.resolveAll(['INTERNSHIP']), resolver.resolveAll(['INTERNSHIP'])]);

    expect(postgres.calls).toBe(1);
  });

  it('does not call findAll() of a later repository when an earlier one resolved every id', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const config = createInMemoryMaxLevelRepository({ name: 'config', values: { INTERNSHIP: 4 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres, config] });

    await resolver.resolveAll(['INTERNSHIP']);

    expect(postgres.calls).toBe(1);
    expect(config.calls).toBe(0);
  });
});

describe('resolveAll() with a repository that breaks the port contract', () => {
  it('treats a throwing or malformed findAll() as unavailable and never fails as a whole', async () => {
    const throwing: MaxLevelRepository = {
      name: 'throwing',
      findMaxLevel: () => {
        throw new Error('boom');
      },
      findAll: () => {
        throw new Error('boom');
      },
    };
    const malformed = createInMemoryMaxLevelRepository({ name: 'malformed' });
    const broken: MaxLevelRepository = {
      name: 'malformed',
      findMaxLevel: (id) => malformed.findMaxLevel(id),
      findAll: () => malformed.findMaxLevel('X') as never, // ok(null): not a list
    };
    const resolver = createMaxLevelResolver({ repositories: [throwing, broken] });

    const table = await resolver.resolveAll();

    expect(table.maxLevelOf('INTERNSHIP')).toBe(3);
    expect(table.resolutions.get('INTERNSHIP')?.errors.map((error) => `${error._tag}@${error.repository}`)).toEqual([
      'RepositoryUnavailable@throwing',
      'RepositoryUnavailable@malformed',
    ]);
  });
});
