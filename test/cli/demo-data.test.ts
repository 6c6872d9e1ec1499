import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG } from 'levelsync';
import { DEMO_STORIES, DEMO_UNKNOWN_SPECIALIZATION, generateDemoData } from '../../src/cli/demo/demo-data.js';
import { createPrng } from '../../src/cli/demo/prng.js';

describe('the demo data generator', () => {
  it('is deterministic: the same seed gives the same rows, another seed other rows', () => {
    const a = generateDemoData({ learners: 500, seed: 42 });
    expect(generateDemoData({ learners: 500, seed: 42 })).toEqual(a);
    expect(generateDemoData({ learners: 500, seed: 43 }).progress).not.toEqual(a.progress);
  });

  it('plants every story at least once, on its own pair', () => {
    const data = generateDemoData({ learners: 4_000, seed: 42 });
    for (const story of DEMO_STORIES) expect(data.planted[story], story).toBeGreaterThan(0);
    // Duplicates only where planted: one pair per duplicate story.
    const count = new Map<string, number>();
    for (const p of data.progress) count.set(`${p.userId}/${p.specializationId}`, (count.get(`${p.userId}/${p.specializationId}`) ?? 0) + 1);
    expect([...count.values()].filter((n) => n > 1)).toHaveLength(data.planted.duplicateProgress);
    const licenseKeys = data.licenses.map((l) => `${l.userId}/${l.specializationId}`);
    expect(new Set(licenseKeys).size).toBe(licenseKeys.length); // user_licenses keeps its unique key
  });

  it('keeps levels within each maximum except where a story plants otherwise', () => {
    const data = generateDemoData({ learners: 2_000, seed: 7 });
    const above = data.licenses.filter((l) => {
      const max = DEFAULT_CATALOG.get(l.specializationId)?.maxLevel;
      return max !== undefined && l.level > max;
    });
    expect(above.every((l) => l.specializationId === 'INTERNSHIP')).toBe(true);
    expect(above).toHaveLength(data.planted.aboveMax);
    expect(data.progress.filter((p) => p.level === null)).toHaveLength(data.planted.nullLevel);
    expect(data.progress.filter((p) => p.specializationId === DEMO_UNKNOWN_SPECIALIZATION)).toHaveLength(data.planted.unknownSpecialization);
    expect(data.progressions.every((h) => h.advancedBy === data.adminId && h.toLevel === h.fromLevel + 1)).toBe(true);
    expect(data.progressions).toHaveLength(data.planted.adminAdvanced);
  });

  it('has a PRNG that spreads its values and replays them', () => {
    const rng = createPrng(1);
    const values = Array.from({ length: 1_000 }, () => rng.next());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(new Set(values.map((v) => Math.floor(v * 10))).size).toBe(10);
    const again = createPrng(1);
    expect(Array.from({ length: 1_000 }, () => again.next())).toEqual(values);
  });
});
