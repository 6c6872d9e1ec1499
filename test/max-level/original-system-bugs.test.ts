import { describe, expect, it } from 'vitest';
import { createMaxLevelResolver } from 'levelsync';
import { createInMemoryMaxLevelRepository } from 'levelsync/testing';

// The original system's max-level helper (as its deployment report and code describe it): hard-coded
// INTERNSHIP 5 until 2025-10-25; `.get(spec, 1)` for unknown ids (so every renamed specialization
// got 1 once the DB column was dropped); `.get(spec, 8)` from 2026-01-23.
describe('bugs of the original system, reproduced and shown fixed', () => {
  it('INTERNSHIP resolves to 3, not the hard-coded 5', async () => {
    const resolver = createMaxLevelResolver({ repositories: [] });

    const resolution = (await resolver.resolve('INTERNSHIP'))._unsafeUnwrap();

    expect(resolution.maxLevel).toBe(3);
    expect(resolution.maxLevel).not.toBe(5);
  });

  it('INTERNSHIP resolves to the database value 3 while the database answers', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap()).toMatchObject({ maxLevel: 3, source: 'repository' });
  });

  it('an id no one knows is an UnknownSpecialization error, neither a silent 1 nor a silent 8', async () => {
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { INTERNSHIP: 3 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    const result = await resolver.resolve('LFA_PLAYER_PRE');

    expect(result.isErr()).toBe(true);
    expect(result._unsafeUnwrapErr()._tag).toBe('UnknownSpecialization');
  });

  it('a renamed specialization resolves to 8 through the fallback when the database column is gone', async () => {
    // After 2025-11-18 the query raised (no `max_levels` column), the error was swallowed and the
    // `.get(spec, 1)` fallback capped GANCUJU_PLAYER at 1.
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres' });
    postgres.failWith(new Error('column specializations.max_levels does not exist'));
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    const resolution = (await resolver.resolve('GANCUJU_PLAYER'))._unsafeUnwrap();

    expect(resolution).toMatchObject({ specializationId: 'GANCUJU_PLAYER', maxLevel: 8, source: 'fallback' });
    expect(resolution.maxLevel).not.toBe(1);
    // …and the failure is no longer swallowed.
    expect(resolution.errors).toHaveLength(1);
    expect(resolution.errors[0]).toMatchObject({ _tag: 'RepositoryUnavailable', repository: 'postgres' });
    expect(resolution.errors[0]?.message).toContain('max_levels does not exist');
  });

  it('a stored 0 or NULL is reported, not silently replaced by a constant', async () => {
    // The original treated a falsy value as "absent" (`if row and row.max_levels`) and said nothing.
    const postgres = createInMemoryMaxLevelRepository({ name: 'postgres', values: { LFA_COACH: 0 } });
    const resolver = createMaxLevelResolver({ repositories: [postgres] });

    const resolution = (await resolver.resolve('LFA_COACH'))._unsafeUnwrap();

    expect(resolution.source).toBe('fallback');
    expect(resolution.errors.map((error) => error._tag)).toEqual(['InvalidMaxLevel']);
  });
});
