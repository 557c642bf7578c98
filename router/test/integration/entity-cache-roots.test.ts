import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { createLogger } from '@shop/service';
import { describe, expect, it } from 'vitest';
import { EntityCache, type EntityStore } from '../../src/entity-cache.js';
import { cacheableFetch } from '../../src/entity-cache-fields.js';
import { MemoryEntityStore } from '../../src/entity-cache-memory.js';
import { RedisEntityStore } from '../../src/entity-cache-redis.js';
import { NATS_URL, REDIS_URL, useServices } from '../entity-cache/services.js';
import { bearer, CATALOGUE, FORGED, lines, publishProductEvent, query, shop, until, type Replica } from '../entity-cache/subgraphs.js';

// Products' public root queries (the catalogue, a product by id) in the router's entity cache, in each store:
// this process's memory, and Redis shared by replicas. The real gateway against real HTTP subgraphs
// (entity-cache/subgraphs.ts), the products events from a real NATS (TEST_NATS_URL, else the machine's own).
// Every products event drops every root entry, so only the tests of events follow NATS: the others switch
// their cache on themselves, out of reach of another run's products events.

const services = useServices('entity-cache-roots');

const stores = {
  memory: async () => new MemoryEntityStore({ maxProducts: 100, maxRootQueries: 100, ttlMs: 60_000 }),
  redis: async () => {
    const store = new RedisEntityStore(REDIS_URL, { ttlMs: 60_000, logger: createLogger('router'), keyPrefix: services.prefix });
    await store.open();
    return store;
  },
};

/** A router replica with its own cache (in Redis, all share one); following the products events with `events`. */
const replicaIn = async (kind: keyof typeof stores, { events = false } = {}) =>
  services.replica<EntityStore>(await stores[kind](), events ? NATS_URL : undefined);

type Page = { totalCount: number; edges: { node: { id: string; name: string; stock: number } }[] };
const page = async ({ router }: Replica<EntityStore>, variables: Record<string, unknown> = { first: 10 }, authorization?: string) =>
  (await query<{ products: Page }>(router, CATALOGUE, variables, authorization)).data!.products;

/** Callers whose tokens a subgraph has accepted (through an orders root query, which asks products no root query). */
const introduce = ({ router }: Replica<EntityStore>, ...names: string[]) =>
  Promise.all(names.map((name) => lines(router, ['p1'], 'id', bearer(name))));

