import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { graphqlClient } from '@shop/subgraph/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkout as CheckoutType } from '../../src/checkout.js';
import type { PaymentProvider } from '../../src/payments/sandbox-provider.js';
import type { ProductsClient, StockReservation } from '../../src/products-client.js';

/**
 * The checkout saga in-process on an embedded database, with a products subgraph played by the test, so that
 * the interleavings of issue 12 (items 4 and 5) happen in a chosen order rather than by luck.
 */
let server: Awaited<ReturnType<typeof import('../../src/server.js').buildServer>>;
let dataDir: string;
let schema: typeof import('../../src/db/schema.js');
let Checkout: typeof CheckoutType;
let StockError: typeof import('../../src/products-client.js').StockError;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'orders-checkout-'));
  process.env.DATA_DIR = dataDir;
  process.env.RECOVERY_INTERVAL_MS = '3600000';
  delete process.env.ORDERS_DATABASE_URL;
  const { buildServer } = await import('../../src/server.js');
  server = await buildServer();
  schema = await import('../../src/db/schema.js');
  ({ Checkout } = await import('../../src/checkout.js'));
  ({ StockError } = await import('../../src/products-client.js'));
}, 60_000);

afterAll(async () => {
  await server?.app.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A products subgraph whose answers the test writes; it records what it was asked to release or commit. */
function fakeProducts(overrides: Partial<Record<'reserve' | 'heldReservations', (...args: any[]) => Promise<unknown>>>) {
  const released: string[] = [];
  const committed: string[] = [];
  const products = {
    reserve: async () => {
      throw new Error('not expected');
    },
    heldReservations: async () => [],
    release: async (orderId: string): Promise<StockReservation> => {
      released.push(orderId);
      return { orderId, state: 'RELEASED', lines: [] };
    },
    commit: async (orderId: string): Promise<StockReservation> => {
      committed.push(orderId);
      return { orderId, state: 'COMMITTED', lines: [] };
    },
    ...overrides,
  };
  return { products: products as unknown as ProductsClient, released, committed };
}

const noPayments = {} as PaymentProvider;
const timings = { holdMs: 3_600_000, reservingTimeoutMs: 3_600_000, payingTimeoutMs: 3_600_000 };

async function stateOf(id: string) {
  const [row] = await server.database.db.select().from(schema.orders).where(eq(schema.orders.id, id));
  return row;
}

async function until(check: () => Promise<boolean>) {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const reject = (promise: Promise<unknown>) =>
  promise.then(
    () => 'placed',
    (error: { extensions?: { code?: string } }) => error.extensions?.code,
  );

describe('two PlaceOrder requests with one idempotency key while stock is short', () => {
  it('gives back stock reserved after the other request failed the order', async () => {
    let second!: () => void;
    const secondArrived = new Promise<void>((resolve) => (second = resolve));
    let calls = 0;
    const { products, released } = fakeProducts({
      // The first request finds too little stock; by the time the second asks, some was released meanwhile.
      reserve: async (orderId: string, lines: { productId: string; quantity: number }[]) => {
        calls += 1;
        if (calls === 1) {
          await secondArrived;
          throw new StockError('INSUFFICIENT_STOCK', 'Not enough stock for a product in the order');
        }
        second();
        await until(async () => (await stateOf(orderId))?.state === 'FAILED');
        return { orderId, state: 'RESERVED', lines: lines.map((line) => ({ ...line, unitPrice: { amount: 100, currency: 'USD' } })) };
      },
    });
    const checkout = new Checkout(server.database.db, products, noPayments, timings, server.logger);
    const buyer = randomUUID();
    const key = randomUUID();
    const items = [{ productId: randomUUID(), quantity: 2 }];
    const outcomes = await Promise.all([reject(checkout.place(buyer, items, key)), reject(checkout.place(buyer, items, key))]);
    expect(outcomes).toEqual(['INSUFFICIENT_STOCK', 'INSUFFICIENT_STOCK']);
    const [order] = await server.database.db.select().from(schema.orders).where(eq(schema.orders.idempotencyKey, key));
    expect(order).toMatchObject({ state: 'FAILED', stockSettled: true });
    expect(released).toEqual([order!.id]);
  });
});

describe('recovery reconciles held stock with the orders', () => {
  it('releases stock held for a failed, cancelled or unknown order, commits a paid one, and leaves the rest', async () => {
    const db = server.database.db;
    const order = async (state: 'FAILED' | 'CANCELLED' | 'PAID' | 'PENDING' | 'RESERVING') => {
      const id = randomUUID();
      await db
        .insert(schema.orders)
        .values({ id, buyerId: randomUUID(), idempotencyKey: id, cartFingerprint: 'x', state, stockSettled: true });
      return id;
    };
    const failed = await order('FAILED');
    const cancelled = await order('CANCELLED');
    const paid = await order('PAID');
    const pending = await order('PENDING');
    const reserving = await order('RESERVING');
    const unknown = randomUUID();
    const held = [failed, cancelled, paid, pending, reserving, unknown].sort();
    const { products, released, committed } = fakeProducts({
      heldReservations: async (after: string | null, first: number) =>
        held
          .filter((id) => after === null || id > after)
          .slice(0, first)
          .map((orderId) => ({ orderId, state: 'RESERVED' })),
    });
    const checkout = new Checkout(db, products, noPayments, timings, server.logger);
    await checkout.recover();
    expect(released.sort()).toEqual([failed, cancelled, unknown].sort());
    expect(committed).toEqual([paid]);
  });
});

describe('a payment answer that comes after recovery settled its attempt', () => {
  it('is refunded when the provider charged an attempt it had been told to close, and the order stays unpaid', async () => {
    const db = server.database.db;
    const id = randomUUID();
    const buyerId = randomUUID();
    await db.insert(schema.orders).values({
      id,
      buyerId,
      idempotencyKey: id,
      cartFingerprint: 'x',
      state: 'PENDING',
      totalAmount: 500,
      currency: 'USD',
      stockSettled: true,
    });
    // A provider that ignores closed attempts: the charge lands whenever the test lets it.
    let land!: () => void;
    const landed = new Promise<void>((resolve) => (land = resolve));
    const refunded: string[] = [];
    const payments: PaymentProvider = {
      charge: async () => {
        await landed;
        return { status: 'succeeded', chargeId: 'ch_late', createdAt: new Date() };
      },
      retrieve: async () => null,
      closeAttempt: async () => ({ status: 'voided' }),
      refund: async (key) => {
        refunded.push(key);
        return { status: 'refunded', chargeId: 'ch_late' };
      },
    };
    const { products } = fakeProducts({});
    const checkout = new Checkout(db, products, payments, { ...timings, payingTimeoutMs: 50 }, server.logger);
    const paying = reject(checkout.pay({ id: buyerId, role: 'CUSTOMER' } as never, id, 'tok_visa'));
    expect(await paying).toBe('SERVICE_UNAVAILABLE');
    await checkout.recover(new Date(Date.now() + 60_000));
    expect((await stateOf(id))!.state).toBe('PENDING');
    land();
    await until(async () => refunded.length > 0);
    expect(refunded).toEqual([`${id}:1`]);
    expect(await stateOf(id)).toMatchObject({ state: 'PENDING', chargeId: null });
  });
});

describe('Product.sales.revenue', () => {
  it('sums paid orders beyond 2^31-1 minor units', async () => {
    const { signToken } = await import('@shop/subgraph');
    const db = server.database.db;
    const productId = randomUUID();
    for (let i = 0; i < 3; i += 1) {
      const id = randomUUID();
      await db.insert(schema.orders).values({
        id,
        buyerId: randomUUID(),
        idempotencyKey: id,
        cartFingerprint: 'x',
        state: 'PAID',
        totalAmount: 2_000_000_000,
        currency: 'USD',
        stockSettled: true,
        paidAt: new Date(),
      });
      await db
        .insert(schema.orderItems)
        .values({ orderId: id, productId, position: 0, quantity: 1_000, unitPriceAmount: 2_000_000, currency: 'USD' });
    }
    const graphql = graphqlClient(server.app);
    const response = await graphql(
      `
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Product {
              sales {
                unitsSold
                orderCount
                revenue {
                  amount
                  currency
                }
              }
            }
          }
        }
      `,
      { representations: [{ __typename: 'Product', id: productId }] },
      await signToken({ id: randomUUID(), role: 'ADMIN' }),
    );
    expect(response.errors).toBeUndefined();
    expect(response.data._entities).toEqual([
      { sales: { unitsSold: 3_000, orderCount: 3, revenue: { amount: 6_000_000_000, currency: 'USD' } } },
    ]);
  });
});
