import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { createLogger, type Logger } from '@shop/service';
import { describe, expect, it } from 'vitest';
import { EntityCache } from '../../src/entity-cache.js';
import { RedisEntityStore } from '../../src/entity-cache-redis.js';
import { NATS_URL, REDIS_URL, useServices } from '../entity-cache/services.js';
import {
  bearer,
  CATALOGUE,
  lines,
  NAMES_QUERY,
  publishProductEvent,
  query,
  shop,
  sleep,
  startRouter,
  until,
  type Replica,
} from '../entity-cache/subgraphs.js';

// The entity cache shared in Redis by two router replicas: two gateways, each with its own cache on its own
// Redis connection and its own NATS subscription, over one Redis (REDIS_URL, else the machine's own) and one
// NATS (TEST_NATS_URL, else the machine's own). Each test has its own key prefix, deleted after it.

const logger = createLogger('router');
const services = useServices('entity-cache');

async function replica(): Promise<Replica<RedisEntityStore>> {
  const store = new RedisEntityStore(REDIS_URL, { ttlMs: 60_000, logger, keyPrefix: services.prefix });
  await store.open();
  return services.replica(store, NATS_URL);
}

/** The first product of the catalogue through a router. */
const firstOfCatalogue = async (router: Replica<RedisEntityStore>['router']) =>
  (await query(router, CATALOGUE, { first: 1 })).data!.products.edges[0].node as { name: string };

/** A TCP proxy to Redis that the test cuts and restores, as a network failure would. */
async function redisProxy() {
  const target = new URL(REDIS_URL);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket)).on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = new URL(REDIS_URL);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    async cut() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async restore() {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
  };
}

/** A logger that keeps the messages it is given. */
function watchedLogger() {
  const messages: string[] = [];
  const keep = (...args: unknown[]) => void messages.push(String(args.at(-1)));
  return { messages, logger: { warn: keep, info: keep } as unknown as Logger };
}

