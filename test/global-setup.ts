import type { TestProject } from 'vitest/node';
import { freePorts, startStack } from '../scripts/stack.js';
import { TEST_ADMIN } from './fixtures.js';
import { freshStorage } from './storage.js';

/**
 * Starts the real stack once for the whole run: three subgraph processes and the router, on their own ports,
 * on fresh databases. `TEST_POSTGRES_URL` (a server URL) selects real PostgreSQL with a new database per
 * subgraph; without it every subgraph runs on embedded PGlite in a temporary DATA_DIR.
 */
export default async function setup(project: TestProject) {
  const storage = await freshStorage('test');
  const env = {
    ...storage.env,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    SEED_DEMO: 'false',
    RECOVERY_INTERVAL_MS: '500',
    NODE_ENV: 'test',
    // Every test registers and logs in from 127.0.0.1; the rate limits have their own stack in security.test.ts.
    RATE_LIMIT_REGISTER_PER_IP: '100000',
    RATE_LIMIT_LOGIN_PER_IP: '100000',
    // With TEST_NATS_URL, orders and products publish their events to JetStream and follow it (docs/events.md).
    ...(process.env.TEST_NATS_URL && { NATS_URL: process.env.TEST_NATS_URL }),
  };
  // Free ports, so a test run never collides with `npm start` or another run on the same machine.
  const ports = await freePorts();
  const stack = await startStack(env, ports);
  project.provide('routerUrl', `${stack.router.url}/graphql`);
  project.provide('serviceUrls', Object.fromEntries(Object.entries(stack).map(([name, s]) => [name, s.url])));
  project.provide('opsUrls', Object.fromEntries(Object.entries(stack).map(([name, s]) => [name, s.opsUrl])));
  project.provide('stackEnv', JSON.stringify(env));
  project.provide('driver', process.env.TEST_POSTGRES_URL ? 'postgres' : 'pglite');

  return async () => {
    await Promise.all(Object.values(stack).map((service) => service.stop('SIGTERM')));
    await storage.remove();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    routerUrl: string;
    serviceUrls: Record<string, string>;
    /** Each service's /health, /ready and /metrics. */
    opsUrls: Record<string, string>;
    stackEnv: string;
    driver: 'postgres' | 'pglite';
  }
}
