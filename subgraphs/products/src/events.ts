import { appendEvents, event, type EventData, type NewEvent } from '@shop/subgraph';
import type { ProductsDatabase } from './db/products-repository.js';
import { outbox, type ProductRow } from './db/schema.js';

/** The events of a product's changes (../shared/contract/events.md). */
export const productEvents = {
  created: (row: ProductRow) =>
    event('shop.product.created', row.id, {
      productId: row.id,
      sku: row.sku,
      name: row.name,
      price: { amount: row.priceAmount, currency: row.priceCurrency },
      stock: row.stock,
      category: row.category,
    }),
  /** Only the fields whose value changed, with their new values; nothing when none did. */
  updated: (before: ProductRow, after: ProductRow) => {
    const changed: Omit<EventData['shop.product.updated'], 'productId'> = {
      ...(after.sku !== before.sku && { sku: after.sku }),
      ...(after.name !== before.name && { name: after.name }),
      ...(after.description !== before.description && { description: after.description }),
      ...(after.category !== before.category && { category: after.category }),
      ...((after.priceAmount !== before.priceAmount || after.priceCurrency !== before.priceCurrency) && {
        price: { amount: after.priceAmount, currency: after.priceCurrency },
      }),
    };
    return Object.keys(changed).length === 0 ? [] : [event('shop.product.updated', after.id, { productId: after.id, ...changed })];
  },
  stockChanged: (productId: string, stock: number, delta: number) =>
    event('shop.product.stock_changed', productId, { productId, stock, delta }),
};

type Transaction = Parameters<Parameters<ProductsDatabase['transaction']>[0]>[0];

/** Appends product events to the outbox in the caller's transaction. */
export function appendProductEvents(tx: Transaction | ProductsDatabase, events: readonly NewEvent[]): Promise<void> {
  return appendEvents(tx, outbox, events);
}