describe('entity cache shared in Redis by router replicas', () => {
  it('answers on one replica what the other fetched, and asks products only for the rest', async () => {
    const [a, b] = [await replica(), await replica()];
    const first = await lines(a.router, ['p1', 'p2']);
    const second = await lines(b.router, ['p2', 'p1']);
    expect(shop.asked).toEqual([['p1', 'p2']]);
    expect(second.data!.lines.map((l) => l.product)).toEqual([first.data!.lines[1]!.product, first.data!.lines[0]!.product]);
    expect(b.cache.stats).toMatchObject({ hits: 2, misses: 0 });

    const mixed = await lines(b.router, ['p3', 'p1']);
    expect(mixed.errors).toBeUndefined();
    expect(mixed.data!.lines.map((l) => l.product.name)).toEqual(['Product 3', 'Product 1']);
    expect(shop.asked).toEqual([['p1', 'p2'], ['p3']]);
    await lines(a.router, ['p3']);
    expect(shop.asked).toHaveLength(2);

    // A replica whose event source (re)connects cannot tell what was missed: nothing older is read by anyone.
    await a.cache.clear();
    await lines(b.router, ['p1']);
    expect(shop.asked).toEqual([['p1', 'p2'], ['p3'], ['p1']]);
  });

  it('shows a product changed through both replicas within a second of its event', async () => {
    const [a, b] = [await replica(), await replica()];
    await lines(a.router, ['p1', 'p2']);
    await lines(b.router, ['p1', 'p2']);
    expect(shop.asked).toHaveLength(1);

    shop.products.get('p1')!.name = 'Renamed';
    const sent = Date.now();
    publishProductEvent(services.publisher, 'shop.product.updated', 'p1', { name: 'Renamed' });
    const name = async ({ router }: Replica<RedisEntityStore>) => (await lines(router, ['p1'])).data!.lines[0]!.product.name as string;
    await until(async () => (await name(a)) === 'Renamed' && (await name(b)) === 'Renamed', 1_000);
    expect(Date.now() - sent).toBeLessThan(1_000);
    expect([await name(a), await name(b)]).toEqual(['Renamed', 'Renamed']);
    // The other product stayed cached.
    const asked = shop.asked.length;
    await lines(b.router, ['p2']);
    expect(shop.asked).toHaveLength(asked);
  });

  it('keeps nothing of a fetch in flight when another replica hears the event', async () => {
    const [a, b] = [await replica(), await replica()];
    // Replica a does not hear this event (as when its copy is still on the way): only b's word reaches Redis.
    await a.follower!.close();
    a.cache.active = true;
    shop.delay = 200;
    const reading = lines(a.router, ['p3']);
    await until(() => shop.asked.length === 1);
    shop.products.get('p3')!.stock = 0;
    publishProductEvent(services.publisher, 'shop.product.stock_changed', 'p3', { stock: 0, delta: -3 });
    await until(async () => (await services.redis.get(`${services.prefix}version:p3`)) !== null);
    expect((await reading).data!.lines[0]!.product.stock).toBe(3);

    shop.delay = 0;
    expect((await lines(b.router, ['p3'])).data!.lines[0]!.product.stock).toBe(0);
    expect((await lines(a.router, ['p3'])).data!.lines[0]!.product.stock).toBe(0);
    expect(shop.asked).toEqual([['p3'], ['p3']]);

    // Nor when another replica's event source comes back (it may have missed this product's event).
    shop.delay = 200;
    const again = lines(a.router, ['p2']);
    await until(() => shop.asked.length === 3);
    shop.products.get('p2')!.name = 'Renamed';
    await b.cache.clear();
    expect((await again).data!.lines[0]!.product.name).toBe('Product 2');
    shop.delay = 0;
    expect((await lines(a.router, ['p2'])).data!.lines[0]!.product.name).toBe('Renamed');
  });

  it('never keeps a selection with a per-caller field', async () => {
    const [a, b] = [await replica(), await replica()];
    await lines(a.router, ['p1'], 'id name secret', bearer('alice'));
    const bob = await lines(b.router, ['p1'], 'id name secret', bearer('bob'));
    expect(bob.data!.lines[0]!.product.secret).toBe(bearer('bob'));
    expect(shop.asked).toEqual([['p1'], ['p1']]);
    expect(await services.keys('entries:*')).toEqual([]);
  });

  it('expires each entry after the TTL, and keeps no entity that came with an error or null', async () => {
    const store = new RedisEntityStore(REDIS_URL, { ttlMs: 300, logger, keyPrefix: services.prefix });
    await store.open();
    const cache = new EntityCache(store);
    cache.active = true;
    try {
      let fetches = 0;
      // One product a fetch: `bad` comes with an error, `gone` is null.
      const fetch = async ([representation]: unknown[]) => {
        fetches++;
        const { id } = representation as { id: string };
        if (id === 'bad') return { data: { _entities: [{ name: 'x' }] }, errors: [{ message: 'bad', path: ['_entities', 0] }] };
        return { data: { _entities: [id === 'gone' ? null : { name: 'x' }] } };
      };
      const ask = (id: string, query = NAMES_QUERY) => cache.entities(query, [{ __typename: 'Product', id }], fetch);
      for (const id of ['ok', 'ok', 'bad', 'bad', 'gone', 'gone']) await ask(id);
      expect(fetches).toBe(5);
      // A later entry of the same product, under another selection, does not keep the first one alive.
      await sleep(200);
      const skus = NAMES_QUERY.replace('{ name }', '{ name sku }');
      await ask('ok', skus);
      expect(fetches).toBe(6);
      await sleep(150);
      await ask('ok');
      expect(fetches).toBe(7);
      await ask('ok', skus);
      expect(fetches).toBe(7);
    } finally {
      await cache.close();
    }
  });

  it('sends every fetch to products while Redis does not answer, and says so once', async () => {
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as { port: number };
    closed.close();
    const { messages: warnings, logger: watched } = watchedLogger();
    const store = new RedisEntityStore(`redis://127.0.0.1:${port}`, { ttlMs: 60_000, logger: watched, keyPrefix: services.prefix });
    await store.open();
    const cache = new EntityCache(store);
    cache.active = true;
    const router = await startRouter(services.subgraphs.supergraphSdl, cache);
    try {
      for (let i = 0; i < 3; i++) expect((await lines(router, ['p1'])).data!.lines[0]!.product.name).toBe('Product 1');
      for (let i = 0; i < 2; i++) expect((await firstOfCatalogue(router)).name).toBe('Product 1');
      await cache.invalidate('p1');
      expect(shop.asked).toEqual([['p1'], ['p1'], ['p1']]);
      expect(shop.rootAsked).toHaveLength(2);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/Redis does not answer/);
    } finally {
      await router.stop();
      await cache.close();
    }
  });

  it('reads nothing older than a change that could not reach Redis, once Redis answers again', async () => {
    const proxy = await redisProxy();
    const { messages, logger: watched } = watchedLogger();
    const store = new RedisEntityStore(proxy.url, { ttlMs: 60_000, logger: watched, keyPrefix: services.prefix });
    await store.open();
    const cut = new EntityCache(store);
    cut.active = true;
    const router = await startRouter(services.subgraphs.supergraphSdl, cut);
    const b = await replica();
    try {
      await lines(b.router, ['p1']);
      expect((await lines(router, ['p1'])).data!.lines[0]!.product.name).toBe('Product 1');
      expect(shop.asked).toEqual([['p1']]);
      await firstOfCatalogue(b.router);
      expect((await firstOfCatalogue(router)).name).toBe('Product 1');
      expect(shop.rootAsked).toHaveLength(1);

      await proxy.cut();
      await until(() => messages.some((m) => /Redis does not answer/.test(m)));
      // Only this replica hears the product's event (b's copy is lost, say), and Redis does not get it.
      shop.products.get('p1')!.name = 'Renamed';
      await cut.invalidate('p1');
      expect((await lines(router, ['p1'])).data!.lines[0]!.product.name).toBe('Renamed');
      await proxy.restore();
      await until(() => messages.includes('entity cache: Redis answers again'));
      expect((await firstOfCatalogue(router)).name).toBe('Renamed');
      expect((await firstOfCatalogue(b.router)).name).toBe('Renamed');
      expect((await lines(router, ['p1'])).data!.lines[0]!.product.name).toBe('Renamed');
      expect((await lines(b.router, ['p1'])).data!.lines[0]!.product.name).toBe('Renamed');
    } finally {
      await router.stop();
      await cut.close();
      await proxy.cut();
    }
  });
});
