import DataLoader from 'dataloader';
import { authenticate, isUuid, type Viewer } from '@shop/subgraph';
import type { FastifyRequest } from 'fastify';
import { findProductsByIds, type ProductsDatabase } from './db/products-repository.js';
import type { ProductRow } from './db/schema.js';

export interface Context {
  viewer: Viewer | null;
  db: ProductsDatabase;
  /** Per request: N product references cost one statement, and no data is shared across callers. */
  productById: DataLoader<string, ProductRow | null>;
}

export async function createContext(request: FastifyRequest, db: ProductsDatabase): Promise<Context> {
  return {
    viewer: await authenticate(request),
    db,
    productById: new DataLoader(async (ids) => {
      const rows = await findProductsByIds(db, ids.filter(isUuid));
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}
