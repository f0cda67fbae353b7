import { defineConfig } from 'vitest/config';

// One vitest configuration; every package's vitest.config.ts re-exports it.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', '*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
