import { describe, expect, it } from 'vitest';
import { createCatalog, defineCatalog, type SpecializationInput } from 'levelsync';
import { isAliasDeprecated } from '../../src/domain/catalog.js';

const level = (n: number) => ({ level: n, code: `level_${n}`, name: `Level ${n}`, thresholds: { xp: n * 100, sessions: n } });

describe('createCatalog', () => {
  it('rejects an id defined twice, naming the field', () => {
    const error = createCatalog([
      { id: 'INTERNSHIP', name: 'Internship', maxLevel: 3 },
      { id: 'internship', name: 'Internship again', maxLevel: 3 },
    ])._unsafeUnwrapErr();

    expect(error).toMatchObject({ _tag: 'ValidationError', subject: 'catalog', field: 'specializations[1].id' });
    expect(error.message).toContain('"INTERNSHIP" is defined twice');
  });

  it('rejects an alias that names two specializations, naming the field', () => {
    const error = createCatalog([
      { id: 'GANCUJU_PLAYER', name: 'GanCuju Player', maxLevel: 8, aliases: [{ id: 'PLAYER' }] },
      { id: 'LFA_FOOTBALL_PLAYER', name: 'LFA Football Player', maxLevel: 8, aliases: [{ id: 'PLAYER' }] },
    ])._unsafeUnwrapErr();

    expect(error.field).toBe('specializations[1].aliases[0].id');
  });

  it('rejects an alias that is another specialization id', () => {
    const error = createCatalog([
      { id: 'PLAYER', name: 'Player', maxLevel: 8 },
      { id: 'GANCUJU_PLAYER', name: 'GanCuju Player', maxLevel: 8, aliases: [{ id: 'PLAYER' }] },
    ])._unsafeUnwrapErr();

    expect(error.field).toBe('specializations[1].aliases[0].id');
  });

  it('rejects levels numbered out of order, naming the level', () => {
    const error = createCatalog([{ id: 'TRACK', name: 'Track', maxLevel: 3, levels: [level(1), level(3)] }])._unsafeUnwrapErr();

    expect(error.field).toBe('specializations[0].levels[1].level');
    expect(error.message).toContain('must be 2');
  });

  it("rejects more levels than maxLevel (the original's 5 internship levels against a maximum of 3)", () => {
    const error = createCatalog([
      { id: 'INTERNSHIP', name: 'Internship', maxLevel: 3, levels: [1, 2, 3, 4, 5].map(level) },
    ])._unsafeUnwrapErr();

    expect(error.field).toBe('specializations[0].levels');
    expect(error.message).toContain('defines 5 levels but maxLevel is 3');
  });

  it.each([
    [{ id: 'TRACK', name: 'Track', maxLevel: 0 }, 'specializations[0].maxLevel'],
    [{ id: 'TRACK', name: 'Track', maxLevel: 2.5 }, 'specializations[0].maxLevel'],
    [{ id: '9TRACK', name: 'Track', maxLevel: 3 }, 'specializations[0].id'],
    [{ id: 'TRACK', name: ' ', maxLevel: 3 }, 'specializations[0].name'],
    [{ id: 'TRACK', name: 'Track', maxLevel: 3, aliases: [{ id: 'TRACK' }] }, 'specializations[0].aliases[0].id'],
    [{ id: 'TRACK', name: 'Track', maxLevel: 3, aliases: [{ id: 'OLD', deprecatedAfter: 'soon' }] }, 'specializations[0].aliases[0].deprecatedAfter'],
  ])('rejects the specialization %j naming %s', (spec, field) => {
    expect(createCatalog([spec as SpecializationInput])._unsafeUnwrapErr().field).toBe(field);
  });

  it('maps aliases to canonical ids, case-insensitively, and lists the aliases of an id', () => {
    const catalog = createCatalog([
      { id: 'GANCUJU_PLAYER', name: 'GanCuju Player', maxLevel: 8, aliases: [{ id: 'PLAYER', deprecatedAfter: '2026-05-18' }] },
      { id: 'INTERNSHIP', name: 'Internship', maxLevel: 3 },
    ])._unsafeUnwrap();

    expect(catalog.lookup(' player ')).toEqual({ canonicalId: 'GANCUJU_PLAYER', alias: { id: 'PLAYER', deprecatedAfter: '2026-05-18' } });
    expect(catalog.lookup('internship')).toEqual({ canonicalId: 'INTERNSHIP', alias: null });
    expect(catalog.lookup('UNKNOWN_TRACK')).toEqual({ canonicalId: 'UNKNOWN_TRACK', alias: null });
    expect(catalog.canonicalId('Player')).toBe('GANCUJU_PLAYER');
    expect(catalog.aliasesOf('GANCUJU_PLAYER')).toEqual(['PLAYER']);
    expect(catalog.aliasesOf('INTERNSHIP')).toEqual([]);
    expect(catalog.get('player')?.id).toBe('GANCUJU_PLAYER');
    expect(catalog.get('UNKNOWN_TRACK')).toBeUndefined();
    expect([...catalog.aliasMap]).toEqual([['PLAYER', 'GANCUJU_PLAYER']]);
  });
});

describe('defineCatalog', () => {
  it('throws a TypeError for an invalid definition', () => {
    expect(() => defineCatalog([{ id: 'TRACK', name: 'Track', maxLevel: 0 }])).toThrow(TypeError);
  });
});

describe('isAliasDeprecated', () => {
  const alias = { id: 'PLAYER', deprecatedAfter: '2026-05-18' };

  it('is false up to and including the deprecation date, true after it (UTC)', () => {
    expect(isAliasDeprecated(alias, new Date('2026-05-18T23:59:59Z'))).toBe(false);
    expect(isAliasDeprecated(alias, new Date('2026-05-19T00:00:00Z'))).toBe(true);
  });

  it('is false for an alias without a date', () => {
    expect(isAliasDeprecated({ id: 'PLAYER' }, new Date('2999-01-01T00:00:00Z'))).toBe(false);
  });
});
