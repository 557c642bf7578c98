import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '@shop/service';
import { EntityCache, type EntityStore } from '../../src/entity-cache.js';
import { followProductChanges } from '../../src/entity-cache-events.js';
import { createGateway, type RouterContext } from '../../src/gateway.js';
import { graphql } from '../shaping/graphql.js';

// The entity cache's tests run the real gateway against real HTTP subgraphs served here: orders (lines that
// reference products) and products (a catalogue; it counts the entities and root queries it is asked for).

const federation = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';
const SDL = {
  orders: `${federation}
    type Query { lines(ids: [ID!]!): [Line!]! }
    type Mutation { reserve(id: ID!, quantity: Int!): Int! }
    type Line { quantity: Int! product: Product! }
    type Product @key(fields: "id") { id: ID! }`,
  products: `${federation}
    type Query { product(id: ID!): Product products(first: Int, after: String, filter: ProductFilter): ProductConnection! }
    type Mutation { rename(id: ID!, name: String!): Product }
    input ProductFilter { minPrice: Int maxPrice: Int }
    type ProductConnection { edges: [ProductEdge!]! pageInfo: PageInfo! totalCount: Int! }
    type ProductEdge { cursor: String! node: Product! }
    type PageInfo { hasNextPage: Boolean! endCursor: String }
    type Money { amount: Int! currency: String! }
    type Product @key(fields: "id") { id: ID! sku: String! name: String! price: Money! stock: Int! secret: String }`,
};

interface PriceFilter {
  minPrice?: number | null;
  maxPrice?: number | null;
}

interface Product {
  id: string;
  sku: string;
  name: string;
  price: { amount: number; currency: string };
  stock: number;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the products subgraph holds and how it answers; tests change it, `reset` puts it back. */
export const shop = {
  products: new Map<string, Product>(),
  /** The ids of each entity fetch products was asked for. */
  asked: [] as string[][],
  /** The variables of each query of root fields products was asked. */
  rootAsked: [] as Record<string, unknown>[],
  /** Products whose entity fetch, or root field `product`, fails. */
  failing: new Set<string>(),
  /** Milliseconds each entity or catalogue page takes to answer, after it was read. */
  delay: 0,
  reset() {
    this.products.clear();
    for (const n of [1, 2, 3])
      this.products.set(`p${n}`, {
        id: `p${n}`,
        sku: `S${n}`,
        name: `Product ${n}`,
        price: { amount: 100 * n, currency: 'USD' },
        stock: n,
      });
    this.asked.length = 0;
    this.rootAsked.length = 0;
    this.failing = new Set();
    this.delay = 0;
  },
};

const resolvers = {
  orders: {
    Query: { lines: (_: unknown, { ids }: { ids: string[] }) => ids.map((id) => ({ quantity: 1, product: { id } })) },
    // Takes stock as orders does through products (which publishes its event some time later): the stock left.
    Mutation: { reserve: (_: unknown, { id, quantity }: { id: string; quantity: number }) => (shop.products.get(id)!.stock -= quantity) },
  },
  products: {
    Product: {
      __resolveReference: async ({ id }: { id: string }) => {
        // Read as the request arrives, as a database read would be, and answered after the delay.
        const product = shop.products.get(id);
        const read = product ? structuredClone(product) : null;
        if (shop.delay) await sleep(shop.delay);
        if (shop.failing.has(id)) throw new Error(`product ${id} fails`);
        return read;
      },
      secret: (_: unknown, __: unknown, context: { authorization?: string }) => context.authorization ?? null,
    },
    Query: {
      product: (_: unknown, { id }: { id: string }) => {
        if (shop.failing.has(id)) throw new Error(`product ${id} fails`);
        return structuredClone(shop.products.get(id)) ?? null;
      },
      /** Pages in id order; the cursor is a product's id. */
      products: async (_: unknown, { first = 10, after, filter = {} }: { first?: number; after?: string; filter?: PriceFilter }) => {
        const { minPrice, maxPrice } = filter;
        if (minPrice != null && maxPrice != null && minPrice > maxPrice)
          throw new graphql.GraphQLError('minPrice must not exceed maxPrice', { extensions: { code: 'BAD_USER_INPUT' } });
        const all = [...shop.products.values()]
          .filter(({ price }) => price.amount >= (minPrice ?? 0) && price.amount <= (maxPrice ?? Infinity))
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .map((product) => structuredClone(product));
        if (shop.delay) await sleep(shop.delay);
        const start = after ? all.findIndex(({ id }) => id === after) + 1 : 0;
        const page = all.slice(start, start + first);
        return {
          edges: page.map((node) => ({ cursor: node.id, node })),
          pageInfo: { hasNextPage: start + first < all.length, endCursor: page.at(-1)?.id ?? null },
          totalCount: all.length,
        };
      },
    },
    Mutation: {
      rename: (_: unknown, { id, name }: { id: string; name: string }) => {
        shop.products.get(id)!.name = name;
        return shop.products.get(id);
      },
    },
  },
};

/**
 * A bearer token shaped as the shop's (a JWT with an expiry far ahead; the router reads only its expiry), so
 * that the router learns it is accepted; these subgraphs accept any but FORGED.
 */
export const bearer = (name: string) =>
  `Bearer ${['{"alg":"HS256"}', JSON.stringify({ sub: name, exp: 4_102_444_800 }), 'signature'].map((part) => Buffer.from(part).toString('base64url')).join('.')}`;
/** A token these subgraphs refuse, as the shop's refuse a forged one: the whole request UNAUTHENTICATED. */
export const FORGED = bearer('mallory');

async function subgraphServer(name: keyof typeof SDL) {
  const schema = buildSubgraphSchema({ typeDefs: graphql.parse(SDL[name]), resolvers: resolvers[name] as never });
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables?: Record<string, any> };
        if (request.headers.authorization === FORGED) {
          const refused = { errors: [{ message: 'Invalid token', extensions: { code: 'UNAUTHENTICATED' } }] };
          return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(refused));
        }
        if (name === 'products' && body.variables?.representations)
          shop.asked.push(body.variables.representations.map((r: { id: string }) => r.id));
        else if (name === 'products' && !body.query.startsWith('mutation')) shop.rootAsked.push(body.variables ?? {});
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

