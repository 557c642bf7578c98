import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sumMetric, type ServiceName, type ServiceProcess } from '../scripts/stack.js';
import { contractOperation, post } from './client.js';
import { startOwnStack } from './own-stack.js';
import { natsAnswers, TEST_NATS_URL } from './stream.js';

/**
 * The router's entity cache of product fields (router/src/entity-cache.ts) on a stack of its own with NATS: an
 * order history read twice asks products once, and a product changed behind the router's back (at products
 * directly) shows in the next history within a second, through the products event that drops the cached entry.
 * Likewise a catalogue page, and a product created behind the router's back.
 */

const ROUTER_SECRET = 'entity-cache-router-secret';
let stack: Record<ServiceName, ServiceProcess>;
let routerUrl: string;
let admin: string;
let cleanup: (() => Promise<void>) | undefined;

const send = (name: string, variables: Record<string, unknown>, token?: string) =>
  post({ query: contractOperation(name), operationName: name, variables }, token, routerUrl);
/** Sent to products directly, not through the router: only the products event can tell the router. */
const atProducts = (name: string, variables: Record<string, unknown>) =>
  post({ query: contractOperation(name), operationName: name, variables }, admin, `${stack.products.url}/graphql`, {
    'x-router-secret': ROUTER_SECRET,
  });
const productFetches = async () => sumMetric(await (await fetch(`${stack.products.opsUrl}/metrics`)).text(), 'graphql_requests_total');

/**
 * Reads until a read costs products no request (the cache is on once the router reaches NATS, and the events of
 * the test's own changes drop entries), then five more, which must cost none; returns what these five read.
 */
async function readCached<T>(read: () => Promise<T>): Promise<T[]> {
  let cached = false;
  for (let i = 0; i < 50 && !cached; i++) {
    const fetches = await productFetches();
    await read();
    cached = (await productFetches()) === fetches;
    if (!cached) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(cached).toBe(true);
  const settled = await productFetches();
  const reads: T[] = [];
  for (let i = 0; i < 5; i++) reads.push(await read());
  expect(await productFetches()).toBe(settled);
  return reads;
}

/** Reads until `changed` holds, which it must within a second. */
async function changesWithinASecond<T>(read: () => Promise<T>, changed: (value: T) => boolean): Promise<void> {
  const started = Date.now();
  let value = await read();
  while (!changed(value) && Date.now() - started < 1_000) value = await read();
  expect(changed(value)).toBe(true);
  expect(Date.now() - started).toBeLessThan(1_000);
}

beforeAll(async () => {
  if (!(await natsAnswers())) throw new Error(`NATS does not answer at ${TEST_NATS_URL}: start nats-server -js (see .ci/run)`);
  const own = await startOwnStack('entity-cache', { NATS_URL: TEST_NATS_URL, ROUTER_SECRET });
  ({ stack, routerUrl, admin } = own);
  cleanup = own.stop;
}, 240_000);

afterAll(async () => {
  await cleanup?.();
});

describe('entity cache at the router', () => {
  it('reads a product once for repeated order histories, and shows a change within a second', async () => {
    const input = {
      sku: `EC-${randomUUID()}`,
      name: 'Cached item',
      description: '',
      category: 'cache',
      price: { amount: 500, currency: 'USD' },
      stock: 100,
    };
    const productId = (await send('CreateProduct', { input }, admin)).data.createProduct.product.id as string;
    const customer = (
      await send('Register', { input: { email: `cache-${randomUUID()}@test.shop`, password: 'long enough', name: 'Cache' } })
    ).data.register as { token: string };
    const placed = await send(
      'PlaceOrder',
      { input: { items: [{ productId, quantity: 1 }], idempotencyKey: randomUUID() } },
      customer.token,
    );
    expect(placed.errors).toBeUndefined();
    const history = async () => {
      const response = await send('OrderHistory', { first: 20 }, customer.token);
      expect(response.errors).toBeUndefined();
      return response.data.me.orders.edges[0].node.items[0].product as { id: string; name: string };
    };

    for (const { name } of await readCached(history)) expect(name).toBe('Cached item');

    const changed = await atProducts('UpdateProduct', { id: productId, input: { name: 'Renamed item' } });
    expect(changed.errors).toBeUndefined();
    await changesWithinASecond(history, ({ name }) => name === 'Renamed item');
  });

  it('reads a catalogue page once for repeated requests, and shows a product created behind its back within a second', async () => {
    const category = `cache-${randomUUID()}`;
    const input = (name: string) => ({
      sku: `EC-${randomUUID()}`,
      name,
      description: '',
      category,
      price: { amount: 700, currency: 'USD' },
      stock: 3,
    });
    expect((await send('CreateProduct', { input: input('First') }, admin)).errors).toBeUndefined();
    const page = async () => {
      const response = await send('Catalogue', { first: 20, filter: { category } });
      expect(response.errors).toBeUndefined();
      return response.data.products as { totalCount: number; edges: { node: { name: string } }[] };
    };

    for (const { totalCount } of await readCached(page)) expect(totalCount).toBe(1);

    expect((await atProducts('CreateProduct', { input: input('Second') })).errors).toBeUndefined();
    await changesWithinASecond(page, ({ totalCount }) => totalCount === 2);
  });
});
