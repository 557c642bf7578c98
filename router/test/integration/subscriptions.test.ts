import { readFileSync } from 'node:fs';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { createLogger, maskUnexpectedErrors, registry } from '@shop/service';
import { GraphQLError } from 'graphql';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCompiledResultShaping, uninstallCompiledResultShaping } from '../../src/patches/gateway-result-shaping.js';
import { buildServer } from '../../src/server.js';
import { collect, multipart, payloads, until, wsClient } from '../subscriptions/clients.js';
import {
  ROUTER_ENV,
  ROUTER_SECRET,
  ShopData,
  startSubgraph,
  writeSupergraph,
  type SubgraphLog,
  type TestSubgraph,
} from '../subscriptions/harness.js';

// The router's subscriptions against small real subgraphs (Apollo Server + graphql-ws, ./subscriptions/harness.ts):
// events completed through the rest of the query plan, refusals, limits, keep-alives, subgraph restarts, sharing,
// shutdown, and a differential against a stock @apollo/gateway answering the same selection as a query.

const ORDER_UPDATES = `subscription OrderUpdates($id: ID!) {
  orderUpdated(id: $id) {
    id status paidAt
    total { amount currency }
    items { quantity product { id name stock } }
    buyer { id name }
  }
}`;
const STOCK_UPDATES = `subscription StockUpdates($ids: [ID!]!) { productUpdated(ids: $ids) { id stock inStock } }`;

const data = new ShopData();
const log: SubgraphLog = { connectionParams: [], pings: 0, productSubscriptions: 0 };
const subgraphs: Record<'orders' | 'products' | 'users', TestSubgraph> = {} as never;
let supergraph: { sdl: string; path: string };
let router: Awaited<ReturnType<typeof startRouter>>;
let orderCount = 0;

/** A fresh PENDING order of alice's: p1 x2 and p2 x1. */
function newOrder(buyer = 'alice'): string {
  const id = `order-${++orderCount}`;
  data.addOrder({
    id,
    buyer,
    items: [
      { quantity: 2, product: 'p1' },
      { quantity: 1, product: 'p2' },
    ],
  });
  return id;
}

const expectedOrder = (id: string, status: string, paidAt: string | null = null) => ({
  orderUpdated: {
    id,
    status,
    paidAt,
    total: { amount: 1_500, currency: 'EUR' },
    items: [
      { quantity: 2, product: { id: 'p1', name: 'Socks', stock: data.products.get('p1')!.stock } },
      { quantity: 1, product: { id: 'p2', name: 'Hat', stock: data.products.get('p2')!.stock } },
    ],
    buyer: { id: 'alice', name: 'Alice' },
  },
});

async function startRouter(env: Record<string, string> = {}) {
  Object.assign(process.env, ROUTER_ENV, { SUPERGRAPH_PATH: supergraph.path }, env);
  const service = await buildServer();
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = service.app.server.address() as { port: number };
  return {
    service,
    url: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    close: () => service.app.close(),
  };
}

const codes = (result: { errors?: { extensions?: { code?: string } }[] }) => result.errors?.map((e) => e.extensions?.code);

beforeAll(async () => {
  subgraphs.orders = await startSubgraph('orders', data, log);
  subgraphs.products = await startSubgraph('products', data, log);
  subgraphs.users = await startSubgraph('users', data, log);
  supergraph = writeSupergraph(Object.values(subgraphs));
  router = await startRouter();
});

afterAll(async () => {
  await router?.close();
  await Promise.all(Object.values(subgraphs).map((subgraph) => subgraph.close()));
});

