import type { EntityLookup, EntityStore } from './entity-cache.js';

interface Entry {
  json: string;
  expiresAt: number;
}

/** The entity cache's entries in this process's memory (the default): each router replica keeps its own. */
export class MemoryEntityStore implements EntityStore {
  /** Product id -> selection -> entry; a Map's order makes the first key the least recently used product. */
  private readonly products = new Map<string, Map<string, Entry>>();
  /** Bumped by every invalidation; a lookup keeps only products not invalidated since it was made. */
  private generation = 0;
  private readonly invalidatedAt = new Map<string, number>();
  /** The generation of the last time everything was dropped: lookups made before it keep nothing. */
  private clearedAt = 0;

  constructor(private readonly options: { maxProducts: number; ttlMs: number; now?: () => number }) {}

  private now() {
    return this.options.now?.() ?? Date.now();
  }

  /** Products with entries (for tests). */
  get size(): number {
    return this.products.size;
  }

  async lookup(ids: string[], selection: string): Promise<EntityLookup> {
    const now = this.now();
    const startedAt = this.generation;
    const found = ids.map((id) => {
      const entry = this.products.get(id)?.get(selection);
      if (!entry || entry.expiresAt <= now) return undefined;
      this.touch(id);
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

  async invalidate(id: string): Promise<void> {
    this.generation++;
    this.invalidatedAt.set(id, this.generation);
    this.products.delete(id);
    // Only lookups whose fetches are in flight need this; keep it small (those fetches then keep nothing).
    if (this.invalidatedAt.size > 10_000) {
      this.invalidatedAt.clear();
      this.clearedAt = this.generation;
    }
  }

  async clear(): Promise<void> {
    this.generation++;
    this.products.clear();
    this.invalidatedAt.clear();
    this.clearedAt = this.generation;
  }

  async close(): Promise<void> {}

  private touch(id: string) {
    const selections = this.products.get(id);
    if (!selections) return;
    this.products.delete(id);
    this.products.set(id, selections);
  }

  private store(id: string, selection: string, entry: Entry) {
    let selections = this.products.get(id);
    if (!selections) {
      if (this.products.size >= this.options.maxProducts) this.products.delete(this.products.keys().next().value!);
      this.products.set(id, (selections = new Map()));
    }
    selections.set(selection, entry);
  }
}
