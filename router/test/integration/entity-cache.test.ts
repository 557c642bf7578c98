import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { connect } from '@nats-io/transport-node';
import { createLogger } from '@shop/service';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheableSelection, EntityCache } from '../../src/entity-cache.js';
import { followProductChanges } from '../../src/entity-cache-events.js';
import { createGateway, type RouterContext } from '../../src/gateway.js';
import { graphql } from '../shaping/graphql.js';

// The router's entity cache of product fields, through the real gateway against real HTTP subgraphs served
// here: orders (lines that reference products) and products (which counts the entities it is asked for).

const federation = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';
const SDL = {
  orders: `${federation}
    type Query { lines(ids: [ID!]!): [Line!]! }
    type Line { quantity: Int! product: Product! }
    type Product @key(fields: "id") { id: ID! }`,
  products: `${federation}
    type Query { product(id: ID!): Product }
    type Mutation { rename(id: ID!, name: String!): Product }
    type Money { amount: Int! currency: String! }
    type Product @key(fields: "id") { id: ID! sku: String! name: String! price: Money! stock: Int! secret: String }`,
};

const products = new Map<string, { id: string; sku: string; name: string; price: { amount: number; currency: string }; stock: number }>();
const asked: string[][] = [];
let failing = new Set<string>();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let delay = 0;

const resolvers = {
  orders: { Query: { lines: (_: unknown, { ids }: { ids: string[] }) => ids.map((id) => ({ quantity: 1, product: { id } })) } },
  products: {
    Product: {
      __resolveReference: async ({ id }: { id: string }) => {
        // Read as the request arrives, as a database read would be, and answered after the delay.
        const product = products.get(id);
        const read = product ? structuredClone(product) : null;
        if (delay) await sleep(delay);
        if (failing.has(id)) throw new Error(`product ${id} fails`);
        return read;
      },
      secret: (_: unknown, __: unknown, context: { authorization?: string }) => context.authorization ?? null,
    },
    Mutation: {
      rename: (_: unknown, { id, name }: { id: string; name: string }) => {
        products.get(id)!.name = name;
        return products.get(id);
      },
    },
  },
};