describe('graphql-ws through the router', () => {
  it("completes each event with the buyer's and the products' names from other subgraphs, in order, then completes", async () => {
    const id = newOrder();
    const client = wsClient(router.wsUrl, 'Bearer alice');
    const watch = collect(client, ORDER_UPDATES, { id });
    await until(() => watch.results.length === 1, 5_000, 'the order as it is now');
    data.setStatus(id, 'PAID');
    const { results, error } = await watch.done;
    expect(error).toBeUndefined();
    expect(results).toEqual([{ data: expectedOrder(id, 'PENDING') }, { data: expectedOrder(id, 'PAID', '2026-11-30T12:00:00.000Z') }]);
    await client.dispose();
  });

  it("opens the subgraph's subscription with the client's token, the router secret, a request id and the client's address", async () => {
    const id = newOrder();
    const client = wsClient(router.wsUrl, 'Bearer alice');
    const watch = collect(client, ORDER_UPDATES, { id });
    await until(() => watch.results.length === 1);
    expect(log.connectionParams.at(-1)).toEqual({
      authorization: 'Bearer alice',
      'x-router-secret': ROUTER_SECRET,
      'x-request-id': expect.stringMatching(/^[\w.:-]+$/),
      'x-client-ip': '127.0.0.1',
    });
    watch.stop();
    await client.dispose();
  });

  it('passes each refusal through as exactly one error with its code, then completes', async () => {
    const id = newOrder();
    const cases: [string | undefined, string, Record<string, unknown>, string][] = [
      [undefined, ORDER_UPDATES, { id }, 'UNAUTHENTICATED'],
      ['Bearer bob', ORDER_UPDATES, { id }, 'FORBIDDEN'],
      ['Bearer alice', ORDER_UPDATES, { id: 'no-such-order' }, 'NOT_FOUND'],
      [undefined, STOCK_UPDATES, { ids: [] }, 'BAD_USER_INPUT'],
      [undefined, STOCK_UPDATES, { ids: Array.from({ length: 101 }, (_, i) => `p${i}`) }, 'BAD_USER_INPUT'],
    ];
    for (const [authorization, query, variables, code] of cases) {
      const client = wsClient(router.wsUrl, authorization);
      const { results, error } = await collect(client, query, variables).done;
      expect(error, code).toBeUndefined();
      expect(results.length, code).toBe(1);
      expect(codes(results[0]), code).toEqual([code]);
      expect(results[0].data ?? null, code).toBeNull();
      await client.dispose();
    }
  });

  it('passes a refusal of a later event (the token no longer accepted) through as one error, then completes', async () => {
    const id = newOrder();
    const token = 'Bearer alice';
    const client = wsClient(router.wsUrl, token);
    const watch = collect(client, ORDER_UPDATES, { id });
    await until(() => watch.results.length === 1);
    data.revoked.add(token);
    try {
      data.setStatus(id, 'PAID');
      const { results, error } = await watch.done;
      expect(error).toBeUndefined();
      expect(results).toHaveLength(2);
      expect(results[0]).toEqual({ data: expectedOrder(id, 'PENDING') });
      expect(codes(results[1])).toEqual(['UNAUTHENTICATED']);
    } finally {
      data.revoked.delete(token);
      await client.dispose();
    }
  });

  it('applies the operation limits of queries, and quotas per connection and per client', async () => {
    const client = wsClient(router.wsUrl, 'Bearer alice');
    const refusal = async (query: string, variables: Record<string, unknown> = {}) => {
      const { error } = await collect(client, query, variables).done;
      return (error as { extensions?: { code?: string } }[] | undefined)?.map((e) => e.extensions?.code);
    };
    // A query over graphql-ws is refused: queries and mutations go over HTTP.
    expect(await refusal('{ __typename }')).toEqual(['BAD_REQUEST']);
    expect(await refusal('subscription { nope }')).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(await refusal('subscription {')).toEqual(['GRAPHQL_PARSE_FAILED']);
    // MAX_QUERY_ALIASES=3 and MAX_QUERY_COST=20 for the test router (OrderUpdates costs 14).
    expect(await refusal('subscription { orderUpdated(id: "o1") { a: id b: id c: id d: id } }')).toEqual(['MAX_ALIASES_LIMIT']);
    expect(await refusal('subscription { orderUpdated(id: "o1") { a: items { product { id } } b: items { product { id } } } }')).toEqual([
      'COST_ESTIMATED_TOO_EXPENSIVE',
    ]);
    expect(await refusal(STOCK_UPDATES, { ids: [{ id: 'p1' }] })).toEqual(['BAD_USER_INPUT']);

    // SUBSCRIPTIONS_PER_CONNECTION=4, SUBSCRIPTIONS_PER_CLIENT=6 (every test client is 127.0.0.1).
    const open = [1, 2, 3, 4].map(() => collect(client, STOCK_UPDATES, { ids: ['p3'] }));
    await until(() => log.productSubscriptions >= 1);
    expect(await refusal(STOCK_UPDATES, { ids: ['p3'] })).toEqual(['RATE_LIMITED']);
    const other = wsClient(router.wsUrl);
    const more = [1, 2].map(() => collect(other, STOCK_UPDATES, { ids: ['p3'] }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { error } = await collect(other, STOCK_UPDATES, { ids: ['p3'] }).done;
    expect((error as { extensions?: { code?: string } }[])[0]!.extensions?.code).toBe('RATE_LIMITED');
    expect((error as { message: string }[])[0]!.message).toMatch(/per client/);
    for (const watch of [...open, ...more]) watch.stop();
    // Places are given back when subscriptions end.
    await until(() => router.service.subscriptions.quota.open === 0, 5_000, 'the quota to empty');
    const again = collect(client, STOCK_UPDATES, { ids: ['p3'] });
    await until(() => router.service.subscriptions.quota.open === 1);
    again.stop();
    await Promise.all([client.dispose(), other.dispose()]);
  });

  it('pings clients, answers their pings, pings the subgraph, and closes idle connections', async () => {
    // WebSocket pings from the router every SUBSCRIPTION_KEEPALIVE_MS (300 ms here).
    const raw = new WebSocket(router.wsUrl, 'graphql-transport-ws');
    let pings = 0;
    raw.on('ping', () => pings++);
    const messages: any[] = [];
    raw.on('message', (message) => messages.push(JSON.parse(String(message))));
    const closed = new Promise<number>((resolve) => raw.on('close', (code) => resolve(code)));
    await new Promise((resolve) => raw.once('open', resolve));
    raw.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    raw.send(JSON.stringify({ type: 'ping' }));
    await until(() => messages.some((m) => m.type === 'pong'), 2_000, 'a pong');
    // No subscription: closed after SUBSCRIPTION_IDLE_CLOSE_MS (1 s here), normally.
    const code = await closed;
    expect(code).toBe(1000);
    expect(pings).toBeGreaterThanOrEqual(2);

    // graphql-ws pings from the router to the subgraph while a subscription is open.
    const before = log.pings;
    const client = wsClient(router.wsUrl);
    const watch = collect(client, STOCK_UPDATES, { ids: ['p2'] });
    await until(() => log.pings >= before + 2, 3_000, 'pings to the subgraph');
    watch.stop();
    await client.dispose();
  });

  it('shares one subgraph subscription among anonymous clients of the same operation, completed once per event', async () => {
    await until(() => log.productSubscriptions === 0, 5_000, 'earlier product subscriptions to end');
    const clients = [1, 2, 3].map(() => wsClient(router.wsUrl));
    const watches = clients.map((client) => collect(client, STOCK_UPDATES, { ids: ['p1', 'p2'] }));
    await until(() => log.productSubscriptions === 1, 5_000, 'the shared subscription');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(log.productSubscriptions).toBe(1);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/^router_subscriptions_open 3$/m);
    expect(metrics).toMatch(/^router_subscription_streams_open 1$/m);
    data.setStock('p1', 9);
    await until(() => watches.every((watch) => watch.results.length === 1), 5_000, 'the event at every client');
    for (const watch of watches) expect(watch.results).toEqual([{ data: { productUpdated: { id: 'p1', stock: 9, inStock: true } } }]);
    for (const watch of watches) watch.stop();
    await until(() => log.productSubscriptions === 0, 5_000, 'the shared subscription to end with its last reader');
    await Promise.all(clients.map((client) => client.dispose()));
  });
});

describe('Apollo Client through the router', () => {
  const order = gql(ORDER_UPDATES);

  it('GraphQLWsLink: the order as it is now, then its status change, with joins', async () => {
    const id = newOrder();
    const link = new GraphQLWsLink(wsClient(router.wsUrl, 'Bearer alice'));
    const client = new ApolloClient({ link, cache: new InMemoryCache() });
    const results: any[] = [];
    const done = new Promise<void>((resolve, reject) =>
      client.subscribe({ query: order, variables: { id } }).subscribe({
        next: (result) => {
          results.push(result);
          if (results.length === 1) data.setStatus(id, 'CANCELLED');
        },
        error: reject,
        complete: resolve,
      }),
    );
    await done;
    expect(results.map((r) => r.data.orderUpdated.status)).toEqual(['PENDING', 'CANCELLED']);
    expect(results[1].data.orderUpdated.buyer.name).toBe('Alice');
    expect(results[1].data.orderUpdated.items[0].product.name).toBe('Socks');
    client.stop();
    await (link.client.dispose() as Promise<void>);
  });

  it('HttpLink multipart: events with joins, and a refusal as one GraphQL error', async () => {
    const id = newOrder();
    const client = (authorization: string) =>
      new ApolloClient({ link: new HttpLink({ uri: router.url, headers: { authorization } }), cache: new InMemoryCache() });
    const alice = client('Bearer alice');
    const results: any[] = [];
    await new Promise<void>((resolve, reject) =>
      alice.subscribe({ query: order, variables: { id } }).subscribe({
        next: (result) => {
          results.push(result);
          if (results.length === 1) data.setStatus(id, 'PAID');
        },
        error: reject,
        complete: resolve,
      }),
    );
    // Apollo Client adds __typename to what it asks for.
    const withoutTypenames = (value: unknown) =>
      JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === '__typename' ? undefined : v)));
    expect(results.map((r) => withoutTypenames(r.data))).toEqual([
      expectedOrder(id, 'PENDING'),
      expectedOrder(id, 'PAID', '2026-11-30T12:00:00.000Z'),
    ]);

    const bob = client('Bearer bob');
    const refused: any[] = [];
    await new Promise<void>((resolve, reject) =>
      bob
        .subscribe({ query: order, variables: { id: newOrder() } })
        .subscribe({ next: (r) => refused.push(r), error: reject, complete: resolve }),
    );
    expect(refused).toHaveLength(1);
    expect(refused[0].error.errors.map((e: GraphQLError) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    alice.stop();
    bob.stop();
  });

  it('HttpLink multipart: every refusal, before the stream (400/429 graphql-response+json) or from the subgraph (one part), surfaces as one error with its code', async () => {
    // Apollo Client 4's HttpLink reads a non-multipart answer as one GraphQL result whatever its status, when it is
    // application/graphql-response+json (parseAndCheckHttpResponse); a multipart one part by part.
    const refusal = async (query: string, variables: Record<string, unknown>, authorization?: string) => {
      const client = new ApolloClient({
        link: new HttpLink({ uri: router.url, ...(authorization && { headers: { authorization } }) }),
        cache: new InMemoryCache(),
      });
      const results: any[] = [];
      await new Promise<void>((resolve, reject) =>
        client
          .subscribe({ query: gql(query), variables })
          .subscribe({ next: (result) => void results.push(result), error: reject, complete: resolve }),
      );
      client.stop();
      expect(results, query).toHaveLength(1);
      expect(results[0].data, query).toBeUndefined();
      expect(results[0].error?.name, query).toBe('CombinedGraphQLErrors');
      return results[0].error.errors.map((e: GraphQLError) => e.extensions?.code);
    };
    // From the subgraph, after the multipart response started.
    expect(await refusal(ORDER_UPDATES, { id: newOrder() })).toEqual(['UNAUTHENTICATED']);
    expect(await refusal(ORDER_UPDATES, { id: newOrder() }, 'Bearer bob')).toEqual(['FORBIDDEN']);
    expect(await refusal(ORDER_UPDATES, { id: 'no-such-order' }, 'Bearer alice')).toEqual(['NOT_FOUND']);
    expect(await refusal(STOCK_UPDATES, { ids: Array.from({ length: 101 }, (_, i) => `p${i}`) })).toEqual(['BAD_USER_INPUT']);
    // From the router, before the stream starts (400).
    expect(await refusal(STOCK_UPDATES, { ids: [{ id: 'p1' }] })).toEqual(['BAD_USER_INPUT']);
    expect(
      await refusal(
        'subscription { orderUpdated(id: "o1") { a: items { product { id } } b: items { product { id } } } }',
        {},
        'Bearer alice',
      ),
    ).toEqual(['COST_ESTIMATED_TOO_EXPENSIVE']);
    // The quota (429): SUBSCRIPTIONS_PER_CLIENT=6, every test client is 127.0.0.1.
    await until(() => router.service.subscriptions.quota.open === 0, 5_000, 'earlier subscriptions to end');
    const open = [1, 2, 3, 4, 5, 6].map(() => multipart(router.url, STOCK_UPDATES, { ids: ['p3'] }));
    try {
      await until(() => router.service.subscriptions.quota.open === 6, 5_000, 'six open subscriptions');
      expect(await refusal(STOCK_UPDATES, { ids: ['p3'] })).toEqual(['RATE_LIMITED']);
    } finally {
      for (const watch of open) watch.abort();
      await Promise.all(open.map((watch) => watch.done.catch(() => undefined)));
    }
    await until(() => router.service.subscriptions.quota.open === 0, 5_000, 'the quota to empty');
  });
});

