import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'pg/index': 'src/pg/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
  // Peers and optional peers are never bundled.
  external: ['pg', '@electric-sql/pglite', 'vitest', 'zod', 'neverthrow', 'cli-progress'],
});
