import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '@shop/service/services';
import { freePort, ServiceProcess } from '../scripts/stack.js';

/**
 * Configuration is checked as a process starts: a bad value stops the service at once, with a message naming the
 * variable, instead of a service that starts and then fails requests.
 */
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'shop-config-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** Starts a service that must refuse to start; resolves with what it printed. */
async function refusedStart(name: (typeof SERVICE_NAMES)[number], env: Record<string, string>): Promise<string> {
  const service = new ServiceProcess(name, await freePort(), { DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env });
  const error = await service.start(60_000).then(
    () => service.stop().then(() => new Error(`${name} started`)),
    (failure: Error) => failure,
  );
  expect(error.message).toMatch(new RegExp(`${name} exited with 1 before it was ready`));
  return service.output;
}

describe('configuration checked at start', () => {
  it('stops a production subgraph whose JWT_SECRET is too short, naming the variable (it used to start and fail every login)', async () => {
    const output = await refusedStart('users', { NODE_ENV: 'production', JWT_SECRET: 'too-short' });
    expect(output).toContain('users cannot start. Invalid configuration:');
    expect(output).toContain('JWT_SECRET="too-short": must be at least 32 characters');
  });

  it("refuses in production the secrets that ship in the repository: compose's old default and k8s's placeholder", async () => {
    const users = await refusedStart('users', {
      NODE_ENV: 'production',
      JWT_SECRET: 'local-only-jwt-secret-change-me-0123456789',
      ADMIN_EMAIL: 'admin@shop.test',
      ADMIN_PASSWORD: 'admin-password',
    });
    expect(users).toContain('JWT_SECRET: holds a value that ships in this repository');
    expect(users).toContain('ADMIN_PASSWORD: holds a value that ships in this repository');
    const router = await refusedStart('router', { NODE_ENV: 'production', ROUTER_SECRET: 'REPLACE_ME' });
    expect(router).toContain('ROUTER_SECRET: holds a value that ships in this repository');
  });

  it('stops on a malformed value, naming it', async () => {
    const orders = await refusedStart('orders', { ORDER_HOLD_MINUTES: 'half an hour', PRODUCTS_URL: 'products:4002' });
    expect(orders).toContain('ORDER_HOLD_MINUTES="half an hour": must be a number');
    expect(orders).toContain('PRODUCTS_URL="products:4002": must be a http or https URL');
    const router = await refusedStart('router', { CORS_ORIGINS: 'https://shop.example/path', SUBGRAPH_TIMEOUT_MS: '0' });
    expect(router).toContain('CORS_ORIGINS="https://shop.example/path": must be origins');
    expect(router).toContain('SUBGRAPH_TIMEOUT_MS="0": must be a whole number from 1');
  });
});