describe('multipart HTTP subscriptions', () => {
  it('sends events as payload parts, heartbeats between them, and the closing boundary', async () => {
    const id = newOrder();
    const watch = multipart(router.url, ORDER_UPDATES, { id }, 'Bearer alice');
    await until(() => payloads(watch.parts).length === 1, 5_000, 'the first event');
    await new Promise((resolve) => setTimeout(resolve, 700));
    data.setStatus(id, 'PAID');
    const { parts, ended, contentType } = await watch.done;
    expect(contentType).toBe('multipart/mixed;boundary="graphql";subscriptionSpec="1.0"');
    expect(ended).toBe(true);
    expect(payloads(parts)).toEqual([
      { data: expectedOrder(id, 'PENDING') },
      { data: expectedOrder(id, 'PAID', '2026-11-30T12:00:00.000Z') },
    ]);
    // Heartbeats every 300 ms here.
    expect(parts.filter((part) => Object.keys(part).length === 0).length).toBeGreaterThanOrEqual(2);
  });

  it('refuses as the contract says: one error then the end; limits as graphql-response+json', async () => {
    const refused = await multipart(router.url, ORDER_UPDATES, { id: newOrder() }).done;
    expect(refused.ended).toBe(true);
    expect(payloads(refused.parts).map(codes)).toEqual([['UNAUTHENTICATED']]);

    const tooCostly = await multipart(
      router.url,
      'subscription { orderUpdated(id: "o1") { a: items { product { id } } b: items { product { id } } } }',
      {},
      'Bearer alice',
    ).done;
    expect(tooCostly.status).toBe(400);
    expect(tooCostly.contentType).toMatch(/^application\/graphql-response\+json/);
    expect(codes(tooCostly.body as never)).toEqual(['COST_ESTIMATED_TOO_EXPENSIVE']);
  });

  it('ends the subgraph subscription when the client goes away', async () => {
    await until(() => log.productSubscriptions === 0, 5_000, 'earlier product subscriptions to end');
    const watch = multipart(router.url, STOCK_UPDATES, { ids: ['p2'] });
    await until(() => log.productSubscriptions === 1, 5_000, 'the subgraph subscription');
    watch.abort();
    await watch.done;
    await until(() => log.productSubscriptions === 0, 5_000, 'the subgraph subscription to end');
  });
});