/** Serves orders and products, and composes them: the supergraph a router is made of. */
export async function startSubgraphs(): Promise<{ supergraphSdl: string; close(): void }> {
  const servers = await Promise.all([subgraphServer('orders'), subgraphServer('products')]);
  const composed = composeServices(
    (['orders', 'products'] as const).map((name, i) => ({ name, typeDefs: graphql.parse(SDL[name]), url: servers[i]!.url })),
  );
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  return {
    supergraphSdl: composed.supergraphSdl,
    close() {
      for (const { server } of servers) {
        server.close();
        server.closeAllConnections();
      }
    },
  };
}

/** A router (the real gateway) over the supergraph, caching product entities in `cache`. */
export async function startRouter(supergraphSdl: string, cache: EntityCache): Promise<ApolloServer<RouterContext>> {
  const router = new ApolloServer<RouterContext>({ gateway: createGateway(supergraphSdl, undefined, { entityCache: cache }) });
  await router.start();
  return router;
}

export interface Replica<Store extends EntityStore> {
  cache: EntityCache<Store>;
  router: ApolloServer<RouterContext>;
  follower?: { close(): Promise<void> };
  close(): Promise<void>;
}

/**
 * A router replica over the supergraph with its own entity cache in `store`: following the products events on
 * the NATS at `natsUrl`, or without one switched on as if it did (no other run's products events reach it).
 */
export async function startReplica<Store extends EntityStore>(
  supergraphSdl: string,
  store: Store,
  natsUrl?: string,
): Promise<Replica<Store>> {
  const cache = new EntityCache(store);
  const follower = natsUrl ? await followProductChanges(natsUrl, cache, createLogger('router')) : undefined;
  if (follower) await until(() => cache.active);
  else cache.active = true;
  if (!cache.active) throw new Error('not following the products events');
  const router = await startRouter(supergraphSdl, cache);
  return {
    cache,
    router,
    follower,
    async close() {
      await router.stop();
      await follower?.close();
      await cache.close();
    },
  };
}

let requestIds = 0;

/** Order lines of the given products through a router, with these product fields. */
export function lines(
  router: ApolloServer<RouterContext>,
  ids: string[],
  fields = 'id sku name price { amount currency } stock',
  authorization?: string,
) {
  return query<{ lines: { product: any }[] }>(
    router,
    `query Lines($ids: [ID!]!) { lines(ids: $ids) { quantity product { ${fields} } } }`,
    { ids },
    authorization,
  );
}

/** The entity fetch of product names, as the gateway would send it. */
export const NAMES_QUERY =
  'query X($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { name } } }';

/** Publishes a product event as products does (docs/events.md): a CloudEvent on the subject of its type. */
export function publishProductEvent(
  nats: NatsConnection,
  type: 'shop.product.created' | 'shop.product.updated' | 'shop.product.stock_changed',
  id: string,
  data: Record<string, unknown> = {},
): void {
  nats.publish(
    type,
    JSON.stringify({ specversion: '1.0', type, source: '/subgraphs/products', subject: id, data: { productId: id, ...data } }),
  );
}

/** A query through a router, as a client would send it; the response as JSON would carry it. */
export async function query<Data = Record<string, any>>(
  router: ApolloServer<RouterContext>,
  text: string,
  variables: Record<string, unknown> = {},
  authorization?: string,
): Promise<{ data?: Data; errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[] }> {
  const response = await router.executeOperation(
    { query: text, variables },
    { contextValue: { requestId: `r${++requestIds}`, authorization } },
  );
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return JSON.parse(JSON.stringify(response.body.singleResult));
}

/** A catalogue page, as the storefront asks for it. */
export const CATALOGUE = `query Catalogue($first: Int, $after: String, $filter: ProductFilter) {
  products(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id sku name price { amount currency } stock } }
  }
}`;

/** Waits until `condition` holds, for at most `ms`. */
export async function until(condition: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition()) && Date.now() < deadline) await sleep(5);
}
