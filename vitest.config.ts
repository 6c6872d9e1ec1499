import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import the public specifiers; they resolve to the sources.
    alias: [
      { find: /^levelsync\/testing$/, replacement: src('testing/index.ts') },
      { find: /^levelsync\/pg$/, replacement: src('pg/index.ts') },
      { find: /^levelsync$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
