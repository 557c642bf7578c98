import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { metrics } from '@shop/service';
import { Kind, parse, print, type FieldNode, type SelectionSetNode } from 'graphql';

/**
 * Entity caching of product fields at the router. An order history of 20 orders asks the products subgraph for
 * the same few products on every request; their name, price and the like are the same for every caller and
 * change only when an admin edits the product or its stock moves, each of which products publishes as an event
 * (shop.product.updated, shop.product.stock_changed; docs/events.md). So the router keeps the entities it
 * fetched, by product id and selection, and drops a product's entries when its event arrives.
 *
 * Only `_entities` fetches are cached whose every selected field is one of PRODUCT_FIELDS, with no arguments,
 * aliases or directives: nothing per caller (an admin-only field, say) is ever kept. Entities that came with an
 * error, or null, are not kept. An entry also expires after a TTL, a bound on staleness should an event be
 * lost. A fetch in flight when a product's event arrives does not store what it read: it may be older than the
 * event. Without an event source the cache is not used at all (entity-cache-events.ts).
 *
 * This file decides what is cached and answers fetches; the entries live in a store behind EntityStore: this
 * process's memory by default, or with REDIS_URL one Redis shared by every router replica.
 */

/** Product fields that are the same for every caller, with the subfields allowed under each. */
const PRODUCT_FIELDS: Record<string, Set<string> | null> = {
  __typename: null,
  id: null,
  sku: null,
  name: null,
  description: null,
  category: null,
  stock: null,
  inStock: null,
  price: new Set(['amount', 'currency', '__typename']),
};

export interface EntityCacheStats {
  hits: number;
  misses: number;
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

/**
 * Where the entries live: this process's memory (entity-cache-memory.ts), or Redis, shared by every router
 * replica (entity-cache-redis.ts). A store never throws: while its storage cannot be reached, it finds nothing and
 * keeps nothing.
 */
export interface EntityStore {
  lookup(ids: string[], selection: string): Promise<EntityLookup>;
  /** A product changed: its entries go, and lookups made before this keep nothing of it. */
  invalidate(id: string): Promise<void>;
  /** Everything goes, and lookups made before this keep nothing. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

type Response = GatewayGraphQLResponse;

export class EntityCache<Store extends EntityStore = EntityStore> {
  /** Selections of the entity fetches seen, by query text: null when a fetch is not cacheable. */
  private readonly selections = new Map<string, string | null>();
  /** False while no event source is connected: then nothing is read from or kept in the cache. */
  active = false;
  readonly stats: EntityCacheStats = { hits: 0, misses: 0, invalidations: 0 };

  constructor(readonly store: Store) {}

  /** A product changed: its entries go, and fetches in flight will not store what they read of it. */
  invalidate(productId: string): Promise<void> {
    this.stats.invalidations++;
    return this.store.invalidate(productId);
  }

  /** Everything goes: the event source was lost, so no entry can be trusted to be current. */
  clear(): Promise<void> {
    return this.store.clear();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /**
   * Answers an `_entities` fetch of products from the cache where it can, and asks `fetch` for the rest (only
   * those representations), keeping what it returns. Anything not cacheable goes to `fetch` whole.
   */
  async entities(query: string, representations: unknown[], fetch: (representations: unknown[]) => Promise<Response>): Promise<Response> {
    const selection = this.active ? this.selectionOf(query) : null;
    const ids = selection ? representations.map(productId) : [];
    if (!selection || ids.some((id) => id === undefined)) return fetch(representations);
    const lookup = await this.store.lookup(ids as string[], selection);
    const cached = lookup.found;
    const missing = cached.flatMap((entry, i) => (entry === undefined ? [i] : []));
    this.stats.hits += cached.length - missing.length;
    this.stats.misses += missing.length;
    metrics.routerEntityCacheLookups.inc({ result: 'hit' }, cached.length - missing.length);
    metrics.routerEntityCacheLookups.inc({ result: 'miss' }, missing.length);
    if (missing.length === 0) return { data: { _entities: cached.map((json) => JSON.parse(json!) as unknown) } };

    const response = await fetch(missing.map((i) => representations[i]));
    const fetched = response.data?._entities;
    if (!Array.isArray(fetched) || fetched.length !== missing.length)
      return missing.length === ids.length ? response : { errors: response.errors ?? [{ message: 'products answered no entities' }] };
    const failed = new Set((response.errors ?? []).map((error) => error.path?.[1]));
    const keep = missing.flatMap((position, j) => {
      const entity = fetched[j] as unknown;
      return entity === null || failed.has(j) ? [] : [{ id: ids[position]!, json: JSON.stringify(entity) }];
    });
    if (keep.length > 0 && this.active) await lookup.keep(keep);
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

  /** The fetch's selection of Product fields, printed, if every field is cacheable; else null. Remembered per text. */
  private selectionOf(query: string): string | null {
    let selection = this.selections.get(query);
    if (selection === undefined) {
      selection = cacheableSelection(query);
      // Query texts come from the gateway's plans, a bounded set; this bound is for safety only.
      if (this.selections.size >= 1_000) this.selections.clear();
      this.selections.set(query, selection);
    }
    return selection;
  }
}

/** `{ __typename: "Product", id }` and nothing else: the product's id; anything else is not cached. */
function productId(representation: unknown): string | undefined {
  if (!representation || typeof representation !== 'object') return undefined;
  const { __typename, id, ...rest } = representation as Record<string, unknown>;
  return __typename === 'Product' && typeof id === 'string' && Object.keys(rest).length === 0 ? id : undefined;
}

/** The printed `_entities` selection of an entity fetch that reads only PRODUCT_FIELDS, or null. */
export function cacheableSelection(query: string): string | null {
  let document;
  try {
    document = parse(query);
  } catch {
    return null;
  }
  const [operation, ...others] = document.definitions;
  if (others.length || operation?.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'query' || operation.directives?.length)
    return null;
  if (operation.variableDefinitions?.some((v) => v.variable.name.value !== 'representations')) return null;
  const [entities, ...more] = operation.selectionSet.selections;
  if (more.length || entities?.kind !== Kind.FIELD || entities.name.value !== '_entities' || entities.alias || entities.directives?.length)
    return null;
  if (!entities.selectionSet || !productFieldsOnly(entities.selectionSet)) return null;
  return print(entities.selectionSet);
}

function productFieldsOnly(selectionSet: SelectionSetNode): boolean {
  return selectionSet.selections.every((selection) => {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      return (
        selection.typeCondition?.name.value === 'Product' &&
        !selection.directives?.length &&
        fieldsIn(selection.selectionSet, PRODUCT_FIELDS)
      );
    }
    return selection.kind === Kind.FIELD && selection.name.value === '__typename' && plain(selection);
  });
}

const plain = (field: FieldNode) => !field.alias && !field.arguments?.length && !field.directives?.length;

function fieldsIn(selectionSet: SelectionSetNode, allowed: Record<string, Set<string> | null>): boolean {
  return selectionSet.selections.every((selection) => {
    if (selection.kind !== Kind.FIELD || !plain(selection) || !Object.hasOwn(allowed, selection.name.value)) return false;
    const subfields = allowed[selection.name.value];
    if (!subfields) return !selection.selectionSet;
    return (
      !!selection.selectionSet &&
      selection.selectionSet.selections.every(
        (sub) => sub.kind === Kind.FIELD && plain(sub) && !sub.selectionSet && subfields.has(sub.name.value),
      )
    );
  });
}
