import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse, print, type OperationDefinitionNode } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, ServiceProcess, type ServiceName } from '../scripts/stack.js';
import { contractOperation, eventually, post } from './client.js';
import { startOwnStack } from './own-stack.js';
import { natsAnswers, TEST_NATS_URL } from './stream.js';

/**
 * Two router replicas over NATS (issue 14): on PostgreSQL with NATS, router A in front of the stack's orders and
 * products, router B in front of a second orders replica and a second products replica (users is shared). Each
 * replica's subscriptions are fed from the stream, so a subscriber on one router sees changes made through the
 * other. PostgreSQL only: two processes cannot share one PGlite.
 */

const driver = process.env.TEST_POSTGRES_URL ? 'postgres' : 'pglite';
const ROUTER_SECRET = 'replicas-stack-router-secret';

const realtime = parse(readFileSync(new URL('../schema/operations/realtime.graphql', import.meta.url), 'utf8'));
const REALTIME = new Map(
  realtime.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition').map((d) => [d.name!.value, print(d)]),
);
const ORDER_UPDATES = REALTIME.get('OrderUpdates')!;
const STOCK_UPDATES = REALTIME.get('StockUpdates')!;

let stack: Record<ServiceName, ServiceProcess>;
/** The second replicas, behind router B. */
let extra: ServiceProcess[] = [];
let routerA: string;
let routerB: string;
let admin: string;
let cleanup: (() => Promise<void>) | undefined;

const send = (routerUrl: string, name: string, variables: Record<string, unknown>, token?: string) =>
  post({ query: contractOperation(name), operationName: name, variables }, token, routerUrl);

async function register(name: string): Promise<{ id: string; token: string }> {
  const response = await send(routerA, 'Register', {
    input: { email: `replicas-${randomUUID()}@test.shop`, password: 'long enough', name },
  });
  return { id: response.data.register.user.id, token: response.data.register.token };
}

async function placeOrder(routerUrl: string, token: string, productId: string, quantity: number): Promise<string> {
  const response = await send(
    routerUrl,
    'PlaceOrder',
    { input: { items: [{ productId, quantity }], idempotencyKey: randomUUID() } },
    token,
  );
  if (!response.data?.placeOrder) throw new Error(JSON.stringify(response.errors));
  return response.data.placeOrder.order.id;
}

