import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { metrics } from '@shop/service';
import { cacheableFetch, type CacheableFetch } from './entity-cache-fields.js';

/**
 * Entity caching of product fields at the router. An order history of 20 orders asks the products subgraph for
 * the same few products on every request; their name, price and the like are the same for every caller and
 * change only when an admin edits the product or its stock moves, each of which products publishes as an event
 * (shop.product.created, shop.product.updated, shop.product.stock_changed; docs/events.md). So the router keeps
 * the entities it fetched, by product id and selection, and drops a product's entries when its event arrives.
 * Likewise the catalogue: a query of products' public root fields (`products`, `product`, `productBySku`) is
 * kept by its text and variables, and every products event drops all of these, as a change to one product can
 * move it into or out of any page and change any count.
 *
 * Only fetches are cached whose every selected field is public (entity-cache-fields.ts): nothing per caller (an
 * admin-only field, say) is ever kept. Entities that came with an error, or null, are not kept, nor is a root
 * answer with any error. An entry also expires after a TTL, a bound on staleness should an event be lost. A
 * fetch in flight when an event arrives does not store what it read: it may be older than the event; nor does
 * one answered by an identical fetch sent before its lookup (dedupe.ts). Without an event source the cache is
 * not used at all (entity-cache-events.ts).
 *
 * This file answers fetches; the entries live in a store behind EntityStore: this process's memory by default,
 * or with REDIS_URL one Redis shared by every router replica.
 */

export interface EntityCacheStats {
  hits: number;
  misses: number;
  rootHits: number;
  rootMisses: number;
  invalidations: number;
}

/** What a store found for one fetch's products, and how to keep what the fetch then brings. */
export interface EntityLookup {
  /** Each product's entry (the entity as JSON), in the order asked, or undefined. */
  found: (string | undefined)[];
  /**
   * Keeps fetched entities under the lookup's selection, until the TTL counted from the lookup, except those
   * of products changed (or of everything dropped) since the lookup: the fetch may have read them before.
   */
  keep(entities: { id: string; json: string }[]): Promise<void>;
}

/** What a store found for one query of root fields, and how to keep the answer the fetch then brings. */
export interface RootLookup {
  /** The answer kept for the query and its variables, as JSON, or undefined. */
  found: string | undefined;
  /** Keeps the answer until the TTL counted from the lookup, unless any product changed since the lookup. */
  keep(json: string): Promise<void>;
}

/**
 * Where the entries live: this process's memory (entity-cache-memory.ts), or Redis, shared by every router
 * replica (entity-cache-redis.ts). A store never throws: while its storage cannot be reached, it finds nothing and
 * keeps nothing.
 */
export interface EntityStore {
  lookup(ids: string[], selection: string): Promise<EntityLookup>;
  /** `key`: the query's text and its variables. */
  lookupRoot(key: string): Promise<RootLookup>;
  /** A product changed: its entries and every root entry go, and lookups made before this keep nothing of them. */
  invalidate(id: string): Promise<void>;
  /** Every root entry goes, and root lookups made before this keep nothing. */
  dropRoots(): Promise<void>;
  /** Everything goes, and lookups made before this keep nothing. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

type Response = GatewayGraphQLResponse;

export class EntityCache<Store extends EntityStore = EntityStore> {
  /** How each query text seen is cached: null when it is not. */
  private readonly fetches = new Map<string, CacheableFetch>();
  /** False while no event source is connected: then nothing is read from or kept in the cache. */
  active = false;
  readonly stats: EntityCacheStats = { hits: 0, misses: 0, rootHits: 0, rootMisses: 0, invalidations: 0 };

  constructor(readonly store: Store) {}

  /** A product changed: its entries and the root entries go, and fetches in flight will not store what they read. */
  invalidate(productId: string): Promise<void> {
    this.stats.invalidations++;
    return this.store.invalidate(productId);
  }

  /** Everything goes: the event source was lost, so no entry can be trusted to be current. */
  clear(): Promise<void> {
    return this.store.clear();
  }

