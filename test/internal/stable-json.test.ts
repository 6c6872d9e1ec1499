import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintOf, stableStringify } from '../../src/_internal/stable-json.js';

/**
 * The reference: the first release's writer, verbatim in behaviour. Plans saved by it must keep
 * their fingerprints, so the faster writer has to produce exactly the same text. (A sorted copy
 * through JSON.stringify is no reference: integer-like keys come first in a JS object.)
 */
function referenceStable(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(referenceStable).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, v]) => `${JSON.stringify(key)}:${referenceStable(v)}`).join(',')}}`;
}

const json = fc.anything({
  values: [fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined)],
  key: fc.string(),
  maxDepth: 4,
});

describe('stable JSON', () => {
  it('writes exactly the text of the reference writer (1000 random values)', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(stableStringify(value)).toBe(referenceStable(value));
        expect(JSON.parse(stableStringify(value) ?? 'null')).toEqual(JSON.parse(JSON.stringify(value) ?? 'null'));
      }),
      { numRuns: 1000 },
    );
  });

  it('does not depend on key order, and leaves undefined members out', () => {
    expect(stableStringify({ b: 1, a: [3, undefined, { d: undefined, c: 'x"y' }] })).toBe('{"a":[3,null,{"c":"x\\"y"}],"b":1}');
    expect(stableStringify({ a: 1, b: 2 })).toBe(stableStringify({ b: 2, a: 1 }));
    expect(stableStringify([Number.NaN, -0, Infinity])).toBe('[null,0,null]');
  });

  it('fingerprints the same text it writes, also past the 64 KiB pieces it hashes in', () => {
    const big = { actions: Array.from({ length: 5_000 }, (_, i) => ({ i, note: `é ${'x'.repeat(i % 50)}` })) };
    const text = stableStringify(big);
    expect(text.length).toBeGreaterThan(200_000);
    expect(fingerprintOf(big)).toBe(`sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`);
  });
});
