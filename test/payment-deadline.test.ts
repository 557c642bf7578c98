import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, startStack, type ServiceName, type ServiceProcess } from '../scripts/stack.js';
import { contractOperation, eventually, post, type GraphQLResponse } from './client.js';
import { TEST_ADMIN } from './fixtures.js';
import { freshStorage } from './storage.js';

/**
 * A payment provider slower than the charge deadline (issue 12, item 2): a stack of its own whose sandbox
 * provider answers after PAYMENT_LATENCY_MS, six times PAYMENT_TIMEOUT_MS, while recovery sweeps every 200 ms.
 * Whatever the timings, the provider's ledger and the orders must agree in the end: at most one succeeded charge
 * per order, a charged order PAID, and a CANCELLED or PENDING order charged at most with a recorded refund.
 */

let stack: Record<ServiceName, ServiceProcess>;
let storage: Awaited<ReturnType<typeof freshStorage>>;
let routerUrl: string;

const send = (name: string, variables: Record<string, unknown>, token?: string) =>
  post({ query: contractOperation(name), operationName: name, variables }, token, routerUrl);
const code = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  storage = await freshStorage('payment');
  stack = await startStack(
    {
      ...storage.env,
      LOG_LEVEL: 'warn',
      ADMIN_EMAIL: TEST_ADMIN.email,
      ADMIN_PASSWORD: TEST_ADMIN.password,
      NODE_ENV: 'test',
      PAYMENT_LATENCY_MS: '3000',
      PAYMENT_TIMEOUT_MS: '500',
      RECOVERY_INTERVAL_MS: '200',
      RATE_LIMIT_REGISTER_PER_IP: '100000',
    },
    await freePorts(),
  );
  routerUrl = `${stack.router.url}/graphql`;
}, 240_000);

afterAll(async () => {
  await Promise.all(Object.values(stack ?? {}).map((service) => service.stop('SIGTERM')));
  await storage?.remove();
}, 60_000);

/** The orders database's rows, read once the orders process is stopped (PGlite allows one process at a time). */
async function ordersDatabase<T>(statement: string): Promise<T[]> {
  const url = storage.env.ORDERS_DATABASE_URL;
  if (url) {
    const client = postgres(url, { max: 1, onnotice: () => {} });
    try {
      return (await client.unsafe(statement)) as unknown as T[];
    } finally {
      await client.end();
    }
  }
  const client = await PGlite.create(path.join(storage.env.DATA_DIR!, 'orders'));
  try {
    return (await client.query<T>(statement)).rows;
  } finally {
    await client.close();
  }
}

describe('a charge slower than PAYMENT_TIMEOUT_MS', () => {
  it('is taken at most once, and only on an order that ends PAID; cancelled or pending orders keep no charge', async () => {
    const admin = (await send('Login', { input: TEST_ADMIN })).data.login.token as string;
    const input = {
      sku: `PAY-${randomUUID()}`,
      name: 'Slow card',
      description: '',
      category: 'pay',
      price: { amount: 700, currency: 'USD' },
      stock: 50,
    };
    const productId = (await send('CreateProduct', { input }, admin)).data.createProduct.product.id as string;

    // Several buyers at once, each: PlaceOrder, PayOrder with tok_visa, PayOrder again once the order is payable
    // again, then CancelOrder; what each answer is depends on the timings, the end state must not.
    const buyers = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const email = `slow-pay-${randomUUID()}@test.shop`;
        const token = (await send('Register', { input: { email, password: 'long enough', name: `Slow ${i}` } })).data.register
          .token as string;
        const placed = await send(
          'PlaceOrder',
          { input: { items: [{ productId, quantity: 1 + i }], idempotencyKey: randomUUID() } },
          token,
        );
        expect(placed.errors).toBeUndefined();
        return { token, id: placed.data.placeOrder.order.id as string };
      }),
    );
    const pay = (buyer: { token: string; id: string }) =>
      send('PayOrder', { input: { orderId: buyer.id, paymentToken: 'tok_visa' } }, buyer.token);
    const statusOf = async (buyer: { token: string; id: string }) =>
      (await send('OrderDetail', { id: buyer.id }, buyer.token)).data.order.status;
    /** Repeats `step` while the order is still paying (INVALID_STATE and neither PAID nor CANCELLED). */
    const once = (buyer: { token: string; id: string }, step: () => Promise<GraphQLResponse>) =>
      eventually(async () => {
        const response = await step();
        if (code(response) === 'INVALID_STATE' && !['PAID', 'CANCELLED'].includes(await statusOf(buyer))) {
          throw new Error(`order ${buyer.id} is still paying`);
        }
        return response;
      }, 90_000);

    await Promise.all(
      buyers.map(async (buyer, i) => {
        await pay(buyer);
        if (i % 2 === 0) await once(buyer, () => pay(buyer));
        if (i < 3) await once(buyer, () => send('CancelOrder', { id: buyer.id }, buyer.token));
      }),
    );
    // Every order settles to a final state or back to PENDING; PAYING shows as PENDING, so wait on the database
    // below rather than on the API for the last in-flight attempt.
    await stack.orders.stop('SIGTERM');
    type Row = { id: string; state: string; charge_id: string | null; payment_attempts: number };
    const orders = await ordersDatabase<Row>(
      `select id, state, charge_id, payment_attempts from orders where id in (${buyers.map((b) => `'${b.id}'`).join(', ')})`,
    );
    const charges = await ordersDatabase<{ idempotency_key: string; charge_id: string; status: string }>(
      'select idempotency_key, charge_id, status from sandbox_payment_charges',
    );

    for (const order of orders) {
      const ofOrder = charges.filter((charge) => charge.idempotency_key.startsWith(`${order.id}:`));
      const succeeded = ofOrder.filter((charge) => charge.status === 'succeeded');
      const taken = ofOrder.filter((charge) => charge.status === 'succeeded' || charge.status === 'refunded');
      const report = { order, charges: ofOrder };
      expect(taken.length, JSON.stringify(report)).toBeLessThanOrEqual(1);
      if (order.state === 'PAID') {
        expect(
          succeeded.map((charge) => charge.charge_id),
          JSON.stringify(report),
        ).toEqual([order.charge_id]);
      } else {
        expect(order.state, JSON.stringify(report)).toMatch(/^(PENDING|PAYING|CANCELLED)$/);
        expect(succeeded, JSON.stringify(report)).toEqual([]);
      }
    }
    expect(orders).toHaveLength(buyers.length);
  });
});
