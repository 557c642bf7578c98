import { and, asc, count, countDistinct, desc, eq, getTableColumns, inArray, sql, sum } from 'drizzle-orm';
import { preparedPerDatabase, preparedPerShape, type Database } from '@shop/subgraph';
import * as tables from './schema.js';
import { orderItems, orders, type OrderItemRow, type OrderRow, type OrderState } from './schema.js';

export type OrdersDatabase = Database<typeof tables>;

/** States a client may see; the others are the saga's own business. */
export const VISIBLE_STATES: OrderState[] = ['PENDING', 'PAYING', 'PAID', 'CANCELLED'];
const visible = inArray(orders.state, VISIBLE_STATES);

const ordersByIds = preparedPerDatabase((db: OrdersDatabase) =>
  db
    .select()
    .from(orders)
    .where(sql`${orders.id} = any(${sql.placeholder('ids')})`)
    .prepare('orders_by_ids'),
);

export function findOrdersByIds(db: OrdersDatabase, ids: readonly string[]): Promise<OrderRow[]> {
  return ordersByIds(db).execute({ ids: [...ids] });
}

const itemsByOrderIds = preparedPerDatabase((db: OrdersDatabase) =>
  db
    .select()
    .from(orderItems)
    .where(sql`${orderItems.orderId} = any(${sql.placeholder('orderIds')})`)
    .orderBy(asc(orderItems.position))
    .prepare('items_by_order_ids'),
);

export function findItemsByOrderIds(db: OrdersDatabase, orderIds: readonly string[]): Promise<OrderItemRow[]> {
  return itemsByOrderIds(db).execute({ orderIds: [...orderIds] });
}

/**
 * Each buyer's visible orders ranked newest first, cut at `limit`; with `keyset`, only those before the
 * cursor's (createdAt, id); with `items`, each order's lines too, so that a page that shows them is one round
 * trip instead of two. A statement per shape, each prepared once.
 */
const ordersOfBuyersPage = preparedPerShape((db: OrdersDatabase, { keyset, items }: { keyset: boolean; items: boolean }) => {
  const before = keyset
    ? sql`(${orders.createdAt}, ${orders.id}) < (${sql.placeholder('afterCreatedAt')}::timestamptz, ${sql.placeholder('afterId')}::uuid)`
    : undefined;
  const ranked = db
    .select({
      ...getTableColumns(orders),
      rank: sql<number>`row_number() over (partition by ${orders.buyerId} order by ${orders.createdAt} desc, ${orders.id} desc)`.as('rank'),
      // On a first page the window sees all of a buyer's visible orders, so totalCount needs no statement of
      // its own; after a cursor it sees only the later ones, and the count statement answers instead.
      buyerTotal: (keyset ? sql<number | null>`null::int` : sql<number | null>`(count(*) over (partition by ${orders.buyerId}))::int`).as(
        'buyer_total',
      ),
    })
    .from(orders)
    .where(and(sql`${orders.buyerId} = any(${sql.placeholder('buyerIds')})`, visible, before))
    .as('ranked');
  // Lines are gathered only for the rows of the page, after the window has cut it.
  const lines = sql<OrderItemRow[] | null>`(select json_agg(json_build_object(
      'orderId', i.order_id, 'productId', i.product_id, 'position', i.position, 'quantity', i.quantity,
      'unitPriceAmount', i.unit_price_amount, 'currency', i.currency) order by i.position)
    from ${orderItems} i where i.order_id = ${ranked.id})`.as('lines');
  return db
    .select({ ...ranked._.selectedFields, lines: items ? lines : sql<null>`null::json`.as('lines') })
    .from(ranked)
    .where(sql`${ranked.rank} <= ${sql.placeholder('limit')}`)
    .orderBy(asc(ranked.buyerId), desc(ranked.createdAt), desc(ranked.id))
    .prepare(`orders_of_buyers${keyset ? '_after' : ''}${items ? '_with_items' : ''}`);
});

/** An order on a buyer's page, with the buyer's count of visible orders when the statement knows it. */
export interface PagedOrder {
  order: OrderRow;
  buyerTotal: number | null;
  /** The order's lines, when they were asked for. */
  items: OrderItemRow[] | null;
}

/** The newest visible orders of several buyers in one statement, after the cursor's (createdAt, id) if any. */
export async function listOrdersOfBuyers(
  db: OrdersDatabase,
  buyerIds: readonly string[],
  limit: number,
  after: { createdAt: Date; id: string } | null,
  items = false,
): Promise<PagedOrder[]> {
  const rows = after
    ? await ordersOfBuyersPage(db, { keyset: true, items }).execute({
        buyerIds: [...buyerIds],
        limit,
        afterCreatedAt: after.createdAt.toISOString(),
        afterId: after.id,
      })
    : await ordersOfBuyersPage(db, { keyset: false, items }).execute({ buyerIds: [...buyerIds], limit });
  return rows.map(({ rank: _rank, buyerTotal, lines, ...order }) => ({
    order: order as OrderRow,
    buyerTotal: buyerTotal === null ? null : Number(buyerTotal),
    items: items ? (lines ?? []) : null,
  }));
}

const orderCountsOfBuyers = preparedPerDatabase((db: OrdersDatabase) =>
  db
    .select({ buyerId: orders.buyerId, total: count() })
    .from(orders)
    .where(and(sql`${orders.buyerId} = any(${sql.placeholder('buyerIds')})`, visible))
    .groupBy(orders.buyerId)
    .prepare('order_counts_of_buyers'),
);

export async function countOrdersOfBuyers(db: OrdersDatabase, buyerIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await orderCountsOfBuyers(db).execute({ buyerIds: [...buyerIds] });
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
      // In bigint: a sum over many orders passes 2^31 long before it passes what a double holds exactly.
      revenue: sum(sql`${orderItems.quantity}::bigint * ${orderItems.unitPriceAmount}`).mapWith(Number),
    })
    .from(orderItems)
    .innerJoin(orders, eq(orders.id, orderItems.orderId))
    .where(and(inArray(orderItems.productId, [...productIds]), eq(orders.state, 'PAID')))
    .groupBy(orderItems.productId);
  return rows;
}
