import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

/**
 * The outbox and the subgraphs' subscriptions, in-process: products and orders on their own temporary PGlite,
 * listening on free ports, without a broker (the relay delivers to each service's in-process feed). Requests carry
 * the router's secret as the router's would; subscriptions go over graphql-ws with a real client.
 */
const ROUTER_SECRET = 'events-test-router-secret';

type ProductsServer = Awaited<ReturnType<typeof import('../../subgraphs/products/src/server.js').buildServer>>;
type OrdersServer = Awaited<ReturnType<typeof import('../../subgraphs/orders/src/server.js').buildServer>>;
let products: ProductsServer;
let orders: OrdersServer;
let dataDir: string;
let productsWs: string;
let ordersWs: string;
let sign: (id: string, role: string, ttl?: string) => Promise<string>;
let admin: string;

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return `ws://127.0.0.1:${address.port}/graphql`;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'events-'));
  Object.assign(process.env, {
    DATA_DIR: dataDir,
    ROUTER_SECRET,
    RECOVERY_INTERVAL_MS: '3600000',
    LOG_LEVEL: 'fatal',
  });
  delete process.env.ORDERS_DATABASE_URL;
  delete process.env.PRODUCTS_DATABASE_URL;
  delete process.env.NATS_URL;
  const { signToken } = await import('@shop/subgraph');
  sign = (id, role, ttl) => signToken({ id, role }, ttl);
  admin = await sign(randomUUID(), 'ADMIN');
  products = await (await import('../../subgraphs/products/src/server.js')).buildServer();
  productsWs = await listen(products.app);
  process.env.PRODUCTS_URL = productsWs.replace('ws:', 'http:');
  orders = await (await import('../../subgraphs/orders/src/server.js')).buildServer();
  ordersWs = await listen(orders.app);
}, 60_000);

afterAll(async () => {
  await orders?.app.close();
  await products?.app.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function graphql(app: FastifyInstance, query: string, variables: Record<string, unknown>, token?: string) {
  const response = await app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json', 'x-router-secret': ROUTER_SECRET, ...(token && { authorization: `Bearer ${token}` }) },
    payload: { query, variables },
  });
  return response.json() as { data?: any; errors?: { extensions?: { code?: string } }[] };
}

async function createProduct(stock: number, amount = 1000): Promise<string> {
  const result = await graphql(
    products.app,
    `
      mutation ($input: CreateProductInput!) {
        createProduct(input: $input) {
          product {
            id
          }
        }
      }
    `,
    {
      input: {
        sku: `EV-${randomUUID()}`,
        name: 'Event socks',
        description: '',
        category: 'socks',
        price: { amount, currency: 'USD' },
        stock,
      },
    },
    admin,
  );
  return result.data.createProduct.product.id;
}

async function placeOrder(token: string, items: { productId: string; quantity: number }[]) {
  return graphql(
    orders.app,
    `
      mutation ($input: PlaceOrderInput!) {
        placeOrder(input: $input) {
          order {
            id
            status
          }
        }
      }
    `,
    { input: { items, idempotencyKey: randomUUID() } },
    token,
  );
}

/** Outbox rows of a subject, oldest first. */
async function outboxOf(server: ProductsServer | OrdersServer, subject: string) {
  const { outbox } =
    server === products
      ? await import('../../subgraphs/products/src/db/schema.js')
      : await import('../../subgraphs/orders/src/db/schema.js');
  const { asc, eq } = await import('drizzle-orm');
  return (server.database.db as any).select().from(outbox).where(eq(outbox.subject, subject)).orderBy(asc(outbox.seq)) as Promise<
    { id: string; type: string; subject: string; data: any; publishedAt: Date | null }[]
  >;
}

interface Watch {
  results: FormattedExecutionResult<any>[];
  /** Resolves when the server completes the subscription; rejects with the close event on an error. */
  ended: Promise<void>;
  /** Resolves once `count` results have arrived. */
  received(count: number): Promise<FormattedExecutionResult<any>[]>;
  client: Client;
}

