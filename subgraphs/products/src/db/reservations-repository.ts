import { and, asc, eq, gte, sql } from 'drizzle-orm';
import { clientError } from '@shop/service';
import { appendProductEvents, productEvents } from '../events.js';
import { products, reservationLines, stockReservations, type ReservationLineRow, type ReservationState } from './schema.js';
import type { ProductsDatabase } from './products-repository.js';

export interface Reservation {
  orderId: string;
  state: ReservationState;
  lines: ReservationLineRow[];
}

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
