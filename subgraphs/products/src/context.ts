import DataLoader from 'dataloader';
import { authenticate, isUuid, type EventFeed, type SubscriptionConnection, type Viewer } from '@shop/subgraph';
import type { FastifyRequest } from 'fastify';
import { findProductsByIds, type ProductsDatabase } from './db/products-repository.js';
import type { ProductRow } from './db/schema.js';

export interface Context {
  viewer: Viewer | null;
  db: ProductsDatabase;
  /** Per request: N product references cost one statement, and no data is shared across callers. */
  productById: DataLoader<string, ProductRow | null>;
  /** The products' events as they are published: what subscriptions listen to. */
  events: EventFeed;
  /** The caller's Authorization; a subscription verifies it itself. */
  authorization: string | undefined;
}

function productLoader(db: ProductsDatabase) {
  return new DataLoader<string, ProductRow | null>(async (ids) => {
    const rows = await findProductsByIds(db, ids.filter(isUuid));
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

export async function createContext(request: FastifyRequest, db: ProductsDatabase, events: EventFeed): Promise<Context> {
  return { viewer: await authenticate(request), db, productById: productLoader(db), events, authorization: request.headers.authorization };
}

export async function createSubscriptionContext(
  connection: SubscriptionConnection,
  db: ProductsDatabase,
  events: EventFeed,
): Promise<Context> {
  return { viewer: null, db, productById: productLoader(db), events, authorization: connection.authorization };
}
