import { createHash } from 'node:crypto';
import type { Logger } from '@shop/service';
import { SharedRedis } from '@shop/service/redis';
import type { Redis } from 'ioredis';
import type { EntityLookup, EntityStore, RootLookup } from './entity-cache.js';

/**
 * The entity cache's entries in Redis (REDIS_URL), shared by every router replica: a product one replica
 * fetched is a hit on all of them. Keys, under the prefix:
 *
 * - `entries:<product id>`: a hash of the product's entries, one field per selection, each `<generation>
 *   <expiry> <entity JSON>`. The hash expires with its latest entry; an older entry is skipped once past its own.
 * - `version:<product id>`: bumped by every event of the product. A lookup reads it with the entries, and a
 *   fetch keeps what it read only if it is unchanged, so a fetch in flight on any replica when the event
 *   reaches any replica keeps nothing. Every replica receives each event and bumps it: repeats are harmless.
 * - `generation`: bumped when a replica's event source (re)connects, as it may have missed events, and after a
 *   products mutation through a replica. Entries of an older generation are never read, and expire by themselves.
 * - `root:<hash of the query text and variables>`: a root query's answer, `<roots version> <answer JSON>`,
 *   expiring with the TTL.
 * - `roots-version`: bumped by every products event, after an orders mutation, and with the generation. A root
 *   entry of another version is never read, and a fetch keeps its answer only if the version is still the one
 *   its lookup read.
 *
 * Versions and the generation never expire (one small key per product created or changed): a Redis that evicts
 * keys must evict only keys with a TTL (`volatile-*` policies, or none). Expiry is by Redis's clock, so the
 * replicas' clocks do not matter. Should Redis not answer, fetches go to products and nothing is kept; a change
 * that could not be written drops everything (a new generation) before the cache is read again.
 */

/** Redis's clock in milliseconds, as `now`. */
const NOW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/**
 * KEYS: the generation, then each product's version and entries. ARGV: the selection. Returns Redis's clock,
 * the generation, then each product's version and entity JSON (nil unless current).
 */
const LOOKUP = `${NOW}
local generation = redis.call('GET', KEYS[1]) or '0'
local result = { now, generation }
for i = 2, #KEYS, 2 do
  result[#result + 1] = redis.call('GET', KEYS[i]) or '0'
  local entry = redis.call('HGET', KEYS[i + 1], ARGV[1])
  local json = false
  if entry then
    local first = string.find(entry, ' ', 1, true)
    local second = string.find(entry, ' ', first + 1, true)
    if string.sub(entry, 1, first - 1) == generation and tonumber(string.sub(entry, first + 1, second - 1)) > now then
      json = string.sub(entry, second + 1)
    end
  end
  result[#result + 1] = json
end
return result
`;

/**
 * KEYS: the generation, then each product's version and entries. ARGV: the generation the lookup saw, the
 * entries' expiry (Redis's clock), the selection, then each product's version the lookup saw and its entity
 * JSON. Writes nothing after a new generation (never read, it would replace a current entry), and nothing of
 * a product whose version moved.
 */
const KEEP = `${NOW}
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[2]) - now
if ttl <= 0 then return 0 end
local kept = 0
for i = 2, #KEYS, 2 do
  if (redis.call('GET', KEYS[i]) or '0') == ARGV[i + 2] then
    redis.call('HSET', KEYS[i + 1], ARGV[3], ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[i + 3])
    if redis.call('PTTL', KEYS[i + 1]) < ttl then redis.call('PEXPIRE', KEYS[i + 1], ttl) end
    kept = kept + 1
  end
end
return kept
`;

/**
 * KEYS: the roots' version, the root entry. ARGV: the version the lookup saw, the TTL left in milliseconds, the
 * answer JSON. Writes nothing once the version moved: the fetch may have read before a change.
 */
const KEEP_ROOT = `
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1] .. ' ' .. ARGV[3], 'PX', ARGV[2])
return 1
`;

/** The client with the scripts above, defined on it once (sent by hash, the text only when Redis lacks it). */
type ScriptedRedis = Redis & {
  lookupEntities(numberOfKeys: number, ...keysAndArgs: string[]): Promise<[number, string, ...(string | null)[]]>;
  keepEntities(numberOfKeys: number, ...keysAndArgs: string[]): Promise<number>;
  keepRoot(numberOfKeys: number, ...keysAndArgs: string[]): Promise<number>;
};

