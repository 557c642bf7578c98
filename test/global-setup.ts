import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import postgres from 'postgres';
import { startStack } from '../scripts/stack.js';
import { TEST_ADMIN } from './fixtures.js';

/**
 * Starts the real stack once for the whole run: three subgraph processes and the router, on their own ports,
 * on fresh databases. `TEST_POSTGRES_URL` (a server URL) selects real PostgreSQL with a new database per
 * subgraph; without it every subgraph runs on embedded PGlite in a temporary DATA_DIR.
 */
export default async function setup(project: TestProject) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'shop-test-'));
  const serverUrl = process.env.TEST_POSTGRES_URL;
  const databases: Record<string, string> = {};
  const suffix = `${Date.now().toString(36)}_${process.pid}`;
  if (serverUrl) {
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    for (const name of ['users', 'products', 'orders']) {
      const database = `shop_test_${name}_${suffix}`;
      await admin.unsafe(`create database ${database}`);
      const url = new URL(serverUrl);
      url.pathname = `/${database}`;
      databases[`${name.toUpperCase()}_DATABASE_URL`] = url.toString();
    }
    await admin.end();
  }
  const env = {
    ...databases,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    SEED_DEMO: 'false',
    RECOVERY_INTERVAL_MS: '500',
    NODE_ENV: 'test',
    // Every test registers and logs in from 127.0.0.1; the rate limits have their own stack in security.test.ts.
    RATE_LIMIT_REGISTER_PER_IP: '100000',
    RATE_LIMIT_LOGIN_PER_IP: '100000',
  };
  // Free ports, so a test run never collides with `npm start` or another run on the same machine.
  const ports = { router: await freePort(), users: await freePort(), products: await freePort(), orders: await freePort() };
  const stack = await startStack(env, ports);
  project.provide('routerUrl', `${stack.router.url}/graphql`);
  project.provide('serviceUrls', Object.fromEntries(Object.entries(stack).map(([name, s]) => [name, s.url])));
  project.provide('stackEnv', JSON.stringify(env));
  project.provide('driver', serverUrl ? 'postgres' : 'pglite');

  return async () => {
    await Promise.all(Object.values(stack).map((service) => service.stop('SIGTERM')));
    await rm(dataDir, { recursive: true, force: true });
    if (serverUrl) {
      const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
      for (const name of ['users', 'products', 'orders']) await admin.unsafe(`drop database if exists shop_test_${name}_${suffix} with (force)`);
      await admin.end();
    }
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

declare module 'vitest' {
  export interface ProvidedContext {
    routerUrl: string;
    serviceUrls: Record<string, string>;
    stackEnv: string;
    driver: 'postgres' | 'pglite';
  }
}
