// The public surface is a deliberate diff: each entry point's export names and signatures are
// committed under api/ (scripts/api-report.mjs writes them), and this test regenerates them from
// the sources and fails, with a line diff, when they differ. After an intended change to the
// surface, run `npm run api:update` and commit api/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_POINTS, apiReport, apiReports, createApiProgram, exportedNames, lineDiff } from '../../scripts/api-report.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the API report', () => {
  let program: ts.Program;
  beforeAll(() => {
    program = createApiProgram();
  }, 120_000);

  for (const entry of ENTRY_POINTS) {
    it(`${entry.report} matches the surface of ${entry.specifier} (else: npm run api:update)`, () => {
      const committed = readFileSync(join(root, entry.report), 'utf8').replace(/\r\n/g, '\n');
      const current = apiReport(program, entry);
      if (current !== committed) {
        expect.fail(`${entry.report} is out of date (- committed, + sources). Run \`npm run api:update\` and commit api/ if the change is intended.\n${lineDiff(committed, current)}`);
      }
    });
  }

  it('is deterministic and names no path of this machine', () => {
    const again = apiReports(program).map((r) => r.text);
    expect(apiReports(program).map((r) => r.text)).toEqual(again);
    for (const text of again) expect(text).not.toContain(root);
  });

  it('the core entry point stays small: at most ~80 names, each one a user calls, implements or narrows on', () => {
    expect(exportedNames(program, 'src/index.ts').length).toBeLessThanOrEqual(85);
  });

  it('catches a change: an added export shows up as a + line', () => {
    const source = 'src/testing/index.ts';
    const text = readFileSync(join(root, source), 'utf8');
    const changed = createApiProgram({ overrides: { [source]: `${text}\nexport const apiReportProbe = 1;\n` }, oldProgram: program });
    const entry = ENTRY_POINTS.find((e) => e.source === source)!;
    const diff = lineDiff(apiReport(program, entry), apiReport(changed, entry));
    expect(diff).toContain('+ const apiReportProbe: 1');
  }, 60_000);
});
