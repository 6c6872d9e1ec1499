import { describe, expect, it } from 'vitest';
import { parseSpecializationId, SPECIALIZATION_ID_PATTERN } from '../../src/domain/specialization-id.js';

describe('parseSpecializationId', () => {
  it.each([
    ['lfa_coach', 'LFA_COACH'],
    ['  Internship ', 'INTERNSHIP'],
    ['GANCUJU_PLAYER', 'GANCUJU_PLAYER'],
    ['a', 'A'],
    ['x'.repeat(50), 'X'.repeat(50)],
  ])('normalises %j to %s', (input, expected) => {
    expect(parseSpecializationId(input)._unsafeUnwrap()).toBe(expected);
    expect(SPECIALIZATION_ID_PATTERN.test(expected)).toBe(true);
  });

  it.each([[''], ['   '], ['1PLAYER'], ['_PLAYER'], ['LFA-COACH'], ['LFA COACH'], ['ÉLÈVE'], ['x'.repeat(51)], [null], [42], [undefined]])(
    'rejects %j as a ValidationError naming the field',
    (input) => {
      const error = parseSpecializationId(input)._unsafeUnwrapErr();
      expect(error).toMatchObject({ _tag: 'ValidationError', subject: 'specialization id', field: 'specializationId' });
      expect(error.message).toMatch(/^Invalid specialization id: specializationId: /);
    },
  );

  it('names the field it is given', () => {
    expect(parseSpecializationId('bad id', 'body.specialization')._unsafeUnwrapErr().field).toBe('body.specialization');
  });
});
