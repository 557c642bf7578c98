import { createHash, randomUUID } from 'node:crypto';
import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import { clientError, type ErrorCode, type Logger } from '@shop/service';
import { isUuid, type Viewer } from '@shop/subgraph';
import { orderItems, orders, type OrderRow, type OrderState } from './db/schema.js';
import type { OrdersDatabase } from './db/orders-repository.js';
import { appendOrderEvents, orderEvents } from './events.js';
import { PaymentTimeoutError, type ChargeResult, type PaymentProvider } from './payments/sandbox-provider.js';
import { StockError, type ProductsClient } from './products-client.js';

export const MAX_ORDER_LINES = 50;
export const MAX_LINE_QUANTITY = 1_000;

export interface CheckoutTimings {
  /** Unpaid orders are cancelled this long after they were placed (`ORDER_HOLD_MINUTES`). */
  holdMs: number;
  /** A reservation whose request has not finished after this long is abandoned and its stock released. */
  reservingTimeoutMs: number;
  /**
   * The charge call's deadline (`PAYMENT_TIMEOUT_MS`): a payment request waits this long for the provider. An
   * attempt still unconfirmed a margin after its deadline is settled by recovery, which closes it at the provider.
   */
  payingTimeoutMs: number;
}

/**
 * How long after an attempt's deadline recovery waits before it closes the attempt: time for an answer that
 * left the provider just before the deadline to be recorded by the request that asked for it.
 */
export const PAYMENT_SETTLE_MARGIN_MS = 1_000;

/** Reservations the reconciliation looks at per recovery pass. */
const RECONCILE_PAGE = 200;

/** The largest order total in minor units: totals are GraphQL Ints (32 bits), as in the client contract. */
export const MAX_ORDER_TOTAL = 2 ** 31 - 1;

/**
 * Why an order FAILED (its `failureCode`), and what every request with its idempotency key is told. Products
 * refuses a total or a mix of currencies with BAD_USER_INPUT and a reason of its own, kept here.
 */
const FAILURES: Record<string, { code: ErrorCode; message: string }> = {
  INSUFFICIENT_STOCK: { code: 'INSUFFICIENT_STOCK', message: 'Not enough stock for a product in the order' },
  BAD_USER_INPUT: { code: 'BAD_USER_INPUT', message: 'The order names a product that does not exist' },
  TOTAL_TOO_LARGE: {
    code: 'BAD_USER_INPUT',
    message: `The order total exceeds the largest an order can hold (${MAX_ORDER_TOTAL} minor units); split it into smaller orders`,
  },
  MIXED_CURRENCIES: { code: 'BAD_USER_INPUT', message: 'The products of an order must share one currency' },
  SERVICE_UNAVAILABLE: {
    code: 'SERVICE_UNAVAILABLE',
    message: 'Checkout could not reserve the stock in time; place the order again with a new idempotency key',
  },
};

/** The promise's outcome, or a PaymentTimeoutError once `deadline` (epoch ms) has passed. */
async function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PaymentTimeoutError('no answer from the payment provider before the deadline')),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Merges repeated products and checks sizes; the fingerprint identifies the cart whatever its line order. */
function normaliseCart(items: { productId: string; quantity: number }[]) {
  if (items.length === 0 || items.length > MAX_ORDER_LINES) {
    throw clientError('BAD_USER_INPUT', `An order has 1 to ${MAX_ORDER_LINES} lines`, { field: 'items' });
  }
  const quantities = new Map<string, number>();
  for (const { productId, quantity } of items) {
    if (!isUuid(productId)) throw clientError('BAD_USER_INPUT', 'The order names a product that does not exist', { field: 'items' });
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_LINE_QUANTITY) {
      throw clientError('BAD_USER_INPUT', `quantity must be a whole number from 1 to ${MAX_LINE_QUANTITY}`, { field: 'items' });
    }
    quantities.set(productId.toLowerCase(), (quantities.get(productId.toLowerCase()) ?? 0) + quantity);
  }
  const lines = [...quantities].map(([productId, quantity]) => ({ productId, quantity }));
  if (lines.some((line) => line.quantity > MAX_LINE_QUANTITY)) {
    throw clientError('BAD_USER_INPUT', `quantity must be a whole number from 1 to ${MAX_LINE_QUANTITY}`, { field: 'items' });
  }
  const sorted = [...lines].sort((a, b) => (a.productId < b.productId ? -1 : 1));
  const fingerprint = createHash('sha256').update(JSON.stringify(sorted)).digest('base64url');
  return { lines, fingerprint };
}