function watch(url: string, query: string, variables: Record<string, unknown>, connectionParams: Record<string, unknown>): Watch {
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams });
  const results: FormattedExecutionResult<any>[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    client.subscribe(
      { query, variables },
      {
        next: (result) => {
          results.push(result as FormattedExecutionResult<any>);
          for (const waiter of waiters) if (results.length >= waiter.count) waiter.resolve();
        },
        error: reject,
        complete: resolve,
      },
    );
  });
  ended.catch(() => {});
  const received = (count: number) =>
    new Promise<FormattedExecutionResult<any>[]>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`got ${results.length} results, waited for ${count}: ${JSON.stringify(results)}`)),
        5_000,
      );
      const done = () => (clearTimeout(timer), resolve(results));
      if (results.length >= count) done();
      else waiters.push({ count, resolve: done });
    });
  return { results, ended, received, client };
}

const ORDER_UPDATED = `subscription($id: ID!) { orderUpdated(id: $id) { id status paidAt total { amount currency } items { quantity product { id } } buyer { id } } }`;
const PRODUCT_UPDATED = `subscription($ids: [ID!]!) { productUpdated(ids: $ids) { id stock inStock price { amount currency } } }`;
const routerParams = (token?: string) => ({ 'x-router-secret': ROUTER_SECRET, ...(token && { authorization: `Bearer ${token}` }) });

