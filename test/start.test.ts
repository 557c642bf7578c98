import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES, portVariable } from '@shop/service/services';
import { freePort } from '../scripts/stack.js';
import { eventually, post } from './client.js';

/**
 * `npm start` as a newcomer runs it: the whole shop, on embedded databases in a fresh DATA_DIR, on ports of its
 * own (so that it never meets another run on this machine).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'shop-start-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** `npm start`'s environment: a fresh DATA_DIR and free ports for every service. */
async function startEnv(): Promise<Record<string, string>> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  for (const name of SERVICE_NAMES) {
    env[portVariable(name)] = String(await freePort());
    env[portVariable(name, 'opsPort')] = String(await freePort());
  }
  env.STOREFRONT_PORT = String(await freePort());
  return env;
}

function npmStart(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx/esm', 'scripts/start.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

describe('npm start', () => {
  it("brings up the shop with demo data: the README's OrderHistory shows the demo customer's paid and pending orders", async () => {
    const env = await startEnv();
    const start = npmStart(env);
    try {
      await eventually(async () => expect(start.output()).toContain('The shop is up'), 240_000);
      const url = `http://127.0.0.1:${env[portVariable('router')]}/graphql`;
      const login = await post(
        { query: 'mutation { login(input: { email: "demo@shop.test", password: "demo-password" }) { token } }' },
        undefined,
        url,
      );
      const token = login.data.login.token as string;
      const history = await post(
        { query: '{ me { name orders(first: 10) { totalCount edges { node { status items { quantity product { name } } } } } } }' },
        token,
        url,
      );
      expect(history.errors).toBeUndefined();
      const statuses = history.data.me.orders.edges.map((edge: { node: { status: string } }) => edge.node.status);
      expect(statuses).toEqual(expect.arrayContaining(['PAID', 'PENDING', 'CANCELLED']));
      expect(history.data.me.orders.edges[0].node.items[0].product.name).toEqual(expect.any(String));
    } finally {
      start.child.kill('SIGINT');
      expect(await new Promise((resolve) => start.child.once('exit', resolve))).toBe(0);
    }
  }, 300_000);

  it('stops, naming the port and the service, when an old process still answers on a port it needs', async () => {
    // A stranger on the orders port that answers every request, /ready included, with 200.
    const stranger = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const strangerPort = await new Promise<number>((resolve) =>
      stranger.listen(0, '127.0.0.1', () => resolve((stranger.address() as { port: number }).port)),
    );
    try {
      const env: Record<string, string> = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' } as Record<string, string>;
      for (const name of SERVICE_NAMES) {
        env[portVariable(name)] = String(await freePort());
        env[portVariable(name, 'opsPort')] = String(await freePort());
      }
      env[portVariable('orders')] = String(strangerPort);
      const start = spawn(process.execPath, ['--import', 'tsx/esm', 'scripts/start.ts'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      start.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      start.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => start.once('exit', resolve));
      expect(code).toBe(1);
      expect(output).toContain(`Port ${strangerPort} (ORDERS_PORT of orders) is already in use by another process`);
      expect(output).not.toContain('The shop is up');
    } finally {
      await new Promise((resolve) => stranger.close(resolve));
    }
  });
});
