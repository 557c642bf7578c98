import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { parse, print, type OperationDefinitionNode } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { SANDBOX_ORIGIN } from '@shop/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { contractOperation, eventually, post } from './client.js';
import { startOwnStack } from './own-stack.js';

/**
 * The realtime contract (../shared/contract/realtime.graphql, copied to schema/operations/realtime.graphql) through
 * the real router and subgraphs: OrderUpdates with its joins (an item's product name, the buyer's name) seeing
 * PENDING -> PAID and a cancel by expiry, every refusal, and StockUpdates seeing stock fall after an order, with a
 * graphql-ws client and with Apollo Client (GraphQLWsLink, HttpLink multipart). A stack of its own: orders expire
 * within seconds here.
 */

const realtime = parse(readFileSync(new URL('../schema/operations/realtime.graphql', import.meta.url), 'utf8'));
const REALTIME = new Map(
  realtime.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition').map((d) => [d.name!.value, print(d)]),
);
const ORDER_UPDATES = REALTIME.get('OrderUpdates')!;
const STOCK_UPDATES = REALTIME.get('StockUpdates')!;

let routerUrl: string;
let wsUrl: string;
let admin: string;
let cleanup: () => Promise<void>;

const send = (name: string, variables: Record<string, unknown>, token?: string) =>
  post({ query: contractOperation(name), operationName: name, variables }, token, routerUrl);

async function register(name: string): Promise<{ id: string; token: string }> {
  const response = await send('Register', { input: { email: `realtime-${randomUUID()}@test.shop`, password: 'long enough', name } });
  return { id: response.data.register.user.id, token: response.data.register.token };
}

async function newProduct(name: string, stock: number): Promise<string> {
  const input = { sku: `RT-${randomUUID()}`, name, description: '', category: 'realtime', price: { amount: 250, currency: 'USD' }, stock };
  return (await send('CreateProduct', { input }, admin)).data.createProduct.product.id;
}

async function placeOrder(token: string, productId: string, quantity: number): Promise<string> {
  const response = await send('PlaceOrder', { input: { items: [{ productId, quantity }], idempotencyKey: randomUUID() } }, token);
  if (!response.data?.placeOrder) throw new Error(JSON.stringify(response.errors));
  return response.data.placeOrder.order.id;
}

function wsClient(token?: string): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
}

function watch(client: Client, query: string, variables: Record<string, unknown>) {
  const results: any[] = [];
  const done = new Promise<any[]>((resolve, reject) =>
    client.subscribe(
      { query, variables },
      { next: (result) => void results.push(result), error: reject, complete: () => resolve(results) },
    ),
  );
  return { results, done };
}

const codes = (result: { errors?: { extensions?: { code?: string } }[] }) => result.errors?.map((error) => error.extensions?.code);

beforeAll(async () => {
  const own = await startOwnStack('realtime', {
    ROUTER_SECRET: 'realtime-stack-router-secret',
    SEED_DEMO: 'false',
    NODE_ENV: 'test',
    // Unpaid orders expire within seconds: the cancel by expiry arrives as an event.
    ORDER_HOLD_MINUTES: '0.05',
    RECOVERY_INTERVAL_MS: '250',
    RATE_LIMIT_LOGIN_PER_IP: '100000',
  });
  ({ routerUrl, admin } = own);
  wsUrl = routerUrl.replace(/^http/, 'ws');
  cleanup = own.stop;
}, 240_000);

afterAll(async () => {
  await cleanup?.();
}, 60_000);

