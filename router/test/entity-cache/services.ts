import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { EntityStore } from '../../src/entity-cache.js';
import { shop, startReplica, startSubgraphs, type Replica } from './subgraphs.js';

/** Redis (REDIS_URL) and NATS (TEST_NATS_URL), else the machine's own. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * What an entity cache test file shares: the subgraphs, a NATS connection to publish products events on, and a
 * Redis client. Another run may share this Redis and NATS: each test starts with the shop reset and a Redis key
 * prefix of its own, and after it its replicas stop and its keys go.
 */
export function useServices(label: string) {
  const replicas: Replica<EntityStore>[] = [];
  const services = {
    subgraphs: undefined as unknown as Awaited<ReturnType<typeof startSubgraphs>>,
    publisher: undefined as unknown as NatsConnection,
    redis: undefined as unknown as Redis,
    prefix: '',
    /** A router replica with its cache in `store`, following the products events on NATS with `natsUrl`. */
    async replica<Store extends EntityStore>(store: Store, natsUrl?: string): Promise<Replica<Store>> {
      const started = await startReplica(services.subgraphs.supergraphSdl, store, natsUrl);
      replicas.push(started as Replica<EntityStore>);
      return started;
    },
    /** The keys this test has in Redis. */
    async keys(pattern = '*'): Promise<string[]> {
      const found: string[] = [];
      for await (const batch of services.redis.scanStream({ match: `${services.prefix}${pattern}` })) found.push(...(batch as string[]));
      return found;
    },
  };
  beforeAll(async () => {
    services.subgraphs = await startSubgraphs();
    services.publisher = await connect({ servers: NATS_URL, timeout: 2_000 });
    services.redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    services.subgraphs.close();
    await services.publisher.close();
    services.redis.disconnect();
  });
  beforeEach(() => {
    shop.reset();
    services.prefix = `test:${label}:${randomUUID()}:`;
  });
  afterEach(async () => {
    for (const replica of replicas.splice(0)) await replica.close();
    const left = await services.keys();
    if (left.length) await services.redis.del(...left);
  });
  return services;
}
