import { defineConfig } from 'tsup';

// Peers and optional peers are never bundled.
const external = ['pg', '@electric-sql/pglite', 'vitest', 'zod', 'neverthrow'];

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      'pg/index': 'src/pg/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'node20',
    splitting: false,
    external,
  },
  {
    // The conformance suites import vitest, which refuses `require()`: ESM only. CommonJS
    // consumers load it with `require()` all the same (Node >= 20.19 requires ES modules).
    entry: { 'testing/index': 'src/testing/index.ts' },
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'node20',
    splitting: false,
    external,
  },
  {
    // The `levelsync` command: one ESM file with a shebang.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    clean: false,
    target: 'node20',
    splitting: false,
    banner: { js: '#!/usr/bin/env node' },
    external,
  },
]);