describe('subgraph restarts', () => {
  it('re-subscribes when the subgraph comes back: the order as it is now arrives again', async () => {
    const id = newOrder();
    const client = wsClient(router.wsUrl, 'Bearer alice');
    const watch = collect(client, ORDER_UPDATES, { id });
    await until(() => watch.results.length === 1);
    const port = subgraphs.orders.port;
    await subgraphs.orders.close();
    data.setStatus(id, 'PAID'); // while orders is down: nobody is told
    await new Promise((resolve) => setTimeout(resolve, 300));
    subgraphs.orders = await startSubgraph('orders', data, log, port);
    const { results, error } = await watch.done;
    expect(error).toBeUndefined();
    expect(results).toEqual([{ data: expectedOrder(id, 'PENDING') }, { data: expectedOrder(id, 'PAID', '2026-11-30T12:00:00.000Z') }]);
    await client.dispose();
  });

  it('ends the stream with one SERVICE_UNAVAILABLE error when the subgraph stays away past the budget', async () => {
    const id = newOrder();
    const client = wsClient(router.wsUrl, 'Bearer alice');
    const watch = collect(client, ORDER_UPDATES, { id });
    await until(() => watch.results.length === 1);
    const port = subgraphs.orders.port;
    await subgraphs.orders.close();
    try {
      const { results, error } = await watch.done; // SUBSCRIPTION_RESUBSCRIBE_BUDGET_MS=4000 here
      expect(error).toBeUndefined();
      expect(results).toHaveLength(2);
      expect(results[1]).toEqual({
        errors: [{ message: 'The orders service is unavailable', extensions: { code: 'SERVICE_UNAVAILABLE', service: 'orders' } }],
      });
    } finally {
      subgraphs.orders = await startSubgraph('orders', data, log, port);
      await client.dispose();
    }
  }, 20_000);
});