function wsClient(routerUrl: string, token?: string): Client {
  return createClient({
    url: routerUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
}

function watch(client: Client, query: string, variables: Record<string, unknown>) {
  const results: any[] = [];
  let failed: unknown;
  const done = new Promise<any[]>((resolve, reject) =>
    client.subscribe(
      { query, variables },
      {
        next: (result) => void results.push(result),
        error: (error) => {
          failed = error;
          reject(error);
        },
        complete: () => resolve(results),
      },
    ),
  );
  // Never an unhandled rejection: a failed subscription is reported by the checks that read `failed`.
  done.catch(() => {});
  return { results, done, failed: () => failed };
}

beforeAll(async () => {
  if (driver !== 'postgres') return;
  if (!(await natsAnswers())) throw new Error(`NATS does not answer at ${TEST_NATS_URL}: start nats-server -js (see .ci/run)`);
  const own = await startOwnStack('replicas', {
    NATS_URL: TEST_NATS_URL,
    ROUTER_SECRET,
    SEED_DEMO: 'false',
    NODE_ENV: 'test',
    RECOVERY_INTERVAL_MS: '250',
    RATE_LIMIT_LOGIN_PER_IP: '100000',
  });
  const { env } = own;
  stack = own.stack;
  cleanup = async () => {
    await Promise.all(extra.map((service) => service.stop('SIGTERM')));
    await own.stop();
  };
  const urls = Object.fromEntries(
    (['users', 'products', 'orders'] as const).map((name) => [`${name.toUpperCase()}_URL`, `${stack[name].url}/graphql`]),
  );
  // The second replicas talk to each other: router B's orders asks the second products to reserve stock.
  const products2 = new ServiceProcess('products', await freePort(), { ...urls, ...env });
  extra.push(products2);
  await products2.start();
  const orders2 = new ServiceProcess('orders', await freePort(), { ...urls, PRODUCTS_URL: `${products2.url}/graphql`, ...env });
  extra.push(orders2);
  await orders2.start();
  const router2 = new ServiceProcess('router', await freePort(), {
    ...urls,
    PRODUCTS_URL: `${products2.url}/graphql`,
    ORDERS_URL: `${orders2.url}/graphql`,
    ...env,
  });
  extra.push(router2);
  await router2.start();
  routerA = `${stack.router.url}/graphql`;
  routerB = `${router2.url}/graphql`;
  admin = own.admin;
}, 300_000);

afterAll(async () => {
  await cleanup?.();
  extra = [];
}, 60_000);

describe('two router replicas over NATS', () => {
  it.skipIf(driver !== 'postgres')(
    'OrderUpdates on router A sees an order placed and paid through router B, with the product and buyer names',
    async () => {
      const buyer = await register('Rhea Replica');
      const input = {
        sku: `RR-${randomUUID()}`,
        name: 'Replicated Mittens',
        description: '',
        category: 'replicas',
        price: { amount: 400, currency: 'USD' },
        stock: 20,
      };
      const product = (await send(routerB, 'CreateProduct', { input }, admin)).data.createProduct.product.id as string;

      const order = await placeOrder(routerB, buyer.token, product, 2);
      const client = wsClient(routerA, buyer.token);
      try {
        const updates = watch(client, ORDER_UPDATES, { id: order });
        // The order as it is now arrives first: router A's orders replica reads it from the shared database.
        await eventually(async () => {
          expect(updates.failed()).toBeUndefined();
          expect(updates.results.length).toBe(1);
        }, 30_000);
        const paid = await send(routerB, 'PayOrder', { input: { orderId: order, paymentToken: 'tok_visa' } }, buyer.token);
        expect(paid.errors).toBeUndefined();
        // The payment is made on the second orders replica; it reaches router A's replica through the stream.
        const results = await Promise.race([
          updates.done,
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error(`no PAID after 60 s: ${JSON.stringify(updates.results)}`)), 60_000),
          ),
        ]);
        expect(results.map((r) => r.errors)).toEqual([undefined, undefined]);
        expect(results.map((r) => r.data.orderUpdated.status)).toEqual(['PENDING', 'PAID']);
        for (const { data } of results) {
          expect(data.orderUpdated).toMatchObject({
            id: order,
            total: { amount: 800, currency: 'USD' },
            buyer: { id: buyer.id, name: 'Rhea Replica' },
          });
          expect(data.orderUpdated.items).toEqual([{ quantity: 2, product: { id: product, name: 'Replicated Mittens', stock: 18 } }]);
        }
        expect(results[1].data.orderUpdated.paidAt).toEqual(expect.any(String));
      } finally {
        await client.dispose();
      }
    },
    120_000,
  );

  it.skipIf(driver !== 'postgres')(
    'StockUpdates on router B sees the stock fall for an order placed through router A',
    async () => {
      const buyer = await register('Sam Stock');
      const input = {
        sku: `RS-${randomUUID()}`,
        name: 'Replicated Scarf',
        description: '',
        category: 'replicas',
        price: { amount: 150, currency: 'USD' },
        stock: 50,
      };
      const product = (await send(routerA, 'CreateProduct', { input }, admin)).data.createProduct.product.id as string;
      const client = wsClient(routerB);
      try {
        const updates = watch(client, STOCK_UPDATES, { ids: [product] });
        // Nothing says when the subscription is open at the second products replica: restock one at a time
        // through router A until the first event arrives on router B, then the pipe is known to be live.
        let restocks = 0;
        await eventually(async () => {
          expect(updates.failed()).toBeUndefined();
          if (updates.results.length === 0) {
            const restocked = await send(routerA, 'RestockProduct', { id: product, quantity: 1 }, admin);
            expect(restocked.errors).toBeUndefined();
            restocks += 1;
            await new Promise((resolve) => setTimeout(resolve, 1_000));
          }
          expect(updates.results.length).toBeGreaterThan(0);
        }, 60_000);
        // Every restock's event arrives (in order) before the order's.
        await eventually(async () => {
          expect(updates.results.at(-1)?.data?.productUpdated.stock).toBe(50 + restocks);
        }, 30_000);
        const before = updates.results.length;

        await placeOrder(routerA, buyer.token, product, 3);
        await eventually(async () => {
          expect(updates.results.slice(before).map((r) => r.data?.productUpdated.stock)).toEqual([50 + restocks - 3]);
        }, 60_000);
        expect(updates.results.slice(before)[0]).toEqual({
          data: { productUpdated: { id: product, stock: 47 + restocks, inStock: true, price: { amount: 150, currency: 'USD' } } },
        });
      } finally {
        await client.dispose();
      }
    },
    180_000,
  );
});
