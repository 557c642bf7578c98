import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { outboxTable } from '@shop/subgraph/outbox-table';

/**
 * The checkout saga's states. RESERVING, PAYING and FAILED are internal: clients see RESERVING and FAILED
 * orders not at all and PAYING as PENDING.
 *   RESERVING -> PENDING | FAILED;  PENDING -> PAYING | CANCELLED;  PAYING -> PAID | PENDING
 */
export const orderState = pgEnum('order_state', ['RESERVING', 'PENDING', 'PAYING', 'PAID', 'CANCELLED', 'FAILED']);

export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    buyerId: uuid('buyer_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** Hash of the cart, so a reused key with another cart is refused instead of answered with the wrong order. */
    cartFingerprint: text('cart_fingerprint').notNull(),
    state: orderState('state').notNull().default('RESERVING'),
    totalAmount: integer('total_amount').notNull().default(0),
    currency: text('currency').notNull().default(''),
    /** False while the products subgraph has yet to acknowledge the stock side of the current state. */
    stockSettled: boolean('stock_settled').notNull().default(false),
    failureCode: text('failure_code'),
    paymentAttempts: integer('payment_attempts').notNull().default(0),
    chargeId: text('charge_id'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    paidAt: timestamp('paid_at', { withTimezone: true, precision: 3 }),
  },
  (table) => [
    uniqueIndex('orders_buyer_idempotency_key').on(table.buyerId, table.idempotencyKey),
    index('orders_buyer_created_at_id_idx').on(table.buyerId, table.createdAt, table.id),
    // The recovery sweep looks for unfinished work by state and age.
    index('orders_state_updated_at_idx').on(table.state, table.updatedAt),
    index('orders_unsettled_idx')
      .on(table.state)
      .where(sql`not ${table.stockSettled}`),
  ],
);

export const orderItems = pgTable(
  'order_items',
  {
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    productId: uuid('product_id').notNull(),
    position: integer('position').notNull(),
    quantity: integer('quantity').notNull(),
    /** Snapshot of the catalogue price when the stock was reserved. */
    unitPriceAmount: integer('unit_price_amount').notNull().default(0),
    currency: text('currency').notNull().default(''),
  },
  (table) => [
    primaryKey({ columns: [table.orderId, table.productId] }),
    index('order_items_product_idx').on(table.productId),
    check('order_items_quantity_positive', sql`${table.quantity} > 0`),
  ],
);

/**
 * The sandbox payment provider's own ledger. A real provider keeps this on its side; the sandbox keeps it in
 * its own table so that a charge outlives a crash of the orders subgraph, as a real one would.
 */
export const sandboxCharges = pgTable('sandbox_payment_charges', {
  idempotencyKey: text('idempotency_key').primaryKey(),
  chargeId: text('charge_id').notNull(),
  amount: integer('amount').notNull(),
  currency: text('currency').notNull(),
  status: text('status').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/** Events written in the same transaction as the change they describe, published by the relay (docs/events.md). */
export const outbox = outboxTable();

export type OrderRow = typeof orders.$inferSelect;
export type OrderItemRow = typeof orderItems.$inferSelect;
export type OrderState = (typeof orderState.enumValues)[number];
