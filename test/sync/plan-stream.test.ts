import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyPlan,
  comparePairKeys,
  createPlan,
  createPlanStream,
  encodePlanLines,
  openDesyncScan,
  parsePlan,
  planFingerprint,
  readPlanLines,
  scanDesyncs,
  storeUnavailable,
  type PlanStream,
  type SyncStore,
} from 'levelsync';
import { collectPlan } from '../../src/sync/plan-stream.js';
import type { InMemorySyncStore } from 'levelsync/testing';
import { store, testResolver } from './fixtures.js';

const NOW = new Date('2026-01-02T03:04:05.000Z');

/** Pairs of every kind the planner handles, over a few users: n users × mismatches, orphans, clamps. */
function mixed(n = 40): InMemorySyncStore {
  const users = Array.from({ length: n }, (_, i) => i + 1);
  return store({
    progress: users.flatMap((userId) => [
      { userId, specializationId: 'LFA_COACH', level: 3 },
      ...(userId % 3 === 0 ? [] : [{ userId, specializationId: 'INTERNSHIP', level: userId % 5 === 0 ? 5 : 2 }]),
      ...(userId % 4 === 0 ? [{ userId, specializationId: 'PLAYER', level: 4 }] : []),
    ]),
    licenses: users.flatMap((userId) => [
      { userId, specializationId: 'LFA_COACH', level: userId % 2 === 0 ? 2 : 3, maxAchievedLevel: 3 },
      ...(userId % 3 === 0 ? [{ userId, specializationId: 'INTERNSHIP', level: 1, maxAchievedLevel: 1 }] : []),
    ]),
  });
}

async function streamFor(s: SyncStore, pageSize = 7): Promise<PlanStream> {
  const scan = (await openDesyncScan(s, { resolver: testResolver(), pageSize }))._unsafeUnwrap();
  return createPlanStream(scan, { now: () => NOW })._unsafeUnwrap();
}

/** A plan file's text from a plan stream (what `levelsync plan --out` writes). */
async function fileText(plan: PlanStream): Promise<string> {
  let text = '';
  for await (const piece of encodePlanLines(plan)) text += piece._unsafeUnwrap();
  return text;
}

