import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'model/**/*.test.ts', 'store/**/*.test.ts', 'recorder/**/*.test.ts', 'replay/**/*.test.ts', 'viewer/**/*.test.ts', 'sandbox/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real servers, real Chromium: two cores are shared, so keep parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
    reporters: ['default', './test/reporters/summary-line.ts'],
  },
})