describe.each(['memory', 'redis'] as const)('root queries cached in %s', (kind) => {
  const replica = (options?: { events: boolean }) => replicaIn(kind, options);

  it('answers a second identical query from the cache, exactly as products did; other variables are other entries', async () => {
    const a = await replica();
    const first = await query(a.router, CATALOGUE, { first: 2 });
    expect(first.errors).toBeUndefined();
    const second = await query(a.router, CATALOGUE, { first: 2 });
    expect(second).toEqual(first);
    expect(shop.rootAsked).toEqual([{ first: 2 }]);

    await page(a, { first: 2, after: 'p1' });
    await page(a, { first: 2, filter: { minPrice: 100, maxPrice: 200 } });
    // The same variables in another order are the same entry.
    await page(a, { filter: { maxPrice: 200, minPrice: 100 }, first: 2 });
    const byId = 'query Product($id: ID!) { product(id: $id) { id name price { amount } } }';
    await query(a.router, byId, { id: 'p2' });
    expect((await query(a.router, byId, { id: 'p2' })).data!.product.name).toBe('Product 2');
    expect(shop.rootAsked).toEqual([
      { first: 2 },
      { first: 2, after: 'p1' },
      { first: 2, filter: { minPrice: 100, maxPrice: 200 } },
      { id: 'p2' },
    ]);
    expect(a.cache.stats).toMatchObject({ rootHits: 3, rootMisses: 4 });

    // A stock gateway, asking products itself, answers the same.
    const stock = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: services.subgraphs.supergraphSdl }) });
    await stock.start();
    try {
      expect(await query(stock as never, CATALOGUE, { first: 2 })).toEqual(second);
    } finally {
      await stock.stop();
    }
  });

  it('asks products again after each products event, and shows the change through every replica within a second', async () => {
    const both = [await replica({ events: true }), await replica({ events: true })];
    const changes = [
      {
        type: 'shop.product.created' as const,
        id: 'p4',
        change: () =>
          shop.products.set('p4', { id: 'p4', sku: 'S4', name: 'Product 4', price: { amount: 400, currency: 'USD' }, stock: 4 }),
        seen: (p: Page) => p.totalCount === 4,
      },
      {
        type: 'shop.product.updated' as const,
        id: 'p1',
        change: () => (shop.products.get('p1')!.name = 'Renamed'),
        seen: (p: Page) => p.edges[0]!.node.name === 'Renamed',
      },
      {
        type: 'shop.product.stock_changed' as const,
        id: 'p2',
        change: () => (shop.products.get('p2')!.stock = 0),
        seen: (p: Page) => p.edges[1]!.node.stock === 0,
      },
    ];
    for (const { type, id, change, seen } of changes) {
      for (const each of both) await page(each);
      change();
      // Still the cached page until the event.
      for (const each of both) expect(seen(await page(each)), type).toBe(false);
      const asked = shop.rootAsked.length;
      const sent = Date.now();
      publishProductEvent(services.publisher, type, id);
      for (const each of both) await until(async () => seen(await page(each)), 1_000);
      expect(Date.now() - sent, type).toBeLessThan(1_000);
      for (const each of both) expect(seen(await page(each)), type).toBe(true);
      expect(shop.rootAsked.length, type).toBeGreaterThan(asked);
    }
  });

  it('keeps nothing of a fetch in flight when a product changes or everything is dropped', async () => {
    const a = await replica();
    // With Redis, the other replica hears of the change: its word reaches the fetch through Redis.
    const other = kind === 'redis' ? await replica() : a;
    await introduce(a, 'bob');
    shop.delay = 200;
    const reading = page(a);
    await until(() => shop.rootAsked.length === 1);
    shop.products.get('p3')!.stock = 0;
    await other.cache.invalidate('p3');
    shop.delay = 0;
    // Asked again now, by the same caller the query shares the fetch in flight (dedupe.ts) and its older answer;
    // by another it is a fetch of its own, which reads the change and keeps it before the first one ends.
    const sharing = page(a);
    expect((await page(a, undefined, bearer('bob'))).edges[2]!.node.stock).toBe(0);
    expect((await reading).edges[2]!.node.stock).toBe(3);
    expect((await sharing).edges[2]!.node.stock).toBe(3);
    expect((await page(a)).edges[2]!.node.stock).toBe(0);
    expect(shop.rootAsked).toHaveLength(2);

    // Nor when the cache is emptied (an event source came back, a mutation went through a router).
    shop.delay = 200;
    const again = page(a, { first: 5 });
    await until(() => shop.rootAsked.length === 3);
    shop.products.get('p3')!.stock = 5;
    await other.cache.clear();
    expect((await again).edges[2]!.node.stock).toBe(0);
    shop.delay = 0;
    expect((await page(a, { first: 5 })).edges[2]!.node.stock).toBe(5);
    expect(shop.rootAsked).toHaveLength(4);
  });

  it('answers from the cache only callers without a token or with one a subgraph accepted: a forged one is refused as products refuses it', async () => {
    const a = await replica();
    await page(a);
    expect(shop.rootAsked).toHaveLength(1);
    for (let i = 0; i < 2; i++) {
      const refused = await query(a.router, CATALOGUE, { first: 10 }, FORGED);
      expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      expect(refused.data?.products ?? null).toBeNull();
    }
    expect(shop.rootAsked).toHaveLength(1);
    // A new caller's first query goes to products; once accepted, the cache answers them too.
    await page(a, undefined, bearer('carol'));
    await page(a, undefined, bearer('carol'));
    expect(shop.rootAsked).toHaveLength(2);
  });

  it('never keeps an answer with errors or with a per-caller field, and a mutation of products or orders drops it', async () => {
    const a = await replica();
    const bad = { first: 2, filter: { minPrice: 300, maxPrice: 100 } };
    for (let i = 0; i < 2; i++) expect((await query(a.router, CATALOGUE, bad)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Data with an error: the field is null, and the next answer may well be the product.
    shop.failing = new Set(['p2']);
    for (let i = 0; i < 2; i++) {
      const failed = await query(a.router, 'query { product(id: "p2") { id name } }');
      expect(failed.data).toEqual({ product: null });
      expect(failed.errors?.[0]?.message).toMatch(/p2 fails/);
    }
    expect(shop.rootAsked).toHaveLength(4);

    const secret = 'query { products(first: 1) { edges { node { id secret } } } }';
    await introduce(a, 'alice', 'bob');
    await query(a.router, secret, {}, bearer('alice'));
    const bob = await query(a.router, secret, {}, bearer('bob'));
    expect(bob.data!.products.edges[0].node.secret).toBe(bearer('bob'));
    expect(shop.rootAsked).toHaveLength(6);
    if (kind === 'redis') expect(await services.keys('root:*')).toEqual([]);

    // A client reads its own writes: the mutation is sent, and the page is asked again.
    await page(a);
    const renamed = await query(a.router, 'mutation { rename(id: "p1", name: "Mine") { id name } }');
    expect(renamed.data!.rename.name).toBe('Mine');
    expect((await page(a)).edges[0]!.node.name).toBe('Mine');
    expect(shop.rootAsked).toHaveLength(8);
    // And after an order took stock, before its products event.
    expect((await query(a.router, 'mutation { reserve(id: "p2", quantity: 2) }')).data!.reserve).toBe(0);
    expect((await page(a)).edges[1]!.node.stock).toBe(0);
    expect(shop.rootAsked).toHaveLength(9);
  });
});

