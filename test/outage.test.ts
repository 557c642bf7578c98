import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceProcess, freePorts, startStack, sumMetric, type ServiceName } from '../scripts/stack.js';
import { contractOperation, post, type GraphQLResponse } from './client.js';
import { TEST_ADMIN } from './fixtures.js';
import { freshStorage } from './storage.js';

/**
 * A subgraph outage, on a stack of this file's own (issue 12, item 6): a subgraph is killed (SIGKILL, no
 * shutdown notice) and stays down. The shopper still gets their order history within SUBGRAPH_TIMEOUT_MS, with
 * what the dead subgraph owns null and an error naming it; once the router's circuit breaker for that subgraph is
 * open, requests fail at once; when the subgraph is back, the first probe closes the breaker.
 * test/redeploy.test.ts checks the other side: a planned restart (SIGTERM) costs no failed query.
 */

const TIMEOUT_MS = 5_000;
const WINDOW_MS = 2_000;
const PROBE_MS = 500;

let stack: Record<ServiceName, ServiceProcess>;
let removeStorage: (() => Promise<void>) | undefined;
let buyer: string;
let orderId: string;
let product: { id: string; sku: string; name: string };

const routerUrl = () => `${stack.router.url}/graphql`;
const send = (name: string, variables: Record<string, unknown>, token?: string) =>
  post({ query: contractOperation(name), operationName: name, variables }, token, routerUrl());

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

async function routerMetric(name: string, labels: Record<string, string>): Promise<number> {
  return sumMetric(await (await fetch(`${stack.router.opsUrl}/metrics`)).text(), name, labels);
}

const unavailable = (service: string) =>
  expect.objectContaining({ message: `The ${service} service is unavailable`, extensions: { code: 'SERVICE_UNAVAILABLE', service } });

beforeAll(async () => {
  const storage = await freshStorage('outage');
  removeStorage = storage.remove;
  stack = await startStack(
    {
      ...storage.env,
      LOG_LEVEL: 'warn',
      ADMIN_EMAIL: TEST_ADMIN.email,
      ADMIN_PASSWORD: TEST_ADMIN.password,
      SEED_DEMO: 'false',
      SUBGRAPH_TIMEOUT_MS: String(TIMEOUT_MS),
      SUBGRAPH_BREAKER_WINDOW_MS: String(WINDOW_MS),
      SUBGRAPH_BREAKER_PROBE_MS: String(PROBE_MS),
    },
    await freePorts(),
  );
  const admin = (await send('Login', { input: TEST_ADMIN })).data.login.token as string;
  const input = {
    sku: `OUT-${randomUUID()}`,
    name: 'Outage lamp',
    description: '',
    category: 'outage',
    price: { amount: 1_250, currency: 'USD' },
    stock: 10,
  };
  product = (await send('CreateProduct', { input }, admin)).data.createProduct.product;
  const email = `outage-${randomUUID()}@test.shop`;
  buyer = (await send('Register', { input: { email, password: 'long enough', name: 'Outage Buyer' } })).data.register.token;
  const placed = await send(
    'PlaceOrder',
    { input: { items: [{ productId: product.id, quantity: 2 }], idempotencyKey: randomUUID() } },
    buyer,
  );
  expect(placed.errors).toBeUndefined();
  orderId = placed.data.placeOrder.order.id;
}, 240_000);

afterAll(async () => {
  await Promise.all(Object.values(stack ?? {}).map((service) => service.stop('SIGTERM')));
  await removeStorage?.();
}, 60_000);

