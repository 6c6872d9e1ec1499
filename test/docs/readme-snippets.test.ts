// Every ```ts block of the README is compiled, with the project's strict options, against the
// sources of the public entry points: a snippet that does not compile fails the suite.
//
// Blocks are modules of their own. A block may use, without declaring them, the names a reader
// has from the blocks before it or from their own program, typed as below (`pool` is a pg.Pool,
// `resolver` a resolver, and so on); anything else it uses it must import or declare itself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Names a snippet may use without declaring them, and their declarations. */
const CONTEXT: Record<string, string> = {
  pool: `import type _pg from 'pg';\ndeclare const pool: _pg.Pool;`,
  resolver: `declare const resolver: import('levelsync').MaxLevelResolver;`,
  store: `declare const store: import('levelsync/pg').PgSyncStore;`,
  userId: `declare const userId: number;`,
  myRepository: `declare function myRepository(rows: readonly import('levelsync').MaxLevelRecord[]): import('levelsync').MaxLevelRepository;`,
  myStore: `declare function myStore(seed: import('levelsync/testing').SyncStoreSeed): Promise<import('levelsync/testing').SyncStoreHarness>;`,
};

export interface Snippet {
  /** The line of the block's first code line in its Markdown file. */
  readonly line: number;
  readonly code: string;
}

/** The ```ts blocks of a Markdown text, with the line each starts on. */
export function typescriptBlocks(markdown: string): Snippet[] {
  const blocks: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    // Blocks may be indented (inside a list item): the indent of the fence is removed.
    const fence = /^(\s*)```(ts|typescript)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const indent = fence[1]!.length;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++;
    blocks.push({ line: start + 1, code: lines.slice(start, end).map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n') });
    i = end;
  }
  return blocks;
}

/** The declarations a block needs: context names it uses and does not declare or import itself. */
function preamble(code: string): string {
  const declared = (name: string) => new RegExp(`(?:const|let|function|class)\\s+${name}\\b|import[^;]*\\b${name}\\b[^;]*from`).test(code);
  return Object.entries(CONTEXT)
    .filter(([name]) => new RegExp(`\\b${name}\\b`).test(code) && !declared(name))
    .map(([, declaration]) => declaration)
    .join('\n');
}

/**
 * Compiles the blocks as modules at the repository's root, where the README is (so that
 * `levelsync` resolves as in the tests, and `./examples/…` as a reader of the README sees it),
 * all in one program. Returns the errors of each block, in the blocks' order.
 */
export function compileSnippets(snippets: readonly (Snippet & { readonly source: string })[]): string[][] {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('tsconfig.json could not be read');
  const files = new Map<string, { index: number; snippet: Snippet & { readonly source: string }; text: string; offset: number }>();
  snippets.forEach((snippet, index) => {
    const head = `${preamble(snippet.code)}\nexport {};\n`;
    files.set(join(root, `readme-snippet-${index}.ts`), { index, snippet, text: head + snippet.code, offset: head.split('\n').length - 1 });
  });
  const host = ts.createCompilerHost(config.options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name)?.text ?? readFile.call(host, name);
  host.getSourceFile = (name, language, onError, create) => {
    const virtual = files.get(name);
    return virtual ? ts.createSourceFile(name, virtual.text, language, true) : getSourceFile.call(host, name, language, onError, create);
  };
  const program = ts.createProgram({ rootNames: [...files.keys()], options: { ...config.options, noEmit: true }, host });
  const errors: string[][] = snippets.map(() => []);
  const elsewhere: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const virtual = diagnostic.file ? files.get(diagnostic.file.fileName) : undefined;
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!virtual || diagnostic.start === undefined) {
      elsewhere.push(`TS${diagnostic.code}: ${text}`);
      continue;
    }
    const at = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start).line - virtual.offset;
    errors[virtual.index]!.push(`${virtual.snippet.source}:${virtual.snippet.line + at} TS${diagnostic.code}: ${text}`);
  }
  if (elsewhere.length > 0) errors[0]!.push(...elsewhere);
  return errors;
}

describe('README TypeScript blocks', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const snippets = typescriptBlocks(readme).map((snippet) => ({ ...snippet, source: 'README.md' }));
  // A block that must NOT compile, in the same program: proof that a broken snippet is caught.
  const broken = typescriptBlocks(
    "```ts\nimport { applyPlan, type SyncPlan } from 'levelsync';\ndeclare const plan: SyncPlan;\nconst report = await applyPlan(plan, store);\nconsole.log(report.counts);\n```\n",
  ).map((snippet) => ({ ...snippet, source: 'broken.md' }));
  let errors: string[][] = [];
  beforeAll(() => {
    errors = compileSnippets([...snippets, ...broken]);
  }, 240_000);

  it('finds the blocks, indented ones included', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(8);
    expect(snippets.some((s) => s.code.includes('startSyncQueue'))).toBe(true);
  });

  it('compile, every one of them', () => {
    expect(errors.slice(0, snippets.length).flat()).toEqual([]);
  });

  it('a block that does not compile is caught (TS2339 on a Result read as a plain value)', () => {
    const caught = errors[snippets.length]!;
    expect(caught).toHaveLength(1);
    expect(caught[0]).toMatch(/^broken\.md:5 TS2339: Property 'counts' does not exist/);
  });
});