describe('the outbox', () => {
  it('writes each committed change in its own transaction, exactly as events.md says, and publishes it', async () => {
    const productId = await createProduct(10, 1250);
    const buyer = randomUUID();
    const token = await sign(buyer, 'CUSTOMER');
    const placed = await placeOrder(token, [{ productId, quantity: 3 }]);
    const orderId = placed.data.placeOrder.order.id;
    const paid = await graphql(
      orders.app,
      `
        mutation ($input: PayOrderInput!) {
          payOrder(input: $input) {
            order {
              status
              paidAt
            }
          }
        }
      `,
      { input: { orderId, paymentToken: 'tok_visa' } },
      token,
    );
    expect(paid.data.payOrder.order.status).toBe('PAID');
    await orders.events!.relay.idle();
    await products.events!.relay.idle();

    const orderRows = await outboxOf(orders, orderId);
    expect(orderRows.map((row) => row.type)).toEqual(['shop.order.placed', 'shop.order.paid']);
    expect(orderRows[0]!.data).toEqual({
      orderId,
      buyerId: buyer,
      status: 'PENDING',
      total: { amount: 3750, currency: 'USD' },
      items: [{ productId, quantity: 3, unitPrice: { amount: 1250, currency: 'USD' } }],
    });
    expect(orderRows[1]!.data).toEqual({
      orderId,
      buyerId: buyer,
      status: 'PAID',
      total: { amount: 3750, currency: 'USD' },
      paidAt: paid.data.payOrder.order.paidAt,
    });
    const productRows = await outboxOf(products, productId);
    expect(productRows.map((row) => [row.type, row.data])).toEqual([
      [
        'shop.product.created',
        { productId, sku: expect.any(String), name: 'Event socks', price: { amount: 1250, currency: 'USD' }, stock: 10, category: 'socks' },
      ],
      ['shop.product.stock_changed', { productId, stock: 7, delta: -3 }],
    ]);
    // The relay has published them all.
    await expect.poll(async () => (await outboxOf(orders, orderId)).every((row) => row.publishedAt !== null)).toBe(true);
    await expect.poll(async () => (await outboxOf(products, productId)).every((row) => row.publishedAt !== null)).toBe(true);
  });

  it('writes nothing for a rolled-back change: a reservation short of stock on its last line, and its failed order', async () => {
    const plenty = await createProduct(10);
    const scarce = await createProduct(1);
    const before = [(await outboxOf(products, plenty)).length, (await outboxOf(products, scarce)).length];
    const result = await placeOrder(await sign(randomUUID(), 'CUSTOMER'), [
      { productId: plenty, quantity: 2 },
      { productId: scarce, quantity: 5 },
    ]);
    expect(result.errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_STOCK');
    expect([(await outboxOf(products, plenty)).length, (await outboxOf(products, scarce)).length]).toEqual(before);
    const { orders: ordersTable } = await import('../../subgraphs/orders/src/db/schema.js');
    const { eq } = await import('drizzle-orm');
    const [failed] = await (orders.database.db as any).select().from(ordersTable).where(eq(ordersTable.state, 'FAILED'));
    expect(await outboxOf(orders, failed.id)).toEqual([]);
  });

  it('prunes published rows past their retention', async () => {
    const productId = await createProduct(1);
    await products.events!.relay.idle();
    await expect.poll(async () => (await outboxOf(products, productId))[0]?.publishedAt).not.toBeNull();
    expect(await products.events!.relay.prune(new Date(Date.now() + 24 * 3_600_000))).toBeGreaterThan(0);
    expect(await outboxOf(products, productId)).toEqual([]);
  });
});

describe('subscriptions over graphql-ws', () => {
  it('closes a connection without the router secret with 4403', async () => {
    const refused = watch(productsWs, PRODUCT_UPDATED, { ids: [randomUUID()] }, {});
    await expect(refused.ended).rejects.toMatchObject({ code: 4403 });
    const wrong = watch(ordersWs, ORDER_UPDATED, { id: randomUUID() }, { 'x-router-secret': 'not-the-secret-at-all' });
    await expect(wrong.ended).rejects.toMatchObject({ code: 4403 });
  });

  it('refuses orderUpdated with one error and a complete: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND', async () => {
    const buyer = randomUUID();
    const productId = await createProduct(5);
    const orderId = (await placeOrder(await sign(buyer, 'CUSTOMER'), [{ productId, quantity: 1 }])).data.placeOrder.order.id;
    const cases: [Record<string, unknown>, string][] = [
      [routerParams(), 'UNAUTHENTICATED'],
      [routerParams('not.a.token'), 'UNAUTHENTICATED'],
      [routerParams(await sign(randomUUID(), 'CUSTOMER')), 'FORBIDDEN'],
    ];
    for (const [params, code] of cases) {
      const refused = watch(ordersWs, ORDER_UPDATED, { id: orderId }, params);
      await refused.ended;
      expect(refused.results.map((r) => [r.data ?? null, r.errors?.map((e) => e.extensions?.code)])).toEqual([[null, [code]]]);
      await refused.client.dispose();
    }
    for (const id of [randomUUID(), 'not-a-uuid']) {
      const unknown = watch(ordersWs, ORDER_UPDATED, { id }, routerParams(await sign(buyer, 'CUSTOMER')));
      await unknown.ended;
      expect(unknown.results.map((r) => r.errors?.map((e) => e.extensions?.code))).toEqual([['NOT_FOUND']]);
      await unknown.client.dispose();
    }
  });

  it('refuses productUpdated with BAD_USER_INPUT outside 1 to 100 ids', async () => {
    for (const ids of [[], Array.from({ length: 101 }, () => randomUUID())]) {
      const refused = watch(productsWs, PRODUCT_UPDATED, { ids }, routerParams());
      await refused.ended;
      expect(refused.results.map((r) => r.errors?.map((e) => e.extensions?.code))).toEqual([['BAD_USER_INPUT']]);
      await refused.client.dispose();
    }
  });

  it('orderUpdated: the order now, then PAID, then complete; an admin may watch too', async () => {
    const buyer = randomUUID();
    const token = await sign(buyer, 'CUSTOMER');
    const productId = await createProduct(5, 700);
    const orderId = (await placeOrder(token, [{ productId, quantity: 2 }])).data.placeOrder.order.id;
    const mine = watch(ordersWs, ORDER_UPDATED, { id: orderId }, routerParams(token));
    const admins = watch(ordersWs, ORDER_UPDATED, { id: orderId }, routerParams(admin));
    await mine.received(1);
    await admins.received(1);
    await graphql(
      orders.app,
      `
        mutation ($input: PayOrderInput!) {
          payOrder(input: $input) {
            order {
              id
            }
          }
        }
      `,
      { input: { orderId, paymentToken: 'tok_visa' } },
      token,
    );
    await mine.ended;
    await admins.ended;
    for (const { results } of [mine, admins]) {
      expect(results.map((r) => r.errors)).toEqual([undefined, undefined]);
      expect(results.map((r) => r.data.orderUpdated.status)).toEqual(['PENDING', 'PAID']);
      expect(results[1]!.data.orderUpdated).toMatchObject({
        id: orderId,
        total: { amount: 1400, currency: 'USD' },
        items: [{ quantity: 2, product: { id: productId } }],
        buyer: { id: buyer },
      });
      expect(results[1]!.data.orderUpdated.paidAt).not.toBeNull();
    }
    // A final order: sent once as it is, then complete.
    const late = watch(ordersWs, ORDER_UPDATED, { id: orderId }, routerParams(token));
    await late.ended;
    expect(late.results.map((r) => r.data.orderUpdated.status)).toEqual(['PAID']);
  });

  it('orderUpdated: a cancel by expiry arrives as an event', async () => {
    const token = await sign(randomUUID(), 'CUSTOMER');
    const productId = await createProduct(5);
    const orderId = (await placeOrder(token, [{ productId, quantity: 1 }])).data.placeOrder.order.id;
    const watching = watch(ordersWs, ORDER_UPDATED, { id: orderId }, routerParams(token));
    await watching.received(1);
    await orders.checkout.recover(new Date(Date.now() + 31 * 60_000));
    await watching.ended;
    expect(watching.results.map((r) => r.data.orderUpdated.status)).toEqual(['PENDING', 'CANCELLED']);
    const rows = await outboxOf(orders, orderId);
    expect(rows.at(-1)).toMatchObject({ type: 'shop.order.cancelled', data: { orderId, status: 'CANCELLED', reason: 'EXPIRED' } });
  });

  it('orderUpdated: ends with UNAUTHENTICATED when the token expired before the next event', async () => {
    const buyer = randomUUID();
    const productId = await createProduct(5);
    const orderId = (await placeOrder(await sign(buyer, 'CUSTOMER'), [{ productId, quantity: 1 }])).data.placeOrder.order.id;
    const shortLived = await sign(buyer, 'CUSTOMER', '2s');
    const watching = watch(ordersWs, ORDER_UPDATED, { id: orderId }, routerParams(shortLived));
    await watching.received(1);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const cancelled = await graphql(
      orders.app,
      `
        mutation ($id: ID!) {
          cancelOrder(id: $id) {
            order {
              status
            }
          }
        }
      `,
      { id: orderId },
      await sign(buyer, 'CUSTOMER'),
    );
    expect(cancelled.data.cancelOrder.order.status).toBe('CANCELLED');
    await watching.ended;
    expect(watching.results.map((r) => r.errors?.map((e) => e.extensions?.code))).toEqual([undefined, ['UNAUTHENTICATED']]);
    expect((await outboxOf(orders, orderId)).at(-1)).toMatchObject({ data: { reason: 'BUYER' } });
  });

  it('productUpdated: one event per stock or price change, in order, none for other changes', async () => {
    const watched = await createProduct(10, 500);
    const other = await createProduct(10, 500);
    const watching = watch(productsWs, PRODUCT_UPDATED, { ids: [watched, randomUUID()] }, routerParams());
    // The subscription is open once the server acknowledged it: wait until its stream listens.
    await expect.poll(() => products.feed.subjects).toBeGreaterThan(0);
    const update = `mutation($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { product { id } } }`;
    await graphql(products.app, update, { id: watched, input: { name: 'Renamed socks' } }, admin);
    await graphql(
      products.app,
      `
        mutation ($id: ID!) {
          restockProduct(id: $id, quantity: 5) {
            product {
              id
            }
          }
        }
      `,
      { id: watched },
      admin,
    );
    await graphql(
      products.app,
      `
        mutation ($id: ID!) {
          restockProduct(id: $id, quantity: 5) {
            product {
              id
            }
          }
        }
      `,
      { id: other },
      admin,
    );
    await graphql(products.app, update, { id: watched, input: { price: { amount: 650, currency: 'USD' } } }, admin);
    await placeOrder(await sign(randomUUID(), 'CUSTOMER'), [{ productId: watched, quantity: 15 }]);
    const results = await watching.received(3);
    expect(results.map((r) => r.data.productUpdated)).toEqual([
      { id: watched, stock: 15, inStock: true, price: { amount: 500, currency: 'USD' } },
      { id: watched, stock: 15, inStock: true, price: { amount: 650, currency: 'USD' } },
      { id: watched, stock: 0, inStock: false, price: { amount: 650, currency: 'USD' } },
    ]);
    await watching.client.dispose();
    await expect.poll(() => products.feed.subjects).toBe(0);
  });
});