/**
 * The checkout saga. Each order is a row whose state says which step is next; every step first records its
 * intent in the orders database, then asks the products subgraph or the payment provider (both idempotent per
 * order), then records the outcome. Whatever a crash interrupts, `recover` finds by state and finishes.
 */
export class Checkout {
  /** Where the reconciliation of held stock continues on the next pass (an order id), or from the start. */
  private reconcileAfter: string | null = null;

  constructor(
    private readonly db: OrdersDatabase,
    private readonly products: ProductsClient,
    private readonly payments: PaymentProvider,
    private readonly timings: CheckoutTimings,
    private readonly logger: Logger,
  ) {}

  async place(buyerId: string, items: { productId: string; quantity: number }[], idempotencyKey: string): Promise<OrderRow> {
    if (idempotencyKey.length < 1 || idempotencyKey.length > 100) {
      throw clientError('BAD_USER_INPUT', 'idempotencyKey must be 1 to 100 characters', { field: 'idempotencyKey' });
    }
    const { lines, fingerprint } = normaliseCart(items);
    // Step 1, durable intent: the order and its lines exist (RESERVING) before any stock is asked for.
    let order = await this.db.transaction(async (tx) => {
      const id = randomUUID();
      const [created] = await tx
        .insert(orders)
        .values({ id, buyerId, idempotencyKey, cartFingerprint: fingerprint })
        .onConflictDoNothing()
        .returning();
      if (created) {
        await tx.insert(orderItems).values(lines.map((line, position) => ({ orderId: id, position, ...line })));
        return created;
      }
      const [existing] = await tx
        .select()
        .from(orders)
        .where(and(eq(orders.buyerId, buyerId), eq(orders.idempotencyKey, idempotencyKey)));
      return existing!;
    });
    if (order.cartFingerprint !== fingerprint) {
      throw clientError('BAD_USER_INPUT', 'This idempotencyKey was already used for a different cart', { field: 'idempotencyKey' });
    }
    // Every request with this key drives the same order forward; the reservation is idempotent per order.
    if (order.state === 'RESERVING') order = await this.reserve(order, lines);
    if (order.state === 'FAILED') {
      const failure = FAILURES[order.failureCode ?? 'SERVICE_UNAVAILABLE'] ?? FAILURES.SERVICE_UNAVAILABLE!;
      throw clientError(failure.code, failure.message, failure.code === 'BAD_USER_INPUT' ? { field: 'items' } : {});
    }
    return order;
  }

