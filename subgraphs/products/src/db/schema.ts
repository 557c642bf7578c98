import { sql } from 'drizzle-orm';
import { check, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { outboxTable } from '@shop/subgraph/outbox-table';

export const products = pgTable(
  'products',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sku: text('sku').notNull().unique(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    category: text('category').notNull(),
    priceAmount: integer('price_amount').notNull(),
    priceCurrency: text('price_currency').notNull(),
    stock: integer('stock').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [
    // The database itself refuses to oversell, whatever the code above it does.
    check('products_stock_not_negative', sql`${table.stock} >= 0`),
    // One index per sort order, each ending in id, so keyset pages are range scans.
    index('products_created_at_id_idx').on(table.createdAt, table.id),
    index('products_price_id_idx').on(table.priceAmount, table.id),
    index('products_name_id_idx').on(table.name, table.id),
    index('products_category_idx').on(table.category),
  ],
);

export const reservationState = pgEnum('reservation_state', ['RESERVED', 'COMMITTED', 'RELEASED']);

/** One row per order: written in the same transaction as the stock it takes or gives back. */
export const stockReservations = pgTable('stock_reservations', {
  orderId: uuid('order_id').primaryKey(),
  state: reservationState('state').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

export const reservationLines = pgTable(
  'reservation_lines',
  {
    orderId: uuid('order_id')
      .notNull()
      .references(() => stockReservations.orderId),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id),
    quantity: integer('quantity').notNull(),
    unitPriceAmount: integer('unit_price_amount').notNull(),
    currency: text('currency').notNull(),
  },
  (table) => [primaryKey({ columns: [table.orderId, table.productId] }), index('reservation_lines_product_idx').on(table.productId)],
);

/** Events written in the same transaction as the change they describe, published by the relay (docs/events.md). */
export const outbox = outboxTable();

export type ProductRow = typeof products.$inferSelect;
export type ReservationLineRow = typeof reservationLines.$inferSelect;
export type ReservationState = (typeof reservationState.enumValues)[number];