/** A line source for readPlanLines over a text (each call reads it again). */
const linesOf = (text: string) => () => {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

describe('streamed plans', () => {
  it('the streaming planner gives the same plan as createPlan: actions, summary, warnings, fingerprint', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 25 }), async (users, pageSize) => {
        const s = mixed(users);
        const inMemory = createPlan((await scanDesyncs(s, { resolver: testResolver() }))._unsafeUnwrap(), { now: () => NOW })._unsafeUnwrap();
        const streamed = (await collectPlan(await streamFor(s, pageSize)))._unsafeUnwrap();
        expect(streamed).toEqual(inMemory);
        expect(planFingerprint(streamed)).toBe(streamed.fingerprint);
      }),
      { numRuns: 25 },
    );
  });

  it('round-trips through a plan file: header line, one action per line, trailer line; same plan, same fingerprint', async () => {
    const s = mixed();
    const inMemory = createPlan((await scanDesyncs(s, { resolver: testResolver() }))._unsafeUnwrap(), { now: () => NOW })._unsafeUnwrap();
    const text = await fileText(await streamFor(s));
    const lines = text.trimEnd().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'header', formatVersion: 2, createdAt: NOW.toISOString() });
    expect(JSON.parse(lines[lines.length - 1]!)).toMatchObject({ type: 'trailer', fingerprint: inMemory.fingerprint, summary: inMemory.summary });
    expect(lines).toHaveLength(inMemory.actions.length + 2);
    // Streamed back (two passes) and parsed whole: the same plan either way.
    const read = (await readPlanLines(linesOf(text)))._unsafeUnwrap();
    expect(read.trailer()?.fingerprint).toBe(inMemory.fingerprint); // known before the actions are read
    expect((await collectPlan(read))._unsafeUnwrap()).toEqual(inMemory);
    expect(parsePlan(text)._unsafeUnwrap()).toEqual(inMemory);
    // A plan in memory written as a file gives the same text.
    expect(await fileText(streamPlanOf(inMemory))).toBe(text);
  });

  it('refuses a tampered line, naming the line and the field; an edit that keeps the shape is a fingerprint mismatch', async () => {
    const text = await fileText(await streamFor(mixed()));
    const lines = text.split('\n');
    const third = JSON.parse(lines[2]!);
    expect(third.write).not.toBeNull();
    third.write.level = 99;
    const raised = [...lines.slice(0, 2), JSON.stringify(third), ...lines.slice(3)].join('\n');
    const error = (await readPlanLines(linesOf(raised)))._unsafeUnwrapErr();
    expect(error).toMatchObject({ _tag: 'ValidationError', field: 'line 3: write.level' });
    expect(error.message).toMatch(/^Invalid plan file: line 3: write\.level: must be at most the maximum level \d/);
    expect(parsePlan(raised)._unsafeUnwrapErr()).toMatchObject({ field: 'line 3: write.level' });

    const reworded = text.replace(/"reason":"[^"]*"/, '"reason":"edited by hand"');
    expect(reworded).not.toBe(text);
    expect((await readPlanLines(linesOf(reworded)))._unsafeUnwrapErr()._tag).toBe('PlanFingerprintMismatch');

    const notJson = [...lines.slice(0, 4), '{"kind":', ...lines.slice(5)].join('\n');
    expect((await readPlanLines(linesOf(notJson)))._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: 'line 5' });
  });

  it('refuses a truncated file (no trailer) and a file with lines after its trailer', async () => {
    const text = await fileText(await streamFor(mixed()));
    const lines = text.trimEnd().split('\n');
    const truncated = lines.slice(0, -1).join('\n');
    const error = (await readPlanLines(linesOf(truncated)))._unsafeUnwrapErr();
    expect(error).toMatchObject({ _tag: 'ValidationError', field: `line ${lines.length}` });
    expect(error.message).toContain('the trailer line is missing: the file is truncated');
    const cutMidLine = text.slice(0, Math.floor(text.length / 2));
    expect((await readPlanLines(linesOf(cutMidLine)))._unsafeUnwrapErr()._tag).toBe('ValidationError');
    const extra = `${text}${lines[1]}\n`;
    expect((await readPlanLines(linesOf(extra)))._unsafeUnwrapErr()).toMatchObject({ field: `line ${lines.length + 1}` });
    expect((await readPlanLines(linesOf('')))._unsafeUnwrapErr().message).toContain('the file is empty');
  });

  it('refuses version 1 plans (one JSON document) with the way to re-plan', async () => {
    const plan = createPlan((await scanDesyncs(mixed(5), { resolver: testResolver() }))._unsafeUnwrap(), { now: () => NOW })._unsafeUnwrap();
    const v1 = JSON.stringify({ ...plan, formatVersion: 1 }, null, 2);
    const error = parsePlan(v1)._unsafeUnwrapErr();
    expect(error._tag).toBe('UnsupportedPlanVersion');
    expect(error.message).toContain('make a new plan (`levelsync plan --out <file>`');
    const v1Line = JSON.stringify({ ...plan, formatVersion: 1 });
    expect((await readPlanLines(() => [v1Line]))._unsafeUnwrapErr()._tag).toBe('UnsupportedPlanVersion');
  });

  it('applies a plan file as it reads it a second time, stopping at a chunk changed after the first pass', async () => {
    const s = mixed(1_500); // > 1 000 lines: two verified chunks
    const text = await fileText(await streamFor(s));
    let calls = 0;
    const changed = text.replace(/"reason":"([^"]*)"(?![\s\S]*"reason")/, '"reason":"$1 (changed)"'); // the last action
    const plan = (await readPlanLines(() => linesOf(calls++ === 0 ? text : changed)()))._unsafeUnwrap();
    const report = (await applyPlan(plan, s, { batchSize: 100 }))._unsafeUnwrap();
    expect(report.status).toBe('Stopped');
    expect(report.error?.message).toMatch(/differs since it was verified/);
    // Chunks before the changed one were applied; nothing of the changed chunk (the last) was.
    const lines = text.trimEnd().split('\n');
    const lastChunkStart = Math.floor((lines.length - 2) / 1_000) * 1_000; // 0-based index of its first line
    const writesBefore = lines.slice(1, lastChunkStart).filter((l) => !l.includes('"FlagForReview"')).length;
    expect(lastChunkStart).toBeGreaterThanOrEqual(1_000);
    expect(report.counts.Applied).toBeGreaterThan(0);
    expect(report.counts.Applied).toBeLessThanOrEqual(writesBefore);
    expect(JSON.stringify(s.snapshot()).includes('(changed)')).toBe(false);
    expect(report.counts.Applied + report.counts.Skipped + report.counts.Flagged).toBe(report.counts.total);
  });

  it('re-applying a streamed plan file writes nothing: every write is AlreadyApplied, no history row is added', async () => {
    const s = mixed(200);
    const text = await fileText(await streamFor(s));
    const first = (await applyPlan((await readPlanLines(linesOf(text)))._unsafeUnwrap(), s, { batchSize: 50 }))._unsafeUnwrap();
    expect(first.counts.Applied).toBeGreaterThan(100);
    expect(first.counts.Stale).toBe(0);
    const history = s.snapshot().progressions.length;
    const rows = JSON.stringify(s.snapshot());
    const again = (await applyPlan((await readPlanLines(linesOf(text)))._unsafeUnwrap(), s, { batchSize: 50 }))._unsafeUnwrap();
    expect(again.counts).toMatchObject({ Applied: 0, Stale: 0, AlreadyApplied: first.counts.Applied, Flagged: first.counts.Flagged });
    expect(s.snapshot().progressions).toHaveLength(history);
    expect(JSON.stringify(s.snapshot())).toBe(rows);
    // A streamed report keeps the notable outcomes with their actions, not one per action.
    expect(again.outcomes.every((o) => o.status !== 'Applied' && o.action !== undefined)).toBe(true);
  });

  it('sync as a stream: a scan failing midway stops the run, the batches before it stay committed', async () => {
    const s = mixed(300);
    let pages = 0;
    const failing: SyncStore = {
      ...s,
      name: s.name,
      scanPairs: (q) => s.scanPairs(q),
      async *scanDifferingPairs(q) {
        for await (const page of s.scanDifferingPairs!(q)) {
          if (++pages === 4) {
            yield { isErr: () => true, isOk: () => false, error: storeUnavailable('memory', new Error('connection lost')) } as never;
            return;
          }
          yield page as never;
        }
      },
      countPairs: (q) => s.countPairs(q),
      readPair: (k, o) => s.readPair(k, o),
      applyBatch: (a, c) => s.applyBatch(a, c),
      acquireRunLock: (scope, o) => s.acquireRunLock(scope, o),
    };
    const plan = await streamFor(failing, 25);
    const report = (await applyPlan(plan, failing, { batchSize: 10 }))._unsafeUnwrap();
    expect(report.status).toBe('Stopped');
    expect(report.error).toMatchObject({ _tag: 'StoreUnavailable' });
    expect(report.counts.Applied).toBeGreaterThan(0);
    expect(s.snapshot().progressions.length).toBeGreaterThan(0);
    expect(plan.trailer()).toBeUndefined(); // the plan never finished: no fingerprint to claim
  });
  it('openDesyncScan({ after }) streams only the desyncs after the key (an alias key read as its canonical id)', async () => {
    const s = mixed();
    const all = (await scanDesyncs(s, { resolver: testResolver() }))._unsafeUnwrap().desyncs;
    const read = async (after: { userId: number; specializationId: string }) => {
      const scan = (await openDesyncScan(s, { resolver: testResolver(), pageSize: 5, after }))._unsafeUnwrap();
      const out = [];
      for await (const page of scan.pages) out.push(...page._unsafeUnwrap());
      return { out, pairsRead: scan.summary().pairsRead };
    };
    for (const after of [{ userId: 12, specializationId: 'INTERNSHIP' }, { userId: 12, specializationId: 'PLAYER' }, { userId: 0, specializationId: 'A' }]) {
      const canonical = { ...after, specializationId: after.specializationId === 'PLAYER' ? 'GANCUJU_PLAYER' : after.specializationId };
      const { out } = await read(after);
      expect(out).toEqual(all.filter((d) => comparePairKeys(d, canonical) > 0));
    }
    expect((await read({ userId: 40, specializationId: 'ZZ' })).pairsRead).toBe(0);
    const bad = await openDesyncScan(s, { resolver: testResolver(), after: { userId: 1.5, specializationId: 'LFA_COACH' } });
    expect(bad._unsafeUnwrapErr()).toMatchObject({ _tag: 'ValidationError', field: expect.stringMatching(/^after\.userId/) });
  });
});

function streamPlanOf(plan: Parameters<typeof planFingerprint>[0] & { fingerprint: string }): PlanStream {
  return {
    header: { formatVersion: plan.formatVersion, createdAt: plan.createdAt, policy: plan.policy, scope: plan.scope, aliases: plan.aliases, maxLevels: plan.maxLevels },
    pages: (async function* () {
      yield { isErr: () => false, isOk: () => true, value: { maxLevels: {}, actions: plan.actions } } as never;
    })(),
    trailer: () => ({ maxLevels: plan.maxLevels, summary: plan.summary, warnings: plan.warnings, fingerprint: plan.fingerprint }),
  };
}