describe('root queries shared in Redis', () => {
  it('answers on one replica what another fetched, until the TTL', async () => {
    const [a, b] = [await replicaIn('redis'), await replicaIn('redis')];
    const first = await query(a.router, CATALOGUE, { first: 3 });
    expect(await query(b.router, CATALOGUE, { first: 3 })).toEqual(first);
    expect(shop.rootAsked).toHaveLength(1);
    expect(b.cache.stats).toMatchObject({ rootHits: 1, rootMisses: 0 });
    const [entry, ...more] = await services.keys('root:*');
    expect(more).toEqual([]);
    const ttl = await services.redis.pttl(entry!);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});

describe('root queries in the entity cache', () => {
  const fetching = () => {
    const fetch = async () => ({ data: { products: { totalCount: ++fetch.count } } });
    fetch.count = 0;
    return fetch;
  };
  const TOTAL = 'query Total($first: Int) { products(first: $first) { totalCount } }';

  it('hands out a fresh copy each time, and is not used while it has no event source', async () => {
    const cache = new EntityCache(new MemoryEntityStore({ maxProducts: 10, maxRootQueries: 10, ttlMs: 60_000 }));
    const fetch = fetching();
    cache.active = true;
    const first = await cache.root(TOTAL, { first: 1 }, fetch);
    (first.data!.products as { totalCount: number }).totalCount = 99;
    const second = await cache.root(TOTAL, { first: 1 }, fetch);
    (second.data!.products as { totalCount: number }).totalCount = 98;
    expect(await cache.root(TOTAL, { first: 1 }, fetch)).toEqual({ data: { products: { totalCount: 1 } } });
    expect(fetch.count).toBe(1);

    cache.active = false;
    await cache.root(TOTAL, { first: 2 }, fetch);
    await cache.root(TOTAL, { first: 2 }, fetch);
    expect(fetch.count).toBe(3);
  });

  it('keeps at most its limit of root queries in memory, each until the TTL', async () => {
    let now = 0;
    const store = new MemoryEntityStore({ maxProducts: 10, maxRootQueries: 2, ttlMs: 1_000, now: () => now });
    const cache = new EntityCache(store);
    cache.active = true;
    const fetch = fetching();
    const ask = async (first: number) => (await cache.root(TOTAL, { first }, fetch)).data!.products;
    await ask(1);
    await ask(2);
    await ask(1);
    await ask(3);
    expect(store.rootSize).toBe(2);
    expect(fetch.count).toBe(3);
    // 2 was the least recently read.
    await ask(1);
    await ask(3);
    expect(fetch.count).toBe(3);
    await ask(2);
    expect(fetch.count).toBe(4);
    now = 1_000;
    await ask(2);
    expect(fetch.count).toBe(5);
  });

  it('caches only queries of public root fields and fields, with aliases and @skip/@include', () => {
    const root = { kind: 'root' };
    expect(cacheableFetch('query { products { totalCount edges { cursor node { id price { amount } } } } }')).toEqual(root);
    expect(cacheableFetch('query ($id: ID!) { __typename a: product(id: $id) { n: name } b: productBySku(sku: "S1") { id } }')).toEqual(
      root,
    );
    expect(
      cacheableFetch('query ($s: Boolean!) { products { totalCount @include(if: $s) ... @skip(if: $s) { pageInfo { endCursor } } } }'),
    ).toEqual(root);
    for (const query of [
      'query { heldReservations(first: 1) { orderId } }',
      'query { products { edges { node { id secret } } } }',
      'query { product(id: "p1") { name @deprecated } }',
      'query { products { ...Page } } fragment Page on ProductConnection { totalCount }',
      'query { products { edges { node { price(currency: "EUR") { amount } } } } }',
      'query @cached { products { totalCount } }',
      'mutation { rename(id: "p1", name: "n") { id } }',
      'subscription { products { totalCount } }',
    ])
      expect(cacheableFetch(query), query).toBeNull();
  });
});