  /** Step 2: hold the stock, then record the prices it was held at and show the order (PENDING). */
  private async reserve(order: OrderRow, lines: { productId: string; quantity: number }[]): Promise<OrderRow> {
    let reservation;
    try {
      reservation = await this.products.reserve(order.id, lines);
    } catch (error) {
      if (error instanceof StockError && (error.code === 'INSUFFICIENT_STOCK' || error.code === 'BAD_USER_INPUT')) {
        // The products transaction rolled back: nothing is held, so there is nothing to release.
        const failureCode = error.reason && error.reason in FAILURES ? error.reason : error.code;
        return this.move(order.id, 'RESERVING', { state: 'FAILED', failureCode, stockSettled: true });
      }
      this.logger.warn({ err: error, orderId: order.id }, 'stock reservation did not complete');
      throw clientError('SERVICE_UNAVAILABLE', 'Checkout is unavailable right now; send the same request again to retry');
    }
    if (reservation.state === 'RELEASED') {
      // Recovery gave up on this order before the reservation arrived; the products side refused it.
      return this.move(order.id, 'RESERVING', { state: 'FAILED', failureCode: 'SERVICE_UNAVAILABLE', stockSettled: true });
    }
    const total = reservation.lines.reduce((sum, line) => sum + line.quantity * line.unitPrice.amount, 0);
    const currency = reservation.lines[0]!.unitPrice.currency;
    // Products refuses these itself; checked again here so that no total an Int cannot hold is ever recorded.
    const refusal = reservation.lines.some((line) => line.unitPrice.currency !== currency)
      ? 'MIXED_CURRENCIES'
      : total > MAX_ORDER_TOTAL
        ? 'TOTAL_TOO_LARGE'
        : undefined;
    if (refusal) {
      const failed = await this.move(order.id, 'RESERVING', { state: 'FAILED', failureCode: refusal, stockSettled: false });
      return failed.state === 'FAILED' && !failed.stockSettled ? this.settleStock(failed) : failed;
    }
    const placed = await this.db.transaction(async (tx) => {
      const [pending] = await tx
        .update(orders)
        .set({ state: 'PENDING', totalAmount: total, currency, stockSettled: true, updatedAt: new Date() })
        .where(and(eq(orders.id, order.id), eq(orders.state, 'RESERVING')))
        .returning();
      if (!pending) return this.reload(order.id, tx); // a concurrent request with the same key got there first
      const prices = sql.join(
        reservation.lines.map((line) => sql`(${line.productId}::uuid, ${line.unitPrice.amount}::int, ${line.unitPrice.currency})`),
        sql`, `,
      );
      await tx.execute(sql`
        update ${orderItems} set unit_price_amount = v.amount, currency = v.currency
        from (values ${prices}) as v(product_id, amount, currency)
        where ${orderItems.orderId} = ${order.id} and ${orderItems.productId} = v.product_id`);
      const unitPrices = new Map(reservation.lines.map((line) => [line.productId, line.unitPrice]));
      await appendOrderEvents(tx, [
        orderEvents.placed(
          pending,
          lines.map((line) => ({ ...line, unitPrice: unitPrices.get(line.productId)! })),
        ),
      ]);
      return pending;
    });
    if (placed.state === 'FAILED' && placed.stockSettled && reservation.state === 'RESERVED') {
      // A concurrent request with the same key failed the order (INSUFFICIENT_STOCK, say) while this one's
      // reservation went through on stock released meanwhile: that stock belongs to no order, so it goes back.
      const [unsettled] = await this.db
        .update(orders)
        .set({ stockSettled: false })
        .where(and(eq(orders.id, order.id), eq(orders.state, 'FAILED')))
        .returning();
      if (unsettled) return this.settleStock(unsettled);
    }
    return placed;
  }

  async pay(viewer: Viewer, orderId: string, paymentToken: string): Promise<OrderRow> {
    const order = await this.ownOrder(viewer, orderId);
    if (paymentToken.length < 1 || paymentToken.length > 200) {
      throw clientError('BAD_USER_INPUT', 'paymentToken must be 1 to 200 characters', { field: 'paymentToken' });
    }
    // Step 3, durable intent: PAYING blocks a cancel, so the order is never both charged and cancelled.
    const [paying] = await this.db
      .update(orders)
      .set({ state: 'PAYING', paymentAttempts: sql`${orders.paymentAttempts} + 1`, updatedAt: new Date() })
      .where(and(eq(orders.id, order.id), eq(orders.state, 'PENDING')))
      .returning();
    if (!paying) throw clientError('INVALID_STATE', `Only a PENDING order can be paid`);
    // The attempt is recorded (PAYING, its number, its start in updatedAt) before the provider is asked; its
    // deadline follows from its start, so recovery knows when it may close it.
    const deadline = paying.updatedAt.getTime() + this.timings.payingTimeoutMs;
    const charge = this.payments.charge({
      idempotencyKey: Checkout.paymentKey(paying),
      amount: paying.totalAmount,
      currency: paying.currency,
      token: paymentToken,
    });
    let result: ChargeResult;
    try {
      result = await beforeDeadline(charge, deadline);
    } catch (error) {
      // No answer: the charge may exist or still be on its way. The order stays PAYING until the answer comes
      // (recorded below whenever it arrives) or recovery closes the attempt at the provider after the deadline.
      this.logger.warn({ err: error, orderId }, error instanceof PaymentTimeoutError ? 'payment timed out' : 'payment failed');
      charge
        .then(
          (late) => this.recordCharge(paying, late),
          () => undefined,
        )
        .catch((lateError: unknown) =>
          this.logger.warn({ err: lateError, orderId }, 'late payment answer not recorded; recovery will settle it'),
        );
      throw clientError('SERVICE_UNAVAILABLE', 'The payment could not be confirmed yet; the order stays reserved while it is checked');
    }
    const recorded = await this.recordCharge(paying, result);
    if (result.status === 'declined') throw clientError('PAYMENT_DECLINED', 'The payment was declined; the order is still PENDING');
    if (result.status === 'invalid_token') {
      throw clientError('BAD_USER_INPUT', 'paymentToken is not a payment method the provider knows', { field: 'paymentToken' });
    }
    if (result.status !== 'succeeded') {
      throw clientError('SERVICE_UNAVAILABLE', 'The payment could not be confirmed; the order is still PENDING');
    }
    return recorded;
  }

