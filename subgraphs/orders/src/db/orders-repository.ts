import { and, asc, count, countDistinct, desc, eq, getTableColumns, inArray, lte, sql, sum, type SQL } from 'drizzle-orm';
import type { Database } from '@shop/kit/db';
import * as tables from './schema.js';
import { orderItems, orders, type OrderItemRow, type OrderRow, type OrderState } from './schema.js';

export type OrdersDatabase = Database<typeof tables>;

/** States a client may see; the others are the saga's own business. */
export const VISIBLE_STATES: OrderState[] = ['PENDING', 'PAYING', 'PAID', 'CANCELLED'];
const visible = inArray(orders.state, VISIBLE_STATES);

export function findOrdersByIds(db: OrdersDatabase, ids: readonly string[]): Promise<OrderRow[]> {
  return db.select().from(orders).where(inArray(orders.id, [...ids]));
}

export function findItemsByOrderIds(db: OrdersDatabase, orderIds: readonly string[]): Promise<OrderItemRow[]> {
  return db.select().from(orderItems).where(inArray(orderItems.orderId, [...orderIds])).orderBy(asc(orderItems.position));
}

/**
 * The newest visible orders of several buyers in one statement: each buyer's orders are ranked newest first and
 * cut at `limit`, after the cursor's (createdAt, id) when there is one.
 */
export async function listOrdersOfBuyers(
  db: OrdersDatabase,
  buyerIds: readonly string[],
  limit: number,
  after: { createdAt: Date; id: string } | null,
): Promise<OrderRow[]> {
  const keyset: SQL | undefined = after
    ? sql`(${orders.createdAt}, ${orders.id}) < (${after.createdAt.toISOString()}, ${after.id})`
    : undefined;
  const ranked = db
    .select({
      ...getTableColumns(orders),
      rank: sql<number>`row_number() over (partition by ${orders.buyerId} order by ${orders.createdAt} desc, ${orders.id} desc)`.as('rank'),
    })
    .from(orders)
    .where(and(inArray(orders.buyerId, [...buyerIds]), visible, keyset))
    .as('ranked');
  const rows = await db
    .select()
    .from(ranked)
    .where(lte(ranked.rank, limit))
    .orderBy(asc(ranked.buyerId), desc(ranked.createdAt), desc(ranked.id));
  return rows.map(({ rank: _rank, ...order }) => order as OrderRow);
}

export async function countOrdersOfBuyers(db: OrdersDatabase, buyerIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await db
    .select({ buyerId: orders.buyerId, total: count() })
    .from(orders)
    .where(and(inArray(orders.buyerId, [...buyerIds]), visible))
    .groupBy(orders.buyerId);
  return new Map(rows.map((row) => [row.buyerId, row.total]));
}

export interface SalesRow {
  productId: string;
  unitsSold: number;
  orderCount: number;
  revenue: number;
}

/** Sales of several products over PAID orders, in one statement. */
export async function salesOfProducts(db: OrdersDatabase, productIds: readonly string[]): Promise<SalesRow[]> {
  const rows = await db
    .select({
      productId: orderItems.productId,
      unitsSold: sum(orderItems.quantity).mapWith(Number),
      orderCount: countDistinct(orderItems.orderId),
      revenue: sum(sql`${orderItems.quantity} * ${orderItems.unitPriceAmount}`).mapWith(Number),
    })
    .from(orderItems)
    .innerJoin(orders, eq(orders.id, orderItems.orderId))
    .where(and(inArray(orderItems.productId, [...productIds]), eq(orders.state, 'PAID')))
    .groupBy(orderItems.productId);
  return rows;
}
