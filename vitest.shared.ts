import { defineConfig } from 'vitest/config';

// One vitest configuration; every package's vitest.config.ts re-exports it.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', '*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The JSON file feeds the one-line summary that scripts/test-all.sh prints at the end.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
  },
});