async function subgraphServer(name: keyof typeof SDL) {
  const schema = buildSubgraphSchema({ typeDefs: graphql.parse(SDL[name]), resolvers: resolvers[name] as never });
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables?: Record<string, any> };
        if (name === 'products' && body.variables?.representations)
          asked.push(body.variables.representations.map((r: { id: string }) => r.id));
        const result = await graphql.execute({
          schema,
          document: graphql.parse(body.query),
          variableValues: body.variables,
          contextValue: { authorization: request.headers.authorization },
        });
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      })();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` };
}

let servers: Awaited<ReturnType<typeof subgraphServer>>[] = [];
let supergraphSdl: string;
let cache: EntityCache;
let router: ApolloServer<RouterContext>;
let requestIds = 0;

async function lines(ids: string[], fields = 'id sku name price { amount currency } stock', authorization?: string) {
  const response = await router.executeOperation(
    { query: `query Lines($ids: [ID!]!) { lines(ids: $ids) { quantity product { ${fields} } } }`, variables: { ids } },
    { contextValue: { requestId: `r${++requestIds}`, authorization } },
  );
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return JSON.parse(JSON.stringify(response.body.singleResult)) as {
    data?: { lines: { product: any }[] };
    errors?: { message: string; path?: unknown[] }[];
  };
}

beforeAll(async () => {
  servers = await Promise.all([subgraphServer('orders'), subgraphServer('products')]);
  const composed = composeServices(
    (['orders', 'products'] as const).map((name, i) => ({ name, typeDefs: graphql.parse(SDL[name]), url: servers[i]!.url })),
  );
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  supergraphSdl = composed.supergraphSdl;
});

afterAll(() => {
  for (const { server } of servers) {
    server.close();
    server.closeAllConnections();
  }
});

beforeEach(async () => {
  await router?.stop();
  for (const n of [1, 2, 3])
    products.set(`p${n}`, { id: `p${n}`, sku: `S${n}`, name: `Product ${n}`, price: { amount: 100 * n, currency: 'USD' }, stock: n });
  asked.length = 0;
  failing = new Set();
  delay = 0;
  cache = new EntityCache({ maxProducts: 100, ttlMs: 60_000 });
  cache.active = true;
  router = new ApolloServer<RouterContext>({ gateway: createGateway(supergraphSdl, undefined, { entityCache: cache }) });
  await router.start();
});

describe('entity cache of product fields', () => {
  it('answers product entities it has from the cache and asks products only for the others', async () => {
    const first = await lines(['p1', 'p2']);
    expect(asked).toEqual([['p1', 'p2']]);
    const second = await lines(['p2', 'p1', 'p3', 'p1']);
    expect(asked).toEqual([['p1', 'p2'], ['p3']]);
    expect(second.errors).toBeUndefined();
    expect(second.data!.lines.map((l) => l.product.name)).toEqual(['Product 2', 'Product 1', 'Product 3', 'Product 1']);
    expect(second.data!.lines[1]!.product).toEqual(first.data!.lines[0]!.product);
    await lines(['p3', 'p2']);
    expect(asked).toHaveLength(2);
    expect(cache.stats).toMatchObject({ hits: 2 + 2, misses: 3 });
  });

  it('drops a product when its event arrives, also while a fetch of it is in flight', async () => {
    await lines(['p1', 'p2']);
    products.get('p1')!.name = 'Renamed';
    cache.invalidate('p1');
    const after = await lines(['p1', 'p2']);
    expect(after.data!.lines[0]!.product.name).toBe('Renamed');
    expect(asked).toEqual([['p1', 'p2'], ['p1']]);

    // A fetch that read before the change must not be stored after the event.
    delay = 100;
    cache.invalidate('p3');
    const reading = lines(['p3']);
    await sleep(30);
    products.get('p3')!.stock = 0;
    cache.invalidate('p3');
    expect((await reading).data!.lines[0]!.product.stock).toBe(3);
    expect((await lines(['p3'])).data!.lines[0]!.product.stock).toBe(0);
  });

  it('reads its own writes: a products mutation through this router empties the cache', async () => {
    await lines(['p1', 'p2']);
    const renamed = await router.executeOperation(
      { query: 'mutation { rename(id: "p1", name: "Mine") { id } }' },
      { contextValue: { requestId: 'm' } },
    );
    expect(renamed.body.kind === 'single' && renamed.body.singleResult.errors).toBeFalsy();
    expect((await lines(['p1'])).data!.lines[0]!.product.name).toBe('Mine');
    expect(asked).toEqual([['p1', 'p2'], ['p1']]);
  });

  it('never caches a selection with a field outside the product fields, an entity with an error, or a missing one', async () => {
    await lines(['p1'], 'id name secret', 'Bearer alice');
    const bob = await lines(['p1'], 'id name secret', 'Bearer bob');
    expect(bob.data!.lines[0]!.product.secret).toBe('Bearer bob');
    expect(asked).toEqual([['p1'], ['p1']]);

    asked.length = 0;
    failing = new Set(['p2']);
    const failed = await lines(['p1', 'p2']);
    expect(failed.errors?.[0]?.message).toMatch(/p2 fails/);
    failing = new Set();
    const fine = await lines(['p1', 'p2']);
    expect(fine.errors).toBeUndefined();
    expect(asked).toEqual([['p1', 'p2'], ['p2']]);

    expect(
      cacheableSelection(
        'query X($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { id name } } }',
      ),
    ).not.toBeNull();
    expect(
      cacheableSelection(
        'query X($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { n: name } } }',
      ),
    ).toBeNull();
    expect(
      cacheableSelection(
        'query X($representations: [_Any!]!, $s: Boolean!) { _entities(representations: $representations) { ... on Product { name @include(if: $s) } } }',
      ),
    ).toBeNull();
    expect(
      cacheableSelection('query X($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id } } }'),
    ).toBeNull();
  });

  it('is not used while it has no event source, and keeps at most its limit of products', async () => {
    cache.active = false;
    await lines(['p1']);
    await lines(['p1']);
    expect(asked).toEqual([['p1'], ['p1']]);
    expect(cache.size).toBe(0);

    const small = new EntityCache({ maxProducts: 2, ttlMs: 60_000 });
    small.active = true;
    const fetch = async (representations: unknown[]) => ({
      data: { _entities: representations.map((r) => ({ ...(r as object), name: 'x' })) },
    });
    const query = 'query X($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { name } } }';
    for (const id of ['a', 'b', 'c']) await small.entities(query, [{ __typename: 'Product', id }], fetch);
    expect(small.size).toBe(2);
  });
});

describe('entity cache invalidation from NATS', () => {
  const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

  it('drops a product within a second of its shop.product.updated event', async (context) => {
    const publisher = await connect({ servers: NATS_URL, timeout: 2_000, reconnect: false }).catch(() => undefined);
    if (!publisher) return context.skip(`no NATS at ${NATS_URL}`);
    const events = new EntityCache({ maxProducts: 100, ttlMs: 60_000 });
    const follower = await followProductChanges(NATS_URL, events, createLogger('router'));
    try {
      const deadline = Date.now() + 5_000;
      while (!events.active && Date.now() < deadline) await sleep(20);
      expect(events.active).toBe(true);
      const id = `test-${Date.now()}`;
      const query = 'query X($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { name } } }';
      const fetch = async (representations: unknown[]) => ({ data: { _entities: representations.map(() => ({ name: 'n' })) } });
      await events.entities(query, [{ __typename: 'Product', id }], fetch);
      expect(events.size).toBe(1);
      const sent = Date.now();
      // Another test's stack may share this NATS: the id is this test's own.
      publisher.publish(
        'shop.product.updated',
        JSON.stringify({ type: 'shop.product.updated', subject: id, data: { productId: id, name: 'm' } }),
      );
      while (events.size > 0 && Date.now() - sent < 1_000) await sleep(5);
      expect(events.size).toBe(0);
    } finally {
      await follower.close();
      await publisher.close();
    }
  });
});
