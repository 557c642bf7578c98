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

interface Entry {
  /** The entity as JSON: each hit parses its own copy, since the gateway completes entities in place. */
  json: string;
  expiresAt: number;
}

export interface EntityCacheStats {
  hits: number;
  misses: number;
  invalidations: number;
}

type Response = GatewayGraphQLResponse;

export class EntityCache {
  /** Product id -> selection -> entry; a Map's order makes the first key the least recently used product. */
  private readonly products = new Map<string, Map<string, Entry>>();
  /** Selections of the entity fetches seen, by query text: null when a fetch is not cacheable. */
  private readonly selections = new Map<string, string | null>();
  /** Bumped by every invalidation; a fetch stores only products not invalidated since it started. */
  private generation = 0;
  private readonly invalidatedAt = new Map<string, number>();
  /** The generation of the last time everything was dropped: fetches started before it store nothing. */
  private clearedAt = 0;
  /** False while no event source is connected: then nothing is read from or kept in the cache. */
  active = false;
  readonly stats: EntityCacheStats = { hits: 0, misses: 0, invalidations: 0 };

  constructor(private readonly options: { maxProducts: number; ttlMs: number; now?: () => number }) {}

  private now() {
    return this.options.now?.() ?? Date.now();
  }

  /** Products with entries (for tests and metrics). */
  get size(): number {
    return this.products.size;
  }

  /** A product changed: its entries go, and fetches in flight will not store what they read of it. */
  invalidate(productId: string): void {
    this.stats.invalidations++;
    this.generation++;
    this.invalidatedAt.set(productId, this.generation);
    this.products.delete(productId);
    // Only fetches in flight need this; keep it small (those fetches then store nothing).
    if (this.invalidatedAt.size > 10_000) {
      this.invalidatedAt.clear();
      this.clearedAt = this.generation;
    }
  }

  /** Everything goes: the event source was lost, so no entry can be trusted to be current. */
  clear(): void {
    this.generation++;
    this.products.clear();
    this.invalidatedAt.clear();
    this.clearedAt = this.generation;
  }

  /**
   * Answers an `_entities` fetch of products from the cache where it can, and asks `fetch` for the rest (only
   * those representations), keeping what it returns. Anything not cacheable goes to `fetch` whole.
   */
  async entities(query: string, representations: unknown[], fetch: (representations: unknown[]) => Promise<Response>): Promise<Response> {
    const selection = this.active ? this.selectionOf(query) : null;
    const ids = selection ? representations.map(productId) : [];
    if (!selection || ids.some((id) => id === undefined)) return fetch(representations);
    const now = this.now();
    const cached = ids.map((id) => {
      const entry = this.products.get(id!)?.get(selection);
      return entry && entry.expiresAt > now ? entry : undefined;
    });
    const missing = cached.flatMap((entry, i) => (entry ? [] : [i]));
    this.stats.hits += cached.length - missing.length;
    this.stats.misses += missing.length;
    metrics.routerEntityCacheLookups.inc({ result: 'hit' }, cached.length - missing.length);
    metrics.routerEntityCacheLookups.inc({ result: 'miss' }, missing.length);
    for (const [i, entry] of cached.entries()) if (entry) this.touch(ids[i]!);
    if (missing.length === 0) return { data: { _entities: cached.map((entry) => JSON.parse(entry!.json) as unknown) } };

    const startedAt = this.generation;
    const response = await fetch(missing.map((i) => representations[i]));
    const fetched = response.data?._entities;
    if (!Array.isArray(fetched) || fetched.length !== missing.length)
      return missing.length === ids.length ? response : { errors: response.errors ?? [{ message: 'products answered no entities' }] };
    const stale = (id: string) => startedAt < this.clearedAt || (this.invalidatedAt.get(id) ?? 0) > startedAt || !this.active;
    const failed = new Set((response.errors ?? []).map((error) => error.path?.[1]));
    missing.forEach((position, j) => {
      const entity = fetched[j] as unknown;
      const id = ids[position]!;
      if (entity === null || failed.has(j) || stale(id)) return;
      this.store(id, selection, JSON.stringify(entity), now);
    });
    if (missing.length === ids.length) return response;
    // Hits and fetched entities back in the order asked, and the errors' positions with them.
    const entities = cached.map((entry) => (entry ? (JSON.parse(entry.json) as unknown) : undefined));
    missing.forEach((position, j) => (entities[position] = fetched[j]));
    const errors = response.errors?.map((error) =>
      error.path?.[0] === '_entities' && typeof error.path[1] === 'number'
        ? { ...error, path: ['_entities', missing[error.path[1]] ?? error.path[1], ...error.path.slice(2)] }
        : error,
    );
    return { ...response, data: { ...response.data, _entities: entities }, ...(errors && { errors }) };
  }

  private touch(id: string) {
    const selections = this.products.get(id);
    if (!selections) return;
    this.products.delete(id);
    this.products.set(id, selections);
  }

  private store(id: string, selection: string, json: string, now: number) {
    let selections = this.products.get(id);
    if (!selections) {
      if (this.products.size >= this.options.maxProducts) this.products.delete(this.products.keys().next().value!);
      this.products.set(id, (selections = new Map()));
    }
    selections.set(selection, { json, expiresAt: now + this.options.ttlMs });
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