export class RedisEntityStore implements EntityStore {
  private readonly redis: SharedRedis;
  /** An invalidation or clear did not reach Redis: a new generation comes before anything is read. */
  private missedChange = false;
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(
    url: string,
    /** `keyPrefix` lets one Redis serve several shops (and tests). */
    { ttlMs, logger, keyPrefix = 'shop:router:entity-cache:' }: { ttlMs: number; logger: Logger; keyPrefix?: string },
  ) {
    this.ttlMs = ttlMs;
    this.prefix = keyPrefix;
    this.redis = new SharedRedis(url, {
      down: (error) =>
        logger.warn({ err: error }, 'entity cache: Redis does not answer; product entities are fetched from products until it does'),
      up: () => logger.info('entity cache: Redis answers again'),
    });
    this.redis.client.defineCommand('lookupEntities', { lua: LOOKUP });
    this.redis.client.defineCommand('keepEntities', { lua: KEEP });
    this.redis.client.defineCommand('keepRoot', { lua: KEEP_ROOT });
  }

  /** Connects now; a Redis that cannot be reached is logged, and the cache finds nothing until it can. */
  open(): Promise<void> {
    return this.redis.open();
  }

  async lookup(ids: string[], selection: string): Promise<EntityLookup> {
    const nothing: EntityLookup = { found: ids.map(() => undefined), keep: async () => {} };
    if (this.missedChange) await this.startGeneration();
    if (this.missedChange) return nothing;
    const keys = [this.generationKey(), ...ids.flatMap((id) => this.keys(id))];
    const reply = await this.redis.run(
      (redis) => (redis as ScriptedRedis).lookupEntities(keys.length, ...keys, selection),
      () => undefined,
    );
    if (!reply) return nothing;
    const [now, generation, ...products] = reply;
    const versions = new Map(ids.map((id, i) => [id, products[2 * i]!]));
    const expiresAt = String(now + this.ttlMs);
    return {
      found: ids.map((_, i) => products[2 * i + 1] ?? undefined),
      keep: async (entities) => {
        const keys = [this.generationKey(), ...entities.flatMap(({ id }) => this.keys(id))];
        const args = [generation, expiresAt, selection, ...entities.flatMap(({ id, json }) => [versions.get(id)!, json])];
        await this.redis.run(
          (redis) => (redis as ScriptedRedis).keepEntities(keys.length, ...keys, ...args),
          () => 0,
        );
      },
    };
  }

  async lookupRoot(key: string): Promise<RootLookup> {
    const nothing: RootLookup = { found: undefined, keep: async () => {} };
    if (this.missedChange) await this.startGeneration();
    if (this.missedChange) return nothing;
    const entryKey = `${this.prefix}root:${createHash('sha256').update(key).digest('base64url')}`;
    // The TTL counts from the lookup on this process's monotonic clock: no clock needs to agree with another.
    const lookedUpAt = performance.now();
    const reply = await this.redis.run(
      (redis) => redis.mget(this.rootsVersionKey(), entryKey),
      () => undefined,
    );
    if (!reply) return nothing;
    const [version = '0', entry] = reply.map((value) => value ?? undefined);
    const space = entry?.indexOf(' ') ?? -1;
    return {
      found: entry && entry.slice(0, space) === version ? entry.slice(space + 1) : undefined,
      keep: async (json) => {
        const ttl = Math.floor(this.ttlMs - (performance.now() - lookedUpAt));
        if (ttl <= 0) return;
        await this.redis.run(
          (redis) => (redis as ScriptedRedis).keepRoot(2, this.rootsVersionKey(), entryKey, version, String(ttl), json),
          () => 0,
        );
      },
    };
  }

  async invalidate(id: string): Promise<void> {
    const [version, entries] = this.keys(id);
    await this.change((redis) => redis.multi().incr(version).del(entries).incr(this.rootsVersionKey()).exec());
  }

  dropRoots(): Promise<void> {
    return this.change((redis) => redis.incr(this.rootsVersionKey()));
  }

  clear(): Promise<void> {
    return this.startGeneration();
  }

  async close(): Promise<void> {
    this.redis.close();
  }

  private generationKey() {
    return `${this.prefix}generation`;
  }

  private rootsVersionKey() {
    return `${this.prefix}roots-version`;
  }

  /** A product's version and entries keys. */
  private keys(id: string): [string, string] {
    return [`${this.prefix}version:${id}`, `${this.prefix}entries:${id}`];
  }

  /** Every entry written so far is no longer read. */
  private startGeneration(): Promise<void> {
    this.missedChange = false;
    return this.change((redis) => redis.multi().incr(this.generationKey()).incr(this.rootsVersionKey()).exec());
  }

  /** Writes a change; one that cannot be written leaves the cache unread until a new generation is. */
  private async change(write: (redis: Redis) => Promise<unknown>): Promise<void> {
    const written = await this.redis.run(
      async (redis) => (await write(redis), true),
      () => false,
    );
    if (!written) this.missedChange = true;
  }
}