describe('shutdown', () => {
  it('completes open streams, over both transports, before the router closes (what SIGTERM runs)', async () => {
    const second = await startRouter();
    const client = wsClient(second.wsUrl, 'Bearer alice');
    const watch = collect(client, ORDER_UPDATES, { id: newOrder() });
    const stream = multipart(second.url, STOCK_UPDATES, { ids: ['p1'] });
    await until(() => watch.results.length === 1 && stream.parts.length >= 1, 5_000, 'both streams open');
    await second.close();
    const { results, error } = await watch.done;
    expect(error).toBeUndefined();
    expect(results).toHaveLength(1);
    expect((await stream.done).ended).toBe(true);
    await client.dispose();
  });
});

describe('trusted documents', () => {
  it('with PERSISTED_QUERIES=safelist, a subscription not in the manifest is refused over both transports', async () => {
    const safelisted = await startRouter({ PERSISTED_QUERIES: 'safelist' });
    try {
      const client = wsClient(safelisted.wsUrl);
      const { error } = await collect(client, STOCK_UPDATES, { ids: ['p1'] }).done;
      expect((error as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
      await client.dispose();
      const overHttp = await multipart(safelisted.url, STOCK_UPDATES, { ids: ['p1'] }).done;
      expect(overHttp.status).toBe(400);
      expect(codes(overHttp.body as never)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    } finally {
      await safelisted.close();
      delete process.env.PERSISTED_QUERIES;
    }
  });
});

describe('trusted documents by id', () => {
  it('with PERSISTED_QUERIES=safelist, a subscribe carrying a manifest id and an empty query runs the manifest text', async () => {
    const { operations } = JSON.parse(readFileSync(new URL('../../../schema/persisted-query-manifest.json', import.meta.url), 'utf8')) as {
      operations: { id: string; name: string }[];
    };
    const sha256Hash = operations.find((operation) => operation.name === 'OrderUpdates')!.id;
    const safelisted = await startRouter({ PERSISTED_QUERIES: 'safelist' });
    const client = wsClient(safelisted.wsUrl, 'Bearer alice');
    const subscribe = (hash: string) => {
      const results: any[] = [];
      let stop = () => {};
      const done = new Promise<{ error?: unknown }>((resolve) => {
        stop = client.subscribe(
          {
            query: '',
            operationName: 'OrderUpdates',
            variables: { id: orderId },
            extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
          },
          { next: (result) => void results.push(result), error: (error) => resolve({ error }), complete: () => resolve({}) },
        );
      });
      return { results, done, stop };
    };
    const orderId = newOrder();
    try {
      const byId = subscribe(sha256Hash);
      await until(() => byId.results.length === 1, 5_000, 'the order as it is now');
      expect(byId.results[0]).toMatchObject({ data: { orderUpdated: { id: orderId, __typename: 'Order' } } });
      byId.stop();
      const { error } = await subscribe('0'.repeat(64)).done;
      expect((error as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    } finally {
      await client.dispose();
      await safelisted.close();
      delete process.env.PERSISTED_QUERIES;
    }
  });
});

describe('differential', () => {
  it('each event equals what a stock @apollo/gateway answers for the same selection as a query, errors and nulls included', async () => {
    const logger = createLogger('stock');
    const stock = new ApolloServer({
      gateway: new ApolloGateway({ supergraphSdl: supergraph.sdl }),
      formatError: maskUnexpectedErrors(logger),
      includeStacktraceInErrorResponses: false,
    });
    await stock.start();
    try {
      // Orders whose joins go wrong in every way a query's can: a missing product (a non-null nulled), a buyer whose
      // subgraph fails (masked), a buyer refused with a client code (passed), and a well one.
      data.addOrder({ id: 'd-ok', buyer: 'alice', items: [{ quantity: 1, product: 'p1' }] });
      data.addOrder({
        id: 'd-missing',
        buyer: 'alice',
        items: [
          { quantity: 1, product: 'p1' },
          { quantity: 1, product: 'gone' },
        ],
      });
      data.users.set('carol', { id: 'carol', name: 'Carol' });
      data.failingUsers.set('carol', new Error('users database is down'));
      data.addOrder({ id: 'd-failing', buyer: 'carol', items: [{ quantity: 3, product: 'p3' }] });
      data.users.set('dave', { id: 'dave', name: 'Dave' });
      data.failingUsers.set('dave', new GraphQLError('Dave is private', { extensions: { code: 'FORBIDDEN' } }));
      data.addOrder({ id: 'd-private', buyer: 'dave', items: [{ quantity: 1, product: 'p2' }] });
      const selection = ORDER_UPDATES.slice(ORDER_UPDATES.indexOf('{'));
      const query = `query OrderUpdates($id: ID!) ${selection}`;
      const compared: string[] = [];
      for (const id of ['d-ok', 'd-missing', 'd-failing', 'd-private']) {
        const client = wsClient(router.wsUrl, 'Bearer admin');
        const watch = collect(client, ORDER_UPDATES, { id });
        await until(() => watch.results.length === 1, 5_000, `the first event of ${id}`);
        for (const status of [undefined, 'PAID']) {
          if (status) {
            data.setStatus(id, status);
            await until(() => watch.results.length === 2, 5_000, `the PAID event of ${id}`);
          }
          uninstallCompiledResultShaping();
          try {
            const response = await stock.executeOperation({ query, variables: { id } });
            const expected = response.body.kind === 'single' ? response.body.singleResult : undefined;
            expect(watch.results.at(-1), `${id} ${status ?? 'as it is now'}`).toEqual(JSON.parse(JSON.stringify(expected)));
            const extensions = (expected as { extensions?: Record<string, unknown> } | undefined)?.extensions;
            compared.push(`${id}:${codes(expected as never)?.join(',') ?? (extensions?.valueCompletion ? 'valueCompletion' : 'ok')}`);
          } finally {
            installCompiledResultShaping();
          }
        }
        await watch.done;
        await client.dispose();
      }
      // The cases met what they were written for.
      expect(compared).toEqual(
        expect.arrayContaining(['d-ok:ok', 'd-missing:valueCompletion', 'd-failing:INTERNAL_SERVER_ERROR', 'd-private:FORBIDDEN']),
      );
    } finally {
      await stock.stop();
    }
  });
});
