import { createRequire } from 'node:module';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * `graphql` as node loads it for the services: its CommonJS build, the one instance @apollo/gateway and
 * @apollo/federation-internals use. Vite would otherwise resolve a source file's `import 'graphql'` to the ESM
 * build, a second instance whose instanceof checks refuse the gateway's schemas (the router's subscriptions
 * validate against the gateway's own schema).
 */
const graphqlCommonJs = createRequire(import.meta.url).resolve('graphql');

/** Where each package keeps the tests that start services of their own (a subgraph on PGlite, NATS, Redis, npm). */
const INTEGRATION = '**/test/integration/**/*.test.ts';

/**
 * Three projects: `unit` starts nothing and connects to nothing (pure functions, the router's shaping over a
 * composed schema, in-memory HTTP peers), so it runs in seconds; `integration` starts what each file needs
 * in-process (a subgraph on a temporary PGlite, a NATS or Redis client, a child npm); `stack` starts the real
 * processes once (three subgraphs and the router, test/global-setup.ts) and its files run one at a time, so that
 * statement counts and crash tests see only their own traffic.
 */
export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias: [{ find: /^graphql$/, replacement: graphqlCommonJs }] },
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
          exclude: [...configDefaults.exclude, INTEGRATION],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve: { alias: [{ find: /^graphql$/, replacement: graphqlCommonJs }] },
        test: {
          name: 'integration',
          include: [INTEGRATION],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'stack',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/unit/**', 'test/integration/**'],
          globalSetup: ['test/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
