import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type ServiceName, type ServiceProcess, freePorts } from '../scripts/stack.js';
import { contractOperation, eventually, post, type GraphQLResponse } from './client.js';
import { expectStockConserved } from './conservation.js';
import { TEST_ADMIN } from './fixtures.js';
import { freshStorage } from './storage.js';

/**
 * Checkout against crashes: a stack of its own, whose subgraphs this file kills with SIGKILL in the middle of a
 * checkout rush and restarts alone. Recovery must then finish or undo every interrupted checkout by itself.
 */

let stack: Record<ServiceName, ServiceProcess>;
let routerUrl: string;
let cleanup: () => Promise<void>;
/** How long recovery after a restart may take to settle what the crash left. */
const RECOVERY_DEADLINE_MS = 30_000;

const send = (name: string, variables: Record<string, unknown>, token?: string) =>
  post({ query: contractOperation(name), operationName: name, variables }, token, routerUrl);

async function stockOf(id: string): Promise<number> {
  return (await send('ProductPage', { id })).data.product.stock;
}

async function register() {
  const response = await send('Register', { input: { email: `crash-${randomUUID()}@test.shop`, password: 'long enough', name: 'Crash' } });
  return response.data.register.token as string;
}

async function newProduct(admin: string, stock: number) {
  const input = {
    sku: `CR-${randomUUID()}`,
    name: 'Crash test item',
    description: '',
    category: 'crash',
    price: { amount: 300, currency: 'USD' },
    stock,
  };
  return (await send('CreateProduct', { input }, admin)).data.createProduct.product.id as string;
}

beforeAll(async () => {
  const storage = await freshStorage('crash');
  const ports = await freePorts();
  stack = await startStack(
    {
      ...storage.env,
      LOG_LEVEL: 'warn',
      ADMIN_EMAIL: TEST_ADMIN.email,
      ADMIN_PASSWORD: TEST_ADMIN.password,
      RECOVERY_INTERVAL_MS: '250',
      RESERVATION_TIMEOUT_MS: '1500',
      PAYMENT_TIMEOUT_MS: '1000',
      ORDER_HOLD_MINUTES: '0.1',
      // Dozens of buyers register from 127.0.0.1; the rate limits are tested in security.test.ts.
      RATE_LIMIT_REGISTER_PER_IP: '100000',
    },
    ports,
  );
  routerUrl = `${stack.router.url}/graphql`;
  cleanup = async () => {
    await Promise.all(Object.values(stack).map((service) => service.stop('SIGTERM')));
    await storage.remove();
  };
}, 240_000);

afterAll(() => cleanup?.(), 60_000);

describe.each(['orders', 'products'] as const)('killing the %s subgraph in a checkout rush', (victim) => {
  it('loses nothing: stock is conserved, every acknowledged order exists, no reservation is orphaned', async () => {
    const admin = (await send('Login', { input: TEST_ADMIN })).data.login.token as string;
    const products = await Promise.all([0, 1, 2].map(() => newProduct(admin, 300)));
    const buyers = await Promise.all(Array.from({ length: 20 }, () => register()));

    // 100 checkouts, started 40 ms apart so that many overlap and the rush outlasts the crash (all at once, the
    // products side of every checkout could be done before the tenth answer arrives); the victim dies with
    // SIGKILL once the first ten have been acknowledged.
    let acknowledgedSoFar = 0;
    let underWay!: () => void;
    const tenAcknowledged = new Promise<void>((resolve) => (underWay = resolve));
    const rush: Promise<GraphQLResponse>[] = [];
    const sending = (async () => {
      for (let i = 0; i < 100; i += 1) {
        const items = [
          { productId: products[i % 3]!, quantity: 1 + (i % 4) },
          ...(i % 5 === 0 ? [{ productId: products[(i + 1) % 3]!, quantity: 2 }] : []),
        ];
        const checkout = send('PlaceOrder', { input: { items, idempotencyKey: randomUUID() } }, buyers[i % buyers.length]);
        rush.push(checkout.then((response) => (response.data?.placeOrder && ++acknowledgedSoFar === 10 && underWay(), response)));
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();
    await tenAcknowledged;
    await stack[victim].stop('SIGKILL');
    await sending;
    const responses = await Promise.all(rush);
    const acknowledged = responses
      .filter((response) => response.data?.placeOrder)
      .map((response) => response.data.placeOrder.order.id as string);
    const failed = responses.filter((response) => !response.data?.placeOrder);
    expect(acknowledged.length + failed.length).toBe(100);
    expect(acknowledged.length).toBeGreaterThanOrEqual(10);
    expect(failed.length).toBeGreaterThan(0); // the crash really interrupted the rush

    await stack[victim].start(); // alone: the others keep running

    await eventually(
      () =>
        expectStockConserved(
          products.map((id) => ({ id, initialStock: 300 })),
          buyers,
          stockOf,
          routerUrl,
        ),
      RECOVERY_DEADLINE_MS,
    );
    for (const id of acknowledged) {
      const detail = await send('OrderDetail', { id }, admin);
      expect(detail.data?.order?.id).toBe(id);
    }
  });
});

describe('abandoned orders and lost payment answers', () => {
  it('cancels an order left unpaid past ORDER_HOLD_MINUTES and releases its stock', async () => {
    const admin = (await send('Login', { input: TEST_ADMIN })).data.login.token as string;
    const product = await newProduct(admin, 10);
    const buyer = await register();
    const placed = await send(
      'PlaceOrder',
      { input: { items: [{ productId: product, quantity: 4 }], idempotencyKey: randomUUID() } },
      buyer,
    );
    const id = placed.data.placeOrder.order.id;
    expect(await stockOf(product)).toBe(6);
    await eventually(async () => {
      expect((await send('OrderDetail', { id }, buyer)).data.order.status).toBe('CANCELLED');
      expect(await stockOf(product)).toBe(10);
    }, 20_000);
    expect((await send('PayOrder', { input: { orderId: id, paymentToken: 'tok_visa' } }, buyer)).errors?.[0]?.extensions?.code).toBe(
      'INVALID_STATE',
    );
  });

  it('never cancels an order whose payment answer was lost, and marks it PAID once the charge is confirmed', async () => {
    const admin = (await send('Login', { input: TEST_ADMIN })).data.login.token as string;
    const product = await newProduct(admin, 10);
    const buyer = await register();
    const placed = await send(
      'PlaceOrder',
      { input: { items: [{ productId: product, quantity: 2 }], idempotencyKey: randomUUID() } },
      buyer,
    );
    const id = placed.data.placeOrder.order.id;
    // tok_timeout: the sandbox provider charges the card but its answer never arrives.
    const lost = await send('PayOrder', { input: { orderId: id, paymentToken: 'tok_timeout' } }, buyer);
    expect(lost.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect((await send('CancelOrder', { id }, buyer)).errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    await eventually(async () => {
      const order = (await send('OrderDetail', { id }, buyer)).data.order;
      expect(order.status).toBe('PAID');
      expect(order.paidAt).not.toBeNull();
    }, 20_000);
    expect(await stockOf(product)).toBe(8);
  });
});
