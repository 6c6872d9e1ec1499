// The package as a consumer meets it: `npm pack` in a copy of the repository without dist/ (as a
// fresh clone is) must build through `prepack` and ship dist/; the tarball, installed into a
// fresh project outside the repository next to pg, PGlite and TypeScript from the registry,
// imports with ESM and `require`, type-checks a strict program, and runs it against PGlite.
// The built files' imports are checked too: the core needs zod and neverthrow only.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const consumerFiles = fileURLToPath(new URL('./consumer', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The version package-lock.json pins for a dev dependency, so the consumer gets the same one. */
function pinned(name: string): string {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`${name} is not in package-lock.json`);
  return `${name}@${version}`;
}

const ENV = { ...process.env, NO_COLOR: '1', npm_config_loglevel: 'error' };

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: ENV });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** `run` without blocking, so that two steps can overlap. */
function runAsync(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: ENV, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed:\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Bare specifiers a built file imports or requires (static and dynamic), read by esbuild. */
async function bareImports(file: string): Promise<Set<string>> {
  const result = await build({ entryPoints: [file], format: file.endsWith('.cjs') ? 'cjs' : 'esm', bundle: true, write: false, metafile: true, platform: 'node', packages: 'external', logLevel: 'silent' });
  const found = new Set<string>();
  for (const input of Object.values(result.metafile.inputs)) for (const i of input.imports) if (i.external) found.add(i.path);
  return found;
}

const nonBuiltin = (specifiers: Set<string>) => [...specifiers].filter((s) => !isBuiltin(s)).sort();

describe('the packed tarball, installed in a fresh project', () => {
  let work = '';
  let consumer = '';
  let packedFiles: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'levelsync-pack-'));
    // A fresh clone: the repository's files (tracked and new, not ignored), no dist/.
    const clone = join(work, 'clone');
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f !== '' && existsSync(join(root, f)));
    for (const file of files) {
      mkdirSync(dirname(join(clone, file)), { recursive: true });
      cpSync(join(root, file), join(clone, file));
    }
    expect(existsSync(join(clone, 'dist'))).toBe(false);
    symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
    const packs = join(work, 'packs');
    mkdirSync(packs);
    consumer = join(work, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'levelsync-consumer', private: true, version: '1.0.0' }));
    for (const file of readdirSync(consumerFiles)) cpSync(join(consumerFiles, file), join(consumer, file));
    const npmInstall = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'];

    // The pack (which builds) and the consumer's registry packages at once; then the tarball.
    const [packOutput] = await Promise.all([
      runAsync(npm, ['pack', '--json', '--pack-destination', packs], clone),
      runAsync(npm, [...npmInstall, pinned('pg'), pinned('@electric-sql/pglite'), pinned('vitest'), pinned('typescript'), pinned('@types/node')], consumer),
    ]);
    const packed = JSON.parse(packOutput) as { filename: string; files: { path: string }[] }[];
    packedFiles = packed[0]!.files.map((f) => f.path);
    await runAsync(npm, [...npmInstall, join(packs, packed[0]!.filename)], consumer);
  }, 360_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships the built entry points, the command and the declarations (prepack builds)', () => {
    for (const file of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/pg/index.js', 'dist/pg/index.cjs', 'dist/testing/index.js', 'dist/testing/index.d.ts', 'dist/cli.js']) {
      expect(packedFiles).toContain(file);
    }
    expect(packedFiles.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
  });

  it('depends on zod and neverthrow only; the core and levelsync/pg import nothing else', async () => {
    const installed = join(consumer, 'node_modules', 'levelsync');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['neverthrow', 'zod']);
    for (const entry of ['index.js', 'index.cjs', 'pg/index.js', 'pg/index.cjs']) {
      const imports = nonBuiltin(await bareImports(join(installed, 'dist', entry)));
      expect(imports, entry).toContain('zod');
      expect(imports.filter((s) => s !== 'zod' && s !== 'neverthrow'), entry).toEqual([]);
    }
    // The testing entry adds vitest (an optional peer), the command the two drivers (optional peers,
    // loaded only when used).
    expect(nonBuiltin(await bareImports(join(installed, 'dist', 'testing', 'index.js'))).filter((s) => s !== 'zod' && s !== 'neverthrow')).toEqual(['vitest']);
    expect(nonBuiltin(await bareImports(join(installed, 'dist', 'cli.js'))).filter((s) => s !== 'zod' && s !== 'neverthrow')).toEqual(['@electric-sql/pglite', 'pg']);
    expect(relative(consumer, installed)).toBe(join('node_modules', 'levelsync'));
  });

  it('type-checks a strict consumer (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess) for ESM and CommonJS', () => {
    run(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], consumer);
    expect(existsSync(join(consumer, 'out', 'consumer.mjs'))).toBe(true);
    expect(existsSync(join(consumer, 'out', 'consumer.cjs'))).toBe(true);
  });

  it("type-checks levelsync's own declarations with skipLibCheck off (tsconfig.declarations.json)", () => {
    const tsc = join('node_modules', 'typescript', 'bin', 'tsc');
    const listed = run(process.execPath, [tsc, '-p', 'tsconfig.declarations.json', '--listFilesOnly'], consumer)
      .split('\n')
      .map((f) => relative(consumer, f.trim()).split('\\').join('/'))
      .filter((f) => f.startsWith('node_modules/levelsync/'));
    const shipped = packedFiles.filter((f) => /\.d\.c?ts$/.test(f)).map((f) => `node_modules/levelsync/${f}`);
    expect(shipped.length).toBeGreaterThanOrEqual(5);
    expect(listed.sort()).toEqual(shipped.sort());
    run(process.execPath, [tsc, '-p', 'tsconfig.declarations.json'], consumer);
  });

  it('requires every entry point from CommonJS', () => {
    const out = JSON.parse(run(process.execPath, [join('out', 'consumer.cjs')], consumer)) as Record<string, unknown>;
    expect(out).toEqual({ coach: 'LFA_COACH', schema: 'levelsync', pgExports: 'function', testingExports: 'function' });
  });

  it('imports every entry point with ESM and repairs a PGlite database', () => {
    const out = JSON.parse(run(process.execPath, [join('out', 'consumer.mjs')], consumer)) as Record<string, unknown>;
    expect(out).toMatchObject({ found: 2, applied: 2, left: 0 });
    expect(out['testingExports']).toEqual(expect.arrayContaining(['describeSyncStoreConformance', 'describeMaxLevelRepositoryConformance']));
  }, 180_000);
});
