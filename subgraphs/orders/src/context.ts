import DataLoader from 'dataloader';
import { authenticate, isUuid, type EventFeed, type SubscriptionConnection, type Viewer } from '@shop/subgraph';
import type { FastifyRequest } from 'fastify';
import type { Checkout } from './checkout.js';
import {
  countOrdersOfBuyers,
  findItemsByOrderIds,
  findOrdersByIds,
  listOrdersOfBuyers,
  salesOfProducts,
  type OrdersDatabase,
  type SalesRow,
} from './db/orders-repository.js';
import type { OrderItemRow, OrderRow } from './db/schema.js';

/** A page request for one buyer's orders; buyers asked for with the same page share one statement. */
export interface OrdersPageKey {
  buyerId: string;
  limit: number;
  after: { createdAt: Date; id: string } | null;
  /** Whether the page shows its orders' lines: then they come in the same statement. */
  items: boolean;
}

function byKey<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): V[][] {
  const groups = new Map<K, V[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key)!);
}

/** A page of one buyer's orders, and their count of visible orders when the page's statement gave it. */
export interface OrdersPage {
  rows: OrderRow[];
  total: number | null;
}

/** Per-request DataLoaders: every list of references costs one statement, whatever its length. */
function createLoaders(db: OrdersDatabase) {
  const loaders = {
    orderById: new DataLoader<string, OrderRow | null>(async (ids) => {
      const rows = await findOrdersByIds(db, ids.filter(isUuid));
      return byKey(ids, rows, (row) => row.id).map((group) => group[0] ?? null);
    }),
    itemsByOrderId: new DataLoader<string, OrderItemRow[]>(async (ids) =>
      byKey(ids, await findItemsByOrderIds(db, ids), (row) => row.orderId),
    ),
    ordersPage: new DataLoader<OrdersPageKey, OrdersPage, string>(
      async (keys) => {
        // In practice every key of one request asks for the same page shape; group by it to be sure.
        const shapes = new Map<string, OrdersPageKey[]>();
        for (const key of keys) {
          const shape = JSON.stringify([key.limit, key.after, key.items]);
          shapes.set(shape, [...(shapes.get(shape) ?? []), key]);
        }
        const pages = new Map<OrdersPageKey, OrdersPage>();
        for (const group of shapes.values()) {
          const buyerIds = group.map((key) => key.buyerId);
          const rows = await listOrdersOfBuyers(db, buyerIds, group[0]!.limit, group[0]!.after, group[0]!.items);
          for (const { order, items } of rows) if (items) loaders.itemsByOrderId.prime(order.id, items);
          byKey(buyerIds, rows, (row) => row.order.buyerId).forEach((page, i) =>
            pages.set(group[i]!, { rows: page.map((row) => row.order), total: page[0]?.buyerTotal ?? null }),
          );
        }
        return keys.map((key) => pages.get(key)!);
      },
      { cacheKeyFn: (key) => JSON.stringify(key) },
    ),
    orderCountOfBuyer: new DataLoader<string, number>(async (buyerIds) => {
      const counts = await countOrdersOfBuyers(db, buyerIds);
      return buyerIds.map((id) => counts.get(id) ?? 0);
    }),
    salesOfProduct: new DataLoader<string, SalesRow | null>(async (productIds) => {
      const rows = await salesOfProducts(db, productIds.filter(isUuid));
      return byKey(productIds, rows, (row) => row.productId).map((group) => group[0] ?? null);
    }),
  };
  return loaders;
}

export type Loaders = ReturnType<typeof createLoaders>;

export interface Context extends Loaders {
  viewer: Viewer | null;
  checkout: Checkout;
  db: OrdersDatabase;
  /** The orders' events as they are published: what subscriptions listen to. */
  events: EventFeed;
  /** The caller's Authorization, which a subscription verifies again for every event. */
  authorization: string | undefined;
}

export async function createContext(request: FastifyRequest, db: OrdersDatabase, checkout: Checkout, events: EventFeed): Promise<Context> {
  return {
    viewer: await authenticate(request),
    checkout,
    db,
    events,
    authorization: request.headers.authorization,
    ...createLoaders(db),
  };
}

/** A subscription's context: its token is verified by the subscription itself, at the start and for every event. */
export async function createSubscriptionContext(
  connection: SubscriptionConnection,
  db: OrdersDatabase,
  checkout: Checkout,
  events: EventFeed,
): Promise<Context> {
  return { viewer: null, checkout, db, events, authorization: connection.authorization, ...createLoaders(db) };
}
