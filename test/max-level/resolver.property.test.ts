import { errAsync, okAsync } from 'neverthrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMaxLevelResolver, type MaxLevelRepository, repositoryUnavailable } from 'levelsync';

type Outcome =
  | { kind: 'value'; maxLevel: number }
  | { kind: 'none' }
  | { kind: 'invalid'; maxLevel: number | null }
  | { kind: 'error' }
  | { kind: 'throw' };

const outcome: fc.Arbitrary<Outcome> = fc.oneof(
  fc.record({ kind: fc.constant('value' as const), maxLevel: fc.integer({ min: 1, max: 1_000 }) }),
  fc.constant({ kind: 'none' as const }),
  fc.record({
    kind: fc.constant('invalid' as const),
    maxLevel: fc.oneof(
      fc.constantFrom(0, null, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3.5),
      fc.integer({ max: 0 }),
      fc.double({ noInteger: true }),
    ),
  }),
  fc.constant({ kind: 'error' as const }),
  fc.constant({ kind: 'throw' as const }),
);

function repositoryAnswering(name: string, answer: Outcome): MaxLevelRepository {
  return {
    name,
    findMaxLevel: (specializationId) => {
      switch (answer.kind) {
        case 'value':
        case 'invalid':
          return okAsync({ specializationId, maxLevel: answer.maxLevel });
        case 'none':
          return okAsync(null);
        case 'error':
          return errAsync(repositoryUnavailable(name, new Error('down')));
        case 'throw':
          throw new Error('a repository that breaks the port contract');
      }
    },
  };
}

describe('createMaxLevelResolver (property)', () => {
  it('never returns an invalid maxLevel, never throws, and reports a source consistent with the outcomes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(outcome, { maxLength: 5 }),
        fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
        async (outcomes, fallbackConstant) => {
          const repositories = outcomes.map((answer, index) => repositoryAnswering(`repo${index}`, answer));
          const resolver = createMaxLevelResolver({
            repositories,
            fallback: fallbackConstant === undefined ? false : { SOME_TRACK: fallbackConstant },
          });

          const result = await resolver.resolve('SOME_TRACK');

          const firstValue = outcomes.findIndex((answer) => answer.kind === 'value');
          const before = firstValue === -1 ? outcomes : outcomes.slice(0, firstValue);
          const problems = before.filter((answer) => answer.kind !== 'none').length;
          if (firstValue !== -1) {
            const resolution = result._unsafeUnwrap();
            expect(resolution.source).toBe('repository');
            expect(resolution.repository).toBe(`repo${firstValue}`);
            expect(resolution.maxLevel).toBe((outcomes[firstValue] as { maxLevel: number }).maxLevel);
            expect(resolution.errors).toHaveLength(problems);
          } else if (fallbackConstant !== undefined) {
            const resolution = result._unsafeUnwrap();
            expect(resolution).toMatchObject({ source: 'fallback', maxLevel: fallbackConstant });
            expect(resolution.errors).toHaveLength(problems);
          } else {
            const error = result._unsafeUnwrapErr();
            expect(error._tag).toBe('UnknownSpecialization');
            expect(error._tag === 'UnknownSpecialization' && error.errors).toHaveLength(problems);
          }
          if (result.isOk()) {
            expect(Number.isInteger(result.value.maxLevel) && result.value.maxLevel >= 1).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('after a repository answer, later failures answer from the stale cache with the cached value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000 }), fc.array(outcome, { minLength: 1, maxLength: 4 }), async (cached, later) => {
        let now = 0;
        let answers: Outcome[] = [{ kind: 'value', maxLevel: cached }];
        const repositories = [0, 1, 2, 3].map((index) => ({
          name: `repo${index}`,
          findMaxLevel: (id: string) => repositoryAnswering(`repo${index}`, answers[index] ?? { kind: 'none' }).findMaxLevel(id),
        }));
        const resolver = createMaxLevelResolver({ repositories, fallback: false, clock: () => now });
        await resolver.resolve('SOME_TRACK');

        now += 120_000;
        answers = later;
        const result = await resolver.resolve('SOME_TRACK');

        const value = later.find((answer) => answer.kind === 'value');
        const failed = later.some((answer) => answer.kind === 'error' || answer.kind === 'throw' || answer.kind === 'invalid');
        if (value !== undefined) expect(result._unsafeUnwrap()).toMatchObject({ source: 'repository', maxLevel: value.maxLevel });
        else if (failed) expect(result._unsafeUnwrap()).toMatchObject({ source: 'stale-cache', maxLevel: cached, repository: 'repo0' });
        else expect(result._unsafeUnwrapErr()._tag).toBe('UnknownSpecialization');
      }),
      { numRuns: 200 },
    );
  });
});
