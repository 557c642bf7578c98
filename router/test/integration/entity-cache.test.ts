import type { ApolloServer } from '@apollo/server';
import { connect } from '@nats-io/transport-node';
import { createLogger } from '@shop/service';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EntityCache } from '../../src/entity-cache.js';
import { cacheableFetch } from '../../src/entity-cache-fields.js';
import { MemoryEntityStore } from '../../src/entity-cache-memory.js';
import { followProductChanges } from '../../src/entity-cache-events.js';
import type { RouterContext } from '../../src/gateway.js';
import {
  bearer,
  lines as linesThrough,
  NAMES_QUERY,
  publishProductEvent,
  shop,
  sleep,
  startRouter,
  startSubgraphs,
} from '../entity-cache/subgraphs.js';

// The router's entity cache of product fields in this process's memory, through the real gateway against real
// HTTP subgraphs (entity-cache/subgraphs.ts).

let subgraphs: Awaited<ReturnType<typeof startSubgraphs>>;
let cache: EntityCache<MemoryEntityStore>;
let router: ApolloServer<RouterContext>;
const lines = (ids: string[], fields?: string, authorization?: string) => linesThrough(router, ids, fields, authorization);

beforeAll(async () => {
  subgraphs = await startSubgraphs();
});

afterAll(() => subgraphs.close());

beforeEach(async () => {
  await router?.stop();
  shop.reset();
  cache = new EntityCache(new MemoryEntityStore({ maxProducts: 100, maxRootQueries: 100, ttlMs: 60_000 }));
  cache.active = true;
  router = await startRouter(subgraphs.supergraphSdl, cache);
});

describe('entity cache of product fields', () => {
  it('answers product entities it has from the cache and asks products only for the others', async () => {
    const first = await lines(['p1', 'p2']);
    expect(shop.asked).toEqual([['p1', 'p2']]);
    const second = await lines(['p2', 'p1', 'p3', 'p1']);
    expect(shop.asked).toEqual([['p1', 'p2'], ['p3']]);
    expect(second.errors).toBeUndefined();
    expect(second.data!.lines.map((l) => l.product.name)).toEqual(['Product 2', 'Product 1', 'Product 3', 'Product 1']);
    expect(second.data!.lines[1]!.product).toEqual(first.data!.lines[0]!.product);
    await lines(['p3', 'p2']);
    expect(shop.asked).toHaveLength(2);
    expect(cache.stats).toMatchObject({ hits: 2 + 2, misses: 3 });
  });

  it('drops a product when its event arrives, also while a fetch of it is in flight', async () => {
    await lines(['p1', 'p2']);
    shop.products.get('p1')!.name = 'Renamed';
    await cache.invalidate('p1');
    const after = await lines(['p1', 'p2']);
    expect(after.data!.lines[0]!.product.name).toBe('Renamed');
    expect(shop.asked).toEqual([['p1', 'p2'], ['p1']]);

    // A fetch that read before the change must not be stored after the event.
    shop.delay = 100;
    await cache.invalidate('p3');
    const reading = lines(['p3']);
    await sleep(30);
    shop.products.get('p3')!.stock = 0;
    await cache.invalidate('p3');
    // Nor one that, asked after the event, shares that fetch's answer (dedupe.ts).
    shop.delay = 0;
    const sharing = lines(['p3']);
    expect((await reading).data!.lines[0]!.product.stock).toBe(3);
    expect((await sharing).data!.lines[0]!.product.stock).toBe(3);
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
    expect(shop.asked).toEqual([['p1', 'p2'], ['p1']]);
  });

  it('never caches a selection with a field outside the product fields, an entity with an error, or a missing one', async () => {
    await lines(['p1'], 'id name secret', bearer('alice'));
    const bob = await lines(['p1'], 'id name secret', bearer('bob'));
    expect(bob.data!.lines[0]!.product.secret).toBe(bearer('bob'));
    expect(shop.asked).toEqual([['p1'], ['p1']]);

    shop.asked.length = 0;
    shop.failing = new Set(['p2']);
    const failed = await lines(['p1', 'p2']);
    expect(failed.errors?.[0]?.message).toMatch(/p2 fails/);
    shop.failing = new Set();
    const fine = await lines(['p1', 'p2']);
    expect(fine.errors).toBeUndefined();
    expect(shop.asked).toEqual([['p1', 'p2'], ['p2']]);

    expect(
      cacheableFetch('query X($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { id name } } }'),
    ).toEqual({ kind: 'entities', selection: '{\n  ... on Product {\n    id\n    name\n  }\n}' });
    expect(
      cacheableFetch('query X($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { n: name } } }'),
    ).toBeNull();
    expect(
      cacheableFetch(
        'query X($representations: [_Any!]!, $s: Boolean!) { _entities(representations: $representations) { ... on Product { name @include(if: $s) } } }',
      ),
    ).toBeNull();
    expect(
      cacheableFetch('query X($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id } } }'),
    ).toBeNull();
  });

  it('is not used while it has no event source, and keeps at most its limit of products', async () => {
    cache.active = false;
    await lines(['p1']);
    await lines(['p1']);
    expect(shop.asked).toEqual([['p1'], ['p1']]);
    expect(cache.store.size).toBe(0);

    const small = new EntityCache(new MemoryEntityStore({ maxProducts: 2, maxRootQueries: 100, ttlMs: 60_000 }));
    small.active = true;
    const fetch = async (representations: unknown[]) => ({
      data: { _entities: representations.map((r) => ({ ...(r as object), name: 'x' })) },
    });
    for (const id of ['a', 'b', 'c']) await small.entities(NAMES_QUERY, [{ __typename: 'Product', id }], fetch);
    expect(small.store.size).toBe(2);
  });
});

describe('entity cache invalidation from NATS', () => {
  const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

  it('drops a product within a second of its shop.product.updated event', async (context) => {
    const publisher = await connect({ servers: NATS_URL, timeout: 2_000, reconnect: false }).catch(() => undefined);
    if (!publisher) return context.skip(`no NATS at ${NATS_URL}`);
    const events = new EntityCache(new MemoryEntityStore({ maxProducts: 100, maxRootQueries: 100, ttlMs: 60_000 }));
    const follower = await followProductChanges(NATS_URL, events, createLogger('router'));
    try {
      const deadline = Date.now() + 5_000;
      while (!events.active && Date.now() < deadline) await sleep(20);
      expect(events.active).toBe(true);
      const id = `test-${Date.now()}`;
      const fetch = async (representations: unknown[]) => ({ data: { _entities: representations.map(() => ({ name: 'n' })) } });
      await events.entities(NAMES_QUERY, [{ __typename: 'Product', id }], fetch);
      expect(events.store.size).toBe(1);
      const sent = Date.now();
      // Another test's stack may share this NATS: the id is this test's own.
      publishProductEvent(publisher, 'shop.product.updated', id, { name: 'm' });
      while (events.store.size > 0 && Date.now() - sent < 1_000) await sleep(5);
      expect(events.store.size).toBe(0);
    } finally {
      await follower.close();
      await publisher.close();
    }
  });
});
