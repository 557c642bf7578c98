import { appendEvents, event, type NewEvent } from '@shop/subgraph';
import type { OrdersDatabase } from './db/orders-repository.js';
import { outbox, type OrderRow } from './db/schema.js';

/** The events of an order's changes of status (../shared/contract/events.md); FAILED orders have none. */
export const orderEvents = {
  placed: (order: OrderRow, items: { productId: string; quantity: number; unitPrice: { amount: number; currency: string } }[]) =>
    event('shop.order.placed', order.id, {
      orderId: order.id,
      buyerId: order.buyerId,
      status: 'PENDING',
      total: { amount: order.totalAmount, currency: order.currency },
      items,
    }),
  paid: (order: OrderRow) =>
    event('shop.order.paid', order.id, {
      orderId: order.id,
      buyerId: order.buyerId,
      status: 'PAID',
      total: { amount: order.totalAmount, currency: order.currency },
      paidAt: (order.paidAt ?? order.updatedAt).toISOString(),
    }),
  cancelled: (order: OrderRow, reason: 'BUYER' | 'EXPIRED') =>
    event('shop.order.cancelled', order.id, { orderId: order.id, buyerId: order.buyerId, status: 'CANCELLED', reason }),
};

type Transaction = Parameters<Parameters<OrdersDatabase['transaction']>[0]>[0];

/** Appends order events to the outbox in the caller's transaction. */
export function appendOrderEvents(tx: Transaction | OrdersDatabase, events: readonly NewEvent[]): Promise<void> {
  return appendEvents(tx, outbox, events);
}
