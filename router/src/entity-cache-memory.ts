import type { EntityLookup, EntityStore, RootLookup } from './entity-cache.js';

interface Entry {
  json: string;
  expiresAt: number;
}

/** The entity cache's entries in this process's memory (the default): each router replica keeps its own. */
export class MemoryEntityStore implements EntityStore {
  /** Product id -> selection -> entry; a Map's order makes the first key the least recently used product. */
  private readonly products = new Map<string, Map<string, Entry>>();
  /** Root fields' answers by query and variables, least recently used first. */
  private readonly roots = new Map<string, Entry>();
  /** Bumped by every invalidation; a lookup keeps only products not invalidated since it was made. */
  private generation = 0;
  private readonly invalidatedAt = new Map<string, number>();
  /** The generation of the last time everything was dropped: lookups made before it keep nothing. */
  private clearedAt = 0;

  constructor(private readonly options: { maxProducts: number; maxRootQueries: number; ttlMs: number; now?: () => number }) {}

  private now() {
    return this.options.now?.() ?? Date.now();
  }

  /** Products with entries (for tests). */
  get size(): number {
    return this.products.size;
  }

  /** Root queries with entries (for tests). */
  get rootSize(): number {
    return this.roots.size;
  }

  async lookup(ids: string[], selection: string): Promise<EntityLookup> {
    const now = this.now();
    const startedAt = this.generation;
    const found = ids.map((id) => {
      const entry = this.products.get(id)?.get(selection);
      if (!entry || entry.expiresAt <= now) return undefined;
      touch(this.products, id);
      return entry.json;
    });
    const stale = (id: string) => startedAt < this.clearedAt || (this.invalidatedAt.get(id) ?? 0) > startedAt;
    return {
      found,
      keep: async (entities) => {
        for (const { id, json } of entities) if (!stale(id)) this.store(id, selection, { json, expiresAt: now + this.options.ttlMs });
      },
    };
  }

  async lookupRoot(key: string): Promise<RootLookup> {
    const now = this.now();
    const startedAt = this.generation;
    const entry = this.roots.get(key);
    const found = entry && entry.expiresAt > now ? entry.json : undefined;
    if (found !== undefined) touch(this.roots, key);
    return {
      found,
      keep: async (json) => {
        // Each new generation (a product's change, dropRoots, a clear) dropped every root entry.
        if (this.generation === startedAt)
          setBounded(this.roots, key, { json, expiresAt: now + this.options.ttlMs }, this.options.maxRootQueries);
      },
    };
  }

  async invalidate(id: string): Promise<void> {
    this.generation++;
    this.invalidatedAt.set(id, this.generation);
    this.products.delete(id);
    this.roots.clear();
    // Only lookups whose fetches are in flight need this; keep it small (those fetches then keep nothing).
    if (this.invalidatedAt.size > 10_000) {
      this.invalidatedAt.clear();
      this.clearedAt = this.generation;
    }
  }

  async dropRoots(): Promise<void> {
    this.generation++;
    this.roots.clear();
  }

  async clear(): Promise<void> {
    this.generation++;
    this.products.clear();
    this.roots.clear();
    this.invalidatedAt.clear();
    this.clearedAt = this.generation;
  }

  async close(): Promise<void> {}

  private store(id: string, selection: string, entry: Entry) {
    const selections = this.products.get(id) ?? setBounded(this.products, id, new Map<string, Entry>(), this.options.maxProducts);
    selections.set(selection, entry);
  }
}

/** Makes `key` the most recently used of `map`. */
function touch<V>(map: Map<string, V>, key: string) {
  const value = map.get(key);
  if (value === undefined) return;
  map.delete(key);
  map.set(key, value);
}

/** Sets `key` as the most recently used, dropping the least recently used key past `max`; returns the value. */
function setBounded<V>(map: Map<string, V>, key: string, value: V, max: number): V {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, value);
  return value;
}