  private static paymentKey(order: OrderRow): string {
    return `${order.id}:${order.paymentAttempts}`;
  }

  /**
   * Step 4: record the provider's answer to one attempt. Only the order still PAYING with that very attempt
   * moves, so a late answer can neither undo a settled order nor settle a newer attempt. A charge that finds its
   * order no longer waiting for it (which a provider honouring closed attempts never allows) is refunded: an
   * order that is not PAID keeps no charge.
   */
  private async recordCharge(order: OrderRow, result: ChargeResult): Promise<OrderRow> {
    const attempt = and(eq(orders.id, order.id), eq(orders.state, 'PAYING'), eq(orders.paymentAttempts, order.paymentAttempts));
    if (result.status === 'succeeded') {
      // The move and its event are one transaction: both happen or neither.
      const paid = await this.db.transaction(async (tx) => {
        const [row] = await tx
          .update(orders)
          .set({ state: 'PAID', paidAt: result.createdAt, chargeId: result.chargeId, stockSettled: false, updatedAt: new Date() })
          .where(attempt)
          .returning();
        if (row) await appendOrderEvents(tx, [orderEvents.paid(row)]);
        return row;
      });
      if (paid) return this.settleStock(paid);
      const now = await this.reload(order.id);
      if (now.state === 'PAID' && now.chargeId === result.chargeId) return now;
      this.logger.error(
        { orderId: order.id, chargeId: result.chargeId, state: now.state },
        'a charge landed on an order not waiting for it; refunding it',
      );
      await this.payments.refund(Checkout.paymentKey(order));
      return now;
    }
    const [pending] = await this.db.update(orders).set({ state: 'PENDING', updatedAt: new Date() }).where(attempt).returning();
    return pending ?? this.reload(order.id);
  }

