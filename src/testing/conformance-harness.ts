// The harness shared by the conformance suites (`describeSyncStoreConformance`,
// `describeMaxLevelRepositoryConformance`): one options shape, tests declared as data so that a
// suite knows every title before vitest collects it, and one teardown discipline.
import { afterEach, it, type TestContext } from 'vitest';

/**
 * The options every conformance suite takes: how to build the implementation under test, how to
 * clean up after it, and which tests to leave out. Each suite adds its own capability flags.
 *
 * @typeParam Fixture - what a test starts from (a seed of rows).
 * @typeParam Subject - what `setup` returns (the implementation, or a harness around it).
 */
export interface ConformanceOptions<Fixture, Subject> {
  /** Returns the implementation under test holding exactly `fixture`. Called once per test that needs one. */
  readonly setup: (fixture: Fixture) => Promise<Subject>;
  /** Called after every test that called `setup` (after the subject's own `close`, if it has one). */
  readonly teardown?: () => Promise<void>;
  /**
   * Titles of tests to leave out, as the suite names them (the last part of the test's name in
   * the vitest output, e.g. `'scanPairs() filters by user id'`). A skipped test is reported as
   * skipped, not dropped. A title the suite does not have is a `TypeError` when the suite is
   * declared, so a typo or a renamed test cannot silently skip nothing.
   */
  readonly skip?: readonly string[];
}

/** One test of a suite, declared before vitest collects it. */
export interface ConformanceTest {
  readonly title: string;
  readonly run: (context: TestContext) => Promise<void>;
  /**
   * Whether the implementation has the capability the test needs. `false`: the test is not
   * declared at all (its title may still be named in `skip`). Default true.
   */
  readonly declared?: boolean;
  /** `false`: the test is declared but skipped (`it.runIf`). Default true. */
  readonly runIf?: boolean;
}

/** Declares one conformance test. */
export function conformanceTest(title: string, run: (context: TestContext) => Promise<void>, flags: Pick<ConformanceTest, 'declared' | 'runIf'> = {}): ConformanceTest {
  return { title, run, ...flags };
}

/**
 * Checks a `skip` list against the titles a suite has; returns it as a set.
 * @throws TypeError naming the titles the suite does not have.
 */
export function checkSkipList(suite: string, skip: readonly string[] | undefined, tests: Iterable<ConformanceTest>): ReadonlySet<string> {
  const titles = new Set<string>();
  for (const test of tests) titles.add(test.title);
  const unknown = (skip ?? []).filter((title) => !titles.has(title));
  if (unknown.length > 0) {
    throw new TypeError(`${suite}: skip names no test of this suite: ${unknown.map((title) => JSON.stringify(title)).join(', ')}`);
  }
  return new Set(skip);
}

/** Declares the tests with vitest's `it`, leaving out the undeclared and skipping the skipped. */
export function declareConformanceTests(tests: readonly ConformanceTest[], skip: ReadonlySet<string>): void {
  for (const test of tests) {
    if (test.declared === false) continue;
    const skipped = skip.has(test.title) || test.runIf === false;
    (skipped ? it.skip : it)(test.title, test.run);
  }
}

/**
 * Tracks what the tests of one `describe` set up and tears it down after each test: every
 * subject's own `close` (newest first), then the options' `teardown` once if anything was set up.
 * Call inside the `describe`: it registers the `afterEach`.
 */
export function trackSubjects(teardown: (() => Promise<void>) | undefined): <T>(make: () => Promise<T>, close?: (subject: T) => Promise<void>) => Promise<T> {
  let used = false;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    try {
      for (const close of closers.splice(0).reverse()) await close();
    } finally {
      if (used && teardown !== undefined) await teardown();
      used = false;
    }
  });
  return async (make, close) => {
    used = true;
    const subject = await make();
    if (close !== undefined) closers.push(() => close(subject));
    return subject;
  };
}