  /** Every root query's entry goes: stock or the catalogue may have changed, it is not known which product's. */
  dropRoots(): Promise<void> {
    return this.store.dropRoots();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /**
   * Answers an `_entities` fetch of products from the cache where it can, and asks `fetch` for the rest (only
   * those representations), keeping what it returns. Anything not cacheable goes to `fetch` whole. `fetch`
   * calls `onShared` when its answer is that of an identical fetch already in flight (dedupe.ts): that one was
   * sent before this lookup, so it may be older than an event the lookup saw, and is not kept.
   */
  async entities(
    query: string,
    representations: unknown[],
    fetch: (representations: unknown[], onShared?: () => void) => Promise<Response>,
  ): Promise<Response> {
    const cacheable = this.active ? this.cacheable(query) : null;
    const selection = cacheable?.kind === 'entities' ? cacheable.selection : null;
    const ids = selection ? representations.map(productId) : [];
    if (!selection || ids.some((id) => id === undefined)) return fetch(representations);
    const lookup = await this.store.lookup(ids as string[], selection);
    const cached = lookup.found;
    const missing = cached.flatMap((entry, i) => (entry === undefined ? [i] : []));
    this.stats.hits += cached.length - missing.length;
    this.stats.misses += missing.length;
    metrics.routerEntityCacheLookups.inc({ kind: 'entity', result: 'hit' }, cached.length - missing.length);
    metrics.routerEntityCacheLookups.inc({ kind: 'entity', result: 'miss' }, missing.length);
    if (missing.length === 0) return { data: { _entities: cached.map((json) => JSON.parse(json!) as unknown) } };

    let shared = false;
    const response = await fetch(
      missing.map((i) => representations[i]),
      () => (shared = true),
    );
    const fetched = response.data?._entities;
    if (!Array.isArray(fetched) || fetched.length !== missing.length)
      return missing.length === ids.length ? response : { errors: response.errors ?? [{ message: 'products answered no entities' }] };
    const failed = new Set((response.errors ?? []).map((error) => error.path?.[1]));
    const keep = missing.flatMap((position, j) => {
      const entity = fetched[j] as unknown;
      return entity === null || failed.has(j) ? [] : [{ id: ids[position]!, json: JSON.stringify(entity) }];
    });
    if (keep.length > 0 && this.active && !shared) await lookup.keep(keep);
    if (missing.length === ids.length) return response;
    // Hits and fetched entities back in the order asked, and the errors' positions with them.
    const entities = cached.map((json) => (json === undefined ? undefined : (JSON.parse(json) as unknown)));
    missing.forEach((position, j) => (entities[position] = fetched[j]));
    const errors = response.errors?.map((error) =>
      error.path?.[0] === '_entities' && typeof error.path[1] === 'number'
        ? { ...error, path: ['_entities', missing[error.path[1]] ?? error.path[1], ...error.path.slice(2)] }
        : error,
    );
    return { ...response, data: { ...response.data, _entities: entities }, ...(errors && { errors }) };
  }

  /**
   * Answers a query of products' public root fields from the cache, or asks `fetch` and keeps its answer
   * unless it has errors or was shared (as for entities). Anything else goes to `fetch`. Each hit is a fresh
   * copy: the gateway merges into what it is given.
   */
  async root(
    query: string,
    variables: Record<string, unknown> | undefined,
    fetch: (onShared?: () => void) => Promise<Response>,
  ): Promise<Response> {
    if (!this.active || this.cacheable(query)?.kind !== 'root') return fetch();
    const lookup = await this.store.lookupRoot(`${query}\n${canonicalJson(variables ?? {})}`);
    const hit = lookup.found !== undefined;
    this.stats[hit ? 'rootHits' : 'rootMisses']++;
    metrics.routerEntityCacheLookups.inc({ kind: 'root', result: hit ? 'hit' : 'miss' });
    if (hit) return JSON.parse(lookup.found!) as Response;
    let shared = false;
    const response = await fetch(() => (shared = true));
    if (response.errors === undefined && response.data && this.active && !shared) await lookup.keep(JSON.stringify(response));
    return response;
  }

  /** How a fetch's query is cached, remembered per text. */
  private cacheable(query: string): CacheableFetch {
    let cacheable = this.fetches.get(query);
    if (cacheable === undefined) {
      cacheable = cacheableFetch(query);
      // Query texts come from the gateway's plans, a bounded set; this bound is for safety only.
      if (this.fetches.size >= 1_000) this.fetches.clear();
      this.fetches.set(query, cacheable);
    }
    return cacheable;
  }
}

/** `{ __typename: "Product", id }` and nothing else: the product's id; anything else is not cached. */
function productId(representation: unknown): string | undefined {
  if (!representation || typeof representation !== 'object') return undefined;
  const { __typename, id, ...rest } = representation as Record<string, unknown>;
  return __typename === 'Product' && typeof id === 'string' && Object.keys(rest).length === 0 ? id : undefined;
}

/** JSON with every object's keys sorted, undefined ones left out as JSON leaves them: one text per value. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (!value || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const entries = Object.entries(value).filter(([, item]) => item !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}