describe('OrderUpdates through the router', () => {
  it('sees PENDING then PAID, each event with the product name and the buyer name from the other subgraphs', async () => {
    const buyer = await register('Rita Realtime');
    const product = await newProduct('Realtime Socks', 5);
    const order = await placeOrder(buyer.token, product, 2);
    const client = wsClient(buyer.token);
    const updates = watch(client, ORDER_UPDATES, { id: order });
    await eventually(async () => expect(updates.results.length).toBe(1), 10_000);
    await send('PayOrder', { input: { orderId: order, paymentToken: 'tok_visa' } }, buyer.token);
    const results = await updates.done;
    expect(results.map((r) => r.errors)).toEqual([undefined, undefined]);
    expect(results.map((r) => r.data.orderUpdated.status)).toEqual(['PENDING', 'PAID']);
    for (const { data } of results) {
      expect(data.orderUpdated).toMatchObject({
        id: order,
        total: { amount: 500, currency: 'USD' },
        buyer: { id: buyer.id, name: 'Rita Realtime' },
      });
      expect(data.orderUpdated.items).toEqual([{ quantity: 2, product: { id: product, name: 'Realtime Socks', stock: 3 } }]);
    }
    expect(results[0].data.orderUpdated.paidAt).toBeNull();
    expect(results[1].data.orderUpdated.paidAt).toEqual(expect.any(String));
    await client.dispose();
  });

  it('sees a cancel by expiry as an event (Apollo Client, GraphQLWsLink)', async () => {
    const buyer = await register('Eve Expiry');
    const product = await newProduct('Expiring Hat', 4);
    const order = await placeOrder(buyer.token, product, 1);
    const wsLink = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${buyer.token}` } });
    const client = new ApolloClient({ link: new GraphQLWsLink(wsLink), cache: new InMemoryCache() });
    const statuses: string[] = [];
    await new Promise<void>((resolve, reject) =>
      client.subscribe({ query: gql(ORDER_UPDATES), variables: { id: order } }).subscribe({
        next: (result) => (result.error ? reject(result.error) : statuses.push((result.data as any).orderUpdated.status)),
        error: reject,
        complete: resolve,
      }),
    );
    expect(statuses).toEqual(['PENDING', 'CANCELLED']);
    client.stop();
    await wsLink.dispose();
  }, 60_000);

  it('refuses as the contract says: one error with its code, and nothing else', async () => {
    const owner = await register('Owner');
    const other = await register('Other');
    const product = await newProduct('Private Scarf', 3);
    const order = await placeOrder(owner.token, product, 1);
    const cases: [string | undefined, string, Record<string, unknown>, string][] = [
      [undefined, ORDER_UPDATES, { id: order }, 'UNAUTHENTICATED'],
      [other.token, ORDER_UPDATES, { id: order }, 'FORBIDDEN'],
      [owner.token, ORDER_UPDATES, { id: randomUUID() }, 'NOT_FOUND'],
      [undefined, STOCK_UPDATES, { ids: [] }, 'BAD_USER_INPUT'],
      [undefined, STOCK_UPDATES, { ids: Array.from({ length: 101 }, () => randomUUID()) }, 'BAD_USER_INPUT'],
    ];
    for (const [token, query, variables, code] of cases) {
      const client = wsClient(token);
      const results = await watch(client, query, variables).done;
      expect(results.map(codes), code).toEqual([[code]]);
      expect(results[0].data ?? null, code).toBeNull();
      await client.dispose();
    }
  });
});

describe('StockUpdates through the router', () => {
  it('sees the stock fall after an order and rise when it expires, anonymously, over graphql-ws and over multipart HTTP (Apollo Client HttpLink)', async () => {
    const buyer = await register('Stock Watcher');
    const product = await newProduct('Watched Gloves', 10);
    const client = wsClient();
    const overWs = watch(client, STOCK_UPDATES, { ids: [product] });
    const http = new ApolloClient({ link: new HttpLink({ uri: routerUrl }), cache: new InMemoryCache() });
    const overHttp: any[] = [];
    const subscription = http
      .subscribe({ query: gql(STOCK_UPDATES), variables: { ids: [product] } })
      .subscribe({ next: (result) => void overHttp.push(result) });
    // Both subscriptions are open at the subgraph before the change is made.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await placeOrder(buyer.token, product, 3);
    // The order reserves 3 (10 -> 7); unpaid, it expires within seconds here and releases them (7 -> 10).
    const stocks = (results: any[]) => results.map((result) => result.data?.productUpdated.stock);
    await eventually(async () => {
      expect(stocks(overWs.results)).toEqual([7, 10]);
      expect(stocks(overHttp)).toEqual([7, 10]);
    }, 20_000);
    expect(overWs.results[0].data.productUpdated).toEqual({
      id: product,
      stock: 7,
      inStock: true,
      price: { amount: 250, currency: 'USD' },
    });
    expect(overHttp[0].data.productUpdated).toMatchObject({ id: product, stock: 7, inStock: true });
    subscription.unsubscribe();
    http.stop();
    await client.dispose();
  });
});

describe('from Apollo Sandbox', () => {
  /** What Sandbox's browser page sends with every WebSocket upgrade and HTTP request: its origin. */
  class FromSandbox extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { origin: SANDBOX_ORIGIN } });
    }
  }

  it('runs both subscriptions as Sandbox sends them from its origin: graphql-ws with the token in the connection payload, and multipart HTTP over CORS', async () => {
    const buyer = await register('Sandbox Explorer');
    const product = await newProduct('Sandbox Mug', 5);
    const order = await placeOrder(buyer.token, product, 1);
    const client = createClient({
      url: wsUrl,
      webSocketImpl: FromSandbox,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${buyer.token}` },
    });
    const orderUpdates = watch(client, ORDER_UPDATES, { id: order });
    const stockUpdates = watch(client, STOCK_UPDATES, { ids: [product] });

    const preflight = await fetch(routerUrl, {
      method: 'OPTIONS',
      headers: {
        origin: SANDBOX_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(SANDBOX_ORIGIN);
    // The multipart subscription through Apollo Client's HttpLink, each request sent from Sandbox's origin.
    const answered: Response[] = [];
    const fromSandbox: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('origin', SANDBOX_ORIGIN);
      const response = await fetch(input, { ...init, headers });
      answered.push(response);
      return response;
    };
    const http = new ApolloClient({
      link: new HttpLink({ uri: routerUrl, fetch: fromSandbox, headers: { authorization: `Bearer ${buyer.token}` } }),
      cache: new InMemoryCache(),
    });
    const overHttp: any[] = [];
    const subscription = http
      .subscribe({ query: gql(STOCK_UPDATES), variables: { ids: [product] } })
      .subscribe({ next: (result) => void overHttp.push(result) });

    // All three are open at the subgraphs before the change is made.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // The buyer cancels; should this stack's short hold expire the order first, that cancel is the event instead
    // (and this one is refused). Either gives the unit back (4 -> 5): an event on each stream.
    await send('CancelOrder', { id: order }, buyer.token);
    const cancelledAt = Date.now();
    const statuses = (await orderUpdates.done).map((result) => result.data?.orderUpdated.status);
    expect(statuses).toEqual(['PENDING', 'CANCELLED']);
    await eventually(async () => {
      expect(stockUpdates.results.map((result) => result.data?.productUpdated.stock)).toEqual([5]);
      expect(overHttp.map((result) => result.data?.productUpdated)).toEqual([expect.objectContaining({ id: product, stock: 5 })]);
    }, 20_000);
    // Each part is whole as soon as it is written: the event does not wait for the next heartbeat (every
    // SUBSCRIPTION_KEEPALIVE_MS, 10 s by default) to close it.
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    // Its events came over one multipart answer, which CORS let Sandbox's page read.
    expect(answered).toHaveLength(1);
    expect(answered[0]!.status).toBe(200);
    expect(answered[0]!.headers.get('access-control-allow-origin')).toBe(SANDBOX_ORIGIN);
    expect(answered[0]!.headers.get('content-type')).toMatch(/^multipart\/mixed/);
    subscription.unsubscribe();
    http.stop();
    await client.dispose();
  }, 60_000);
});