  async cancel(viewer: Viewer, orderId: string): Promise<OrderRow> {
    const order = await this.ownOrder(viewer, orderId);
    const cancelled = await this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(orders)
        .set({ state: 'CANCELLED', stockSettled: false, updatedAt: new Date() })
        .where(and(eq(orders.id, order.id), eq(orders.state, 'PENDING')))
        .returning();
      if (row) await appendOrderEvents(tx, [orderEvents.cancelled(row, 'BUYER')]);
      return row;
    });
    if (!cancelled) throw clientError('INVALID_STATE', 'Only a PENDING order can be cancelled');
    return this.settleStock(cancelled);
  }

  /** The caller's own visible order, for pay and cancel. */
  private async ownOrder(viewer: Viewer, orderId: string): Promise<OrderRow> {
    const order = isUuid(orderId) ? await this.reload(orderId).catch(() => undefined) : undefined;
    if (!order || order.state === 'RESERVING' || order.state === 'FAILED') throw clientError('NOT_FOUND', 'No order has this id');
    if (order.buyerId !== viewer.id) throw clientError('FORBIDDEN', 'This is not your order');
    return order;
  }

  /**
   * The stock side of a final state: a paid order's stock is committed, a cancelled or failed one's released.
   * Best effort here; recovery retries whatever is still unsettled.
   */
  private async settleStock(order: OrderRow): Promise<OrderRow> {
    try {
      if (order.state === 'PAID') await this.products.commit(order.id);
      else await this.products.release(order.id);
    } catch (error) {
      this.logger.warn({ err: error, orderId: order.id, state: order.state }, 'stock not settled yet; recovery will retry');
      return order;
    }
    const [settled] = await this.db
      .update(orders)
      .set({ stockSettled: true })
      .where(and(eq(orders.id, order.id), eq(orders.state, order.state)))
      .returning();
    return settled ?? order;
  }

  /** Moves an order from one state to another if it is still in the first; returns where it stands either way. */
  private async move(
    id: string,
    from: OrderState,
    changes: Partial<OrderRow>,
    eventsOf?: (moved: OrderRow) => ReturnType<(typeof orderEvents)[keyof typeof orderEvents]>[],
  ): Promise<OrderRow> {
    // With events, the move and its events are one transaction: both happen or neither.
    const moved = await this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(orders)
        .set({ ...changes, updatedAt: new Date() })
        .where(and(eq(orders.id, id), eq(orders.state, from)))
        .returning();
      if (row && eventsOf) await appendOrderEvents(tx, eventsOf(row));
      return row;
    });
    return moved ?? this.reload(id);
  }

  /** Reads an order; inside a transaction, pass it (PGlite has one connection, which the transaction holds). */
  private async reload(id: string, executor: OrdersDatabase = this.db): Promise<OrderRow> {
    const [row] = await executor.select().from(orders).where(eq(orders.id, id));
    if (!row) throw new Error(`order ${id} vanished`);
    return row;
  }

  /**
   * Finishes whatever a crash or an outage left unfinished, oldest first. Runs at start-up and then on a timer;
   * safe to run anywhere at any time, because every step it takes is conditional on the state it found.
   */
  async recover(now = new Date()): Promise<number> {
    let finished = 0;
    const before = (ms: number) => new Date(now.getTime() - ms);
    // A reservation whose request died: fail the order first, so its request can no longer show it...
    const abandoned = await this.db
      .update(orders)
      .set({ state: 'FAILED', failureCode: 'SERVICE_UNAVAILABLE', stockSettled: false, updatedAt: now })
      .where(and(eq(orders.state, 'RESERVING'), lt(orders.updatedAt, before(this.timings.reservingTimeoutMs))))
      .returning({ id: orders.id });
    // ...and orders left unpaid past the hold time are cancelled.
    const expired = await this.db.transaction(async (tx) => {
      const rows = await tx
        .update(orders)
        .set({ state: 'CANCELLED', stockSettled: false, updatedAt: now })
        .where(and(eq(orders.state, 'PENDING'), lt(orders.createdAt, before(this.timings.holdMs))))
        .returning();
      await appendOrderEvents(
        tx,
        rows.map((row) => orderEvents.cancelled(row, 'EXPIRED')),
      );
      return rows;
    });
    finished += abandoned.length + expired.length;

    // A payment whose answer never came, a margin past its deadline: closing the attempt at the provider returns
    // the charge if it was made, and otherwise makes sure no request still on its way can make it. Only then is
    // "not charged" a conclusion, and the order payable again.
    const unconfirmed = await this.db
      .select()
      .from(orders)
      .where(and(eq(orders.state, 'PAYING'), lt(orders.updatedAt, before(this.timings.payingTimeoutMs + PAYMENT_SETTLE_MARGIN_MS))))
      .limit(100);
    for (const order of unconfirmed) {
      await this.recordCharge(order, await this.payments.closeAttempt(Checkout.paymentKey(order)));
      finished += 1;
    }

    // Then the stock side of every final state that products has not acknowledged yet (this releases the above).
    const unsettled = await this.db
      .select()
      .from(orders)
      .where(and(eq(orders.stockSettled, false), inArray(orders.state, ['FAILED', 'CANCELLED', 'PAID'])))
      .limit(500);
    for (const order of unsettled) {
      if ((await this.settleStock(order)).stockSettled) finished += 1;
    }
    return finished + (await this.reconcileHeldStock());
  }

  /**
   * The other direction: stock that products still holds (RESERVED) for an order that failed, was cancelled or
   * does not exist goes back; a paid order's is committed. Finding work by order state alone misses stock whose
   * order was settled without it, such as a reservation that landed after a concurrent request with the same
   * idempotency key had failed the order. One page per pass, continuing where the last pass stopped.
   */
  private async reconcileHeldStock(): Promise<number> {
    const held = await this.products.heldReservations(this.reconcileAfter, RECONCILE_PAGE);
    this.reconcileAfter = held.length < RECONCILE_PAGE ? null : held.at(-1)!.orderId;
    if (held.length === 0) return 0;
    const known = await this.db
      .select({ id: orders.id, state: orders.state })
      .from(orders)
      .where(
        inArray(
          orders.id,
          held.map((reservation) => reservation.orderId),
        ),
      );
    const stateOf = new Map(known.map((order) => [order.id, order.state]));
    let finished = 0;
    for (const { orderId } of held) {
      // A reservation is only ever made after its order row was committed, so a missing order never comes.
      const state = stateOf.get(orderId);
      if (state === 'PAID') await this.products.commit(orderId);
      else if (state === undefined || state === 'FAILED' || state === 'CANCELLED') await this.products.release(orderId);
      else continue;
      this.logger.warn(
        { orderId, state: state ?? 'missing' },
        state === 'PAID' ? 'committed stock still held for a paid order' : 'released stock held for an order that no longer wants it',
      );
      finished += 1;
    }
    return finished;
  }
}
