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

    // The placed order's stock change drops the entry too, and the cache starts when the router reaches NATS:
    // read until a history costs products no request.
    let cached = false;
    for (let i = 0; i < 50 && !cached; i++) {
      const fetches = await productFetches();
      await history();
      cached = (await productFetches()) === fetches;
      if (!cached) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(cached).toBe(true);
    const settled = await productFetches();
    for (let i = 0; i < 5; i++) expect((await history()).name).toBe('Cached item');
    expect(await productFetches()).toBe(settled);

    const changed = await atProducts('UpdateProduct', { id: productId, input: { name: 'Renamed item' } });
    expect(changed.errors).toBeUndefined();
    const started = Date.now();
    let name = (await history()).name;
    while (name !== 'Renamed item' && Date.now() - started < 1_000) name = (await history()).name;
    expect(name).toBe('Renamed item');
    expect(Date.now() - started).toBeLessThan(1_000);
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

    // The created event drops the root entries too: read until a page costs products no request.
    let cached = false;
    for (let i = 0; i < 50 && !cached; i++) {
      const fetches = await productFetches();
      await page();
      cached = (await productFetches()) === fetches;
      if (!cached) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(cached).toBe(true);
    const settled = await productFetches();
    for (let i = 0; i < 5; i++) expect((await page()).totalCount).toBe(1);
    expect(await productFetches()).toBe(settled);

    expect((await atProducts('CreateProduct', { input: input('Second') })).errors).toBeUndefined();
    const started = Date.now();
    let count = (await page()).totalCount;
    while (count !== 2 && Date.now() - started < 1_000) count = (await page()).totalCount;
    expect(count).toBe(2);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
