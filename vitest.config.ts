import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` starts no stack (each test builds what it needs in-process: a subgraph on a temporary
 * PGlite, the router's shaping over a composed schema); `stack` starts the real processes once (three subgraphs
 * and the router, test/global-setup.ts) and its files run one at a time, so that statement counts and crash
 * tests see only their own traffic.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'packages/*/test/**/*.test.ts',
            'router/test/**/*.test.ts',
            'schema/test/**/*.test.ts',
            'subgraphs/*/test/**/*.test.ts',
            'storefront/test/**/*.test.ts',
            'test/unit/**/*.test.ts',
          ],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'stack',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/unit/**'],
          globalSetup: ['test/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