describe('products killed', () => {
  let first: { result: GraphQLResponse; ms: number };

  beforeAll(async () => {
    await stack.products.stop('SIGKILL');
    first = await timed(() => send('OrderHistory', { first: 5 }, buyer));
  });

  it(`answers OrderHistory within SUBGRAPH_TIMEOUT_MS (${TIMEOUT_MS} ms): the orders, products null, an error naming products`, () => {
    const { result: response, ms } = first;
    console.log(`OrderHistory took ${Math.round(ms)} ms with products just killed`);
    expect(ms).toBeLessThan(TIMEOUT_MS);
    expect(response.status).toBe(200);
    expect(response.data.me).toMatchObject({ name: 'Outage Buyer', orders: { totalCount: 1 } });
    const order = response.data.me.orders.edges[0].node;
    expect(order).toMatchObject({ id: orderId, status: 'PENDING', total: { amount: 2_500, currency: 'USD' } });
    expect(order.items).toEqual([{ quantity: 2, unitPrice: { amount: 1_250, currency: 'USD' }, product: null }]);
    expect(response.errors).toEqual([unavailable('products')]);
    expect(response.errors![0]!.path).toEqual(['me', 'orders', 'edges', 0, 'node', 'items', 0, 'product', expect.any(String)]);
  });

  it('then fails at once: the breaker is open, nothing is sent to products', async () => {
    // A fetch the breaker refused, or one that shared an identical fetch in flight (router/src/dedupe.ts):
    // either way nothing was sent for it.
    const notSent = async () =>
      (await routerMetric('router_subgraph_breaker_rejected_total', { subgraph: 'products' })) +
      (await routerMetric('router_subgraph_fetches_shared_total', { subgraph: 'products' }));
    const rejectedBefore = await notSent();
    expect(await routerMetric('router_subgraph_breaker_open', { subgraph: 'products' })).toBe(1);
    // Requests that arrive together: at most one of them is the probe; the rest are not sent.
    const answers = await Promise.all(Array.from({ length: 4 }, () => timed(() => send('OrderHistory', { first: 5 }, buyer))));
    for (const { result, ms } of answers) {
      expect(ms).toBeLessThan(WINDOW_MS);
      expect(result.data.me.orders.edges[0].node.items[0]).toMatchObject({ quantity: 2, product: null });
      expect(result.errors).toEqual([unavailable('products')]);
    }
    const catalogue = await timed(() => send('Catalogue', { first: 1 }));
    expect(catalogue.ms).toBeLessThan(WINDOW_MS);
    expect(catalogue.result.data).toBeNull();
    expect(catalogue.result.errors).toEqual([
      expect.objectContaining({ path: ['products'], extensions: { code: 'SERVICE_UNAVAILABLE', service: 'products' } }),
    ]);
    expect(await notSent()).toBeGreaterThanOrEqual(rejectedBefore + 3);
    expect(stack.router.output).toContain('subgraph circuit breaker opened');
  });

  it('closes the breaker once products is back: the first probe gets through', async () => {
    await stack.products.start();
    const back = Date.now();
    let response: GraphQLResponse;
    for (;;) {
      response = await send('OrderHistory', { first: 5 }, buyer);
      if (!response.errors || Date.now() - back > 10_000) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // One probe interval at most, plus the time a loaded machine takes to answer.
    expect(Date.now() - back).toBeLessThan(PROBE_MS + 3_000);
    expect(response.errors).toBeUndefined();
    expect(response.data.me.orders.edges[0].node.items[0].product).toEqual({
      id: product.id,
      sku: product.sku,
      name: 'Outage lamp',
      price: { amount: 1_250, currency: 'USD' },
    });
    expect(await routerMetric('router_subgraph_breaker_open', { subgraph: 'products' })).toBe(0);
  });
});

describe('the other cross-subgraph references', () => {
  it('users killed: OrderDetail keeps the order, with buyer null and an error naming users', async () => {
    await stack.users.stop('SIGKILL');
    try {
      const { result: response, ms } = await timed(() => send('OrderDetail', { id: orderId }, buyer));
      expect(ms).toBeLessThan(TIMEOUT_MS);
      expect(response.data.order).toMatchObject({ id: orderId, status: 'PENDING', buyer: null });
      expect(response.data.order.items[0]).toMatchObject({ quantity: 2, product: { id: product.id, name: 'Outage lamp' } });
      expect(response.errors).toEqual([unavailable('users')]);
    } finally {
      await stack.users.start();
    }
  });

  it('orders killed: Customers keeps every user, with orders null and an error naming orders', async () => {
    const admin = (await send('Login', { input: TEST_ADMIN })).data.login.token as string;
    await stack.orders.stop('SIGKILL');
    try {
      const { result: response, ms } = await timed(() => send('Customers', { first: 5 }, admin));
      expect(ms).toBeLessThan(TIMEOUT_MS);
      const nodes = response.data.users.edges.map((edge: { node: unknown }) => edge.node);
      expect(nodes.length).toBeGreaterThanOrEqual(2);
      for (const node of nodes) expect(node).toMatchObject({ orders: null });
      expect(nodes).toContainEqual(expect.objectContaining({ name: 'Outage Buyer' }));
      expect(response.errors).toEqual([unavailable('orders')]);
    } finally {
      await stack.orders.start();
    }
  });
});
