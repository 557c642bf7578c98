import { and, asc, eq, gt, gte, inArray, sql } from 'drizzle-orm';
import { clientError } from '@shop/service';
import { appendProductEvents, productEvents } from '../events.js';
import { products, reservationLines, stockReservations, type ReservationLineRow, type ReservationState } from './schema.js';
import type { ProductsDatabase } from './products-repository.js';

export interface Reservation {
  orderId: string;
  state: ReservationState;
  lines: ReservationLineRow[];
}

/**
 * The largest order total, in minor units: the orders subgraph records a total as a GraphQL Int (32 bits), so
 * a reservation worth more is refused before it holds anything.
 */
export const MAX_ORDER_TOTAL = 2 ** 31 - 1;

type Executor = Parameters<Parameters<ProductsDatabase['transaction']>[0]>[0];

async function loadReservation(tx: Executor, orderId: string, state: ReservationState): Promise<Reservation> {
  const lines = await tx
    .select()
    .from(reservationLines)
    .where(eq(reservationLines.orderId, orderId))
    .orderBy(asc(reservationLines.productId));
  return { orderId, state, lines };
}

/** Locks an order's reservation row until the transaction ends; every state change goes through it. */
async function lockReservation(tx: Executor, orderId: string) {
  const [row] = await tx.select().from(stockReservations).where(eq(stockReservations.orderId, orderId)).for('update');
  return row;
}

/**
 * Takes stock for every line or for none, in one transaction, and records what was taken before answering.
 * Idempotent per order: the reservation row's primary key makes a second call (even a concurrent one) wait for
 * the first and then return what it recorded. Each line is a conditional decrement, so stock never goes below
 * zero however many checkouts race; lines are taken in product-id order so two orders never deadlock.
 */
export function reserveStock(db: ProductsDatabase, orderId: string, wanted: { productId: string; quantity: number }[]) {
  return db.transaction(async (tx) => {
    const [created] = await tx.insert(stockReservations).values({ orderId, state: 'RESERVED' }).onConflictDoNothing().returning();
    if (!created) {
      const existing = await lockReservation(tx, orderId);
      return loadReservation(tx, orderId, existing!.state);
    }
    const lines: ReservationLineRow[] = [];
    for (const { productId, quantity } of [...wanted].sort((a, b) => (a.productId < b.productId ? -1 : 1))) {
      const [taken] = await tx
        .update(products)
        .set({ stock: sql`${products.stock} - ${quantity}` })
        .where(and(eq(products.id, productId), gte(products.stock, quantity)))
        .returning({ priceAmount: products.priceAmount, priceCurrency: products.priceCurrency, stock: products.stock });
      if (!taken) {
        const [exists] = await tx.select({ id: products.id }).from(products).where(eq(products.id, productId));
        // Throwing rolls back every line taken so far, and the reservation row with them.
        throw exists
          ? clientError('INSUFFICIENT_STOCK', 'Not enough stock for a product in the order', { productId })
          : clientError('BAD_USER_INPUT', 'The order names a product that does not exist', { productId });
      }
      lines.push({ orderId, productId, quantity, unitPriceAmount: taken.priceAmount, currency: taken.priceCurrency });
      await appendProductEvents(tx, [productEvents.stockChanged(productId, taken.stock, -quantity)]);
    }
    // Checked on the prices just read, inside the transaction: throwing rolls every line back, so a refused order
    // holds nothing. A line is at most 1,000 units of a 32-bit price, so the sum is exact in a double.
    if (new Set(lines.map((line) => line.currency)).size > 1) {
      throw clientError('BAD_USER_INPUT', 'The products of an order must share one currency', {
        field: 'items',
        reason: 'MIXED_CURRENCIES',
      });
    }
    if (lines.reduce((sum, line) => sum + line.quantity * line.unitPriceAmount, 0) > MAX_ORDER_TOTAL) {
      throw clientError('BAD_USER_INPUT', `The order total exceeds the largest an order can hold (${MAX_ORDER_TOTAL} minor units)`, {
        field: 'items',
        reason: 'TOTAL_TOO_LARGE',
      });
    }
    await tx.insert(reservationLines).values(lines);
    return { orderId, state: 'RESERVED' as const, lines };
  });
}

/**
 * Gives an order's stock back. For an order with no reservation yet it records a RELEASED one, so that a
 * reservation still on its way can no longer take stock. A committed (paid) order keeps its stock.
 */
export function releaseStock(db: ProductsDatabase, orderId: string) {
  return db.transaction(async (tx) => {
    const [tombstone] = await tx.insert(stockReservations).values({ orderId, state: 'RELEASED' }).onConflictDoNothing().returning();
    if (tombstone) return { orderId, state: 'RELEASED' as const, lines: [] };
    const existing = (await lockReservation(tx, orderId))!;
    const reservation = await loadReservation(tx, orderId, existing.state);
    if (existing.state === 'COMMITTED') throw clientError('INVALID_STATE', 'The order is paid; its stock is sold');
    if (existing.state === 'RESERVED') {
      for (const line of reservation.lines) {
        const [given] = await tx
          .update(products)
          .set({ stock: sql`${products.stock} + ${line.quantity}` })
          .where(eq(products.id, line.productId))
          .returning({ stock: products.stock });
        await appendProductEvents(tx, [productEvents.stockChanged(line.productId, given!.stock, line.quantity)]);
      }
      await tx.update(stockReservations).set({ state: 'RELEASED', updatedAt: new Date() }).where(eq(stockReservations.orderId, orderId));
    }
    return { ...reservation, state: 'RELEASED' as const };
  });
}

/** Marks a paid order's stock as sold. Idempotent; a released reservation cannot be committed. */
export function commitStock(db: ProductsDatabase, orderId: string) {
  return db.transaction(async (tx) => {
    const existing = await lockReservation(tx, orderId);
    if (!existing) throw clientError('NOT_FOUND', 'No stock is held for this order');
    if (existing.state === 'RELEASED') throw clientError('INVALID_STATE', "The order's stock was released");
    if (existing.state === 'RESERVED') {
      await tx.update(stockReservations).set({ state: 'COMMITTED', updatedAt: new Date() }).where(eq(stockReservations.orderId, orderId));
    }
    return loadReservation(tx, orderId, 'COMMITTED');
  });
}

/**
 * Reservations still holding stock, by order id after `after`: the orders subgraph pages through them to find
 * any whose order failed, was cancelled or does not exist, and gives their stock back.
 */
export async function listHeldReservations(db: ProductsDatabase, after: string | null, limit: number): Promise<Reservation[]> {
  const held = await db
    .select({ orderId: stockReservations.orderId })
    .from(stockReservations)
    .where(and(eq(stockReservations.state, 'RESERVED'), after ? gt(stockReservations.orderId, after) : undefined))
    .orderBy(asc(stockReservations.orderId))
    .limit(limit);
  if (held.length === 0) return [];
  const lines = await db
    .select()
    .from(reservationLines)
    .where(
      inArray(
        reservationLines.orderId,
        held.map((row) => row.orderId),
      ),
    )
    .orderBy(asc(reservationLines.productId));
  return held.map(({ orderId }) => ({ orderId, state: 'RESERVED' as const, lines: lines.filter((line) => line.orderId === orderId) }));
}
