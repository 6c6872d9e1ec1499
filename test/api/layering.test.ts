// What may import what (docs/architecture.md): the core imports no adapter, no suite and no
// command; the PostgreSQL adapter and the testing room do not import each other; nothing imports
// the command. Read from every source file's imports (type-only ones included), comments aside.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const src = join(root, 'src');

/** The room of a path under src/: its first folder, or `core` for the files at the top (index, errors). */
function roomOf(path: string): string {
  const [first, ...rest] = relative(src, path).split(/[\\/]/);
  return rest.length === 0 ? 'core' : first!;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

interface Edge {
  readonly from: string;
  readonly fromRoom: string;
  /** The room imported, or the bare package specifier (`pg` is both the room and the driver: neither is allowed where it is forbidden). */
  readonly to: string;
}

const edges: Edge[] = sources(src).flatMap((file) => {
  const imports = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
  return imports.map((specifier) => ({
    from: relative(root, file).split(/[\\/]/).join('/'),
    fromRoom: roomOf(file),
    to: specifier.startsWith('.') ? roomOf(resolve(dirname(file), specifier)) : specifier,
  }));
});

const CORE = ['core', 'domain', 'max-level', 'sync', '_internal'];
const DRIVERS = ['pg', '@electric-sql/pglite', 'vitest'];

/** The imports of `rooms` that reach one of `forbidden`, as readable lines. */
function violations(rooms: readonly string[], forbidden: readonly string[]): string[] {
  return edges.filter((e) => rooms.includes(e.fromRoom) && forbidden.includes(e.to)).map((e) => `${e.from} imports ${e.to}`);
}

describe('what may import what', () => {
  it('finds the imports', () => {
    expect(edges.filter((e) => e.fromRoom === 'sync' && e.to === 'domain').length).toBeGreaterThan(0);
  });

  it('the core (domain, max-level, sync, errors) imports no adapter, suite, command or driver', () => {
    expect(violations(CORE, ['pg', 'testing', 'cli', ...DRIVERS])).toEqual([]);
  });

  it('the domain imports only errors and shared helpers', () => {
    expect(violations(['domain'], ['max-level', 'sync'])).toEqual([]);
  });

  it('the PostgreSQL adapter and the testing room do not import each other, nor the command', () => {
    expect(violations(['pg'], ['testing', 'cli'])).toEqual([]);
    expect(violations(['testing'], ['pg', 'cli', '@electric-sql/pglite'])).toEqual([]);
  });

  it('nothing imports the command; the command does not import the testing room', () => {
    expect(violations(['core', 'domain', 'max-level', 'sync', '_internal', 'pg', 'testing'], ['cli'])).toEqual([]);
    expect(violations(['cli'], ['testing', 'vitest'])).toEqual([]);
  });
});
