import { randomUUID } from 'node:crypto';
import { createClient, type FormattedExecutionResult } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, ServiceProcess, sumMetric, type ServiceName } from '../scripts/stack.js';
import { contractOperation, eventually, post } from './client.js';
import { ordersOf } from './conservation.js';
import { startOwnStack } from './own-stack.js';
import { natsAnswers, percentile, StreamReader, TEST_NATS_URL, type StreamEvent } from './stream.js';

/**
 * Events on NATS JetStream, against ../shared/contract/events.md: a stack of its own publishing to the stream
 * SHOP. Each test records the stream's last sequence when it starts and reads what came after, keeping the
 * events of its own orders and products (the stream is shared and never purged; the subjects are the contract's).
 */

const ROUTER_SECRET = 'events-stack-router-secret';
const driver = process.env.TEST_POSTGRES_URL ? 'postgres' : 'pglite';
let stack: Record<ServiceName, ServiceProcess>;
let env: Record<string, string>;
let routerUrl: string;
let reader: StreamReader;
let admin: string;
let cleanup: () => Promise<void>;

const send = (name: string, variables: Record<string, unknown>, token?: string) =>
  post({ query: contractOperation(name), operationName: name, variables }, token, routerUrl);

async function register(): Promise<{ id: string; token: string }> {
  const response = await send('Register', {
    input: { email: `events-${randomUUID()}@test.shop`, password: 'long enough', name: 'Events' },
  });
  return { id: response.data.register.user.id, token: response.data.register.token };
}

async function newProduct(stock: number): Promise<string> {
  const input = {
    sku: `EV-${randomUUID()}`,
    name: 'Event item',
    description: '',
    category: 'events',
    price: { amount: 300, currency: 'USD' },
    stock,
  };
  return (await send('CreateProduct', { input }, admin)).data.createProduct.product.id;
}

async function stockOf(id: string): Promise<number> {
  return (await send('ProductPage', { id })).data.product.stock;
}

/** A mutation sent to one orders process directly, as the router would send it. */
function direct(service: ServiceProcess, query: string, variables: Record<string, unknown>, token: string) {
  return post({ query, variables }, token, `${service.url}/graphql`, { 'x-router-secret': ROUTER_SECRET });
}
const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status } } }`;
const PAY = `mutation($input: PayOrderInput!) { payOrder(input: $input) { order { id status } } }`;
const CANCEL = `mutation($id: ID!) { cancelOrder(id: $id) { order { id status } } }`;

beforeAll(async () => {
  if (!(await natsAnswers())) throw new Error(`NATS does not answer at ${TEST_NATS_URL}: start nats-server -js (see .ci/run)`);
  reader = await StreamReader.open();
  const own = await startOwnStack('events', {
    NATS_URL: TEST_NATS_URL,
    ROUTER_SECRET,
    RECOVERY_INTERVAL_MS: '250',
    RESERVATION_TIMEOUT_MS: '1500',
    PAYMENT_TIMEOUT_MS: '1000',
    ORDER_HOLD_MINUTES: '0.1',
  });
  ({ stack, env, routerUrl, admin } = own);
  cleanup = own.stop;
}, 240_000);

afterAll(async () => {
  await cleanup?.();
  await reader?.close();
}, 60_000);

/** What the stream says about some orders and products: each order's events in stream order, each product's. */
function grouped(events: StreamEvent[], orderIds: Set<string>, buyerIds: Set<string>, productIds: Set<string>) {
  const orders = new Map<string, StreamEvent[]>();
  const products = new Map<string, StreamEvent[]>();
  const strays: StreamEvent[] = [];
  for (const message of events) {
    const { event } = message;
    if (event.type.startsWith('shop.order.') && buyerIds.has(event.data.buyerId)) {
      if (!orderIds.has(event.subject)) strays.push(message);
      orders.set(event.subject, [...(orders.get(event.subject) ?? []), message]);
    } else if (event.type.startsWith('shop.product.') && productIds.has(event.subject)) {
      products.set(event.subject, [...(products.get(event.subject) ?? []), message]);
    }
  }
  return { orders, products, strays };
}

/** Every message is a CloudEvent of the contract whose Nats-Msg-Id is its id, on the subject of its type. */
function expectEnvelopes(events: StreamEvent[]) {
  for (const { subject, msgId, event } of events) {
    expect(event).toMatchObject({ specversion: '1.0', datacontenttype: 'application/json', type: subject, id: msgId });
    expect(event.source).toMatch(/^\/subgraphs\/(orders|products)$/);
    expect(Number.isNaN(Date.parse(event.time))).toBe(false);
  }
}

/** One event per committed change of each order, in order: placed, then paid or cancelled once it is final. */
function expectOneEventPerChange(orders: { id: string; status: string }[], byOrder: Map<string, StreamEvent[]>) {
  for (const order of orders) {
    const types = (byOrder.get(order.id) ?? []).map((message) => message.event.type);
    const expected = {
      PENDING: ['shop.order.placed'],
      PAID: ['shop.order.placed', 'shop.order.paid'],
      CANCELLED: ['shop.order.placed', 'shop.order.cancelled'],
    }[order.status];
    expect(types, `events of order ${order.id} (${order.status})`).toEqual(expected);
  }
  const ids = [...byOrder.values()].flat().map((message) => message.event.id);
  expect(new Set(ids).size).toBe(ids.length);
}

/** Each product's created stock plus its stock_changed deltas is its stock now, and the last level said so. */
async function expectStockFromDeltas(productIds: string[], byProduct: Map<string, StreamEvent[]>) {
  for (const id of productIds) {
    const events = byProduct.get(id) ?? [];
    const created = events.find((message) => message.event.type === 'shop.product.created');
    const changes = events.filter((message) => message.event.type === 'shop.product.stock_changed');
    const stock = await stockOf(id);
    expect(created!.event.data.stock + changes.reduce((sum, message) => sum + message.event.data.delta, 0), `stock of ${id}`).toBe(stock);
    if (changes.length > 0) expect(changes.at(-1)!.event.data.stock).toBe(stock);
    let level = created!.event.data.stock;
    for (const change of changes) {
      level += change.event.data.delta;
      expect(change.event.data.stock, 'levels in stream order').toBe(level);
    }
  }
}

describe('events on JetStream', () => {
  it('a SIGKILL of orders in a checkout rush: exactly one event per committed change, none for failed orders, deltas add up', async () => {
    const startSeq = await reader.lastSequence();
    const products = await Promise.all([0, 1, 2].map(() => newProduct(300)));
    const buyers = await Promise.all(Array.from({ length: 15 }, () => register()));

    // 60 checkouts, a third then paid and a third cancelled; orders dies with SIGKILL once ten were
    // acknowledged and a few paid and cancelled, in the middle of the rest.
    const done = { placed: 0, paid: 0, cancelled: 0 };
    let underWay!: () => void;
    const midRush = new Promise<void>((resolve) => (underWay = resolve));
    const progress = () => done.placed >= 10 && done.paid >= 2 && done.cancelled >= 2 && underWay();
    const flows = Array.from({ length: 60 }, async (_, i) => {
      // Started 40 ms apart, so that the rush is still under way when orders dies.
      await new Promise((resolve) => setTimeout(resolve, i * 40));
      const buyer = buyers[i % buyers.length]!;
      const items = [
        { productId: products[i % 3]!, quantity: 1 + (i % 4) },
        ...(i % 5 === 0 ? [{ productId: products[(i + 1) % 3]!, quantity: 2 }] : []),
      ];
      const placed = await send('PlaceOrder', { input: { items, idempotencyKey: randomUUID() } }, buyer.token).catch(() => undefined);
      const id = placed?.data?.placeOrder?.order.id as string | undefined;
      if (!id) return 'failed';
      done.placed += 1;
      progress();
      if (i % 3 === 0) {
        const paid = await send('PayOrder', { input: { orderId: id, paymentToken: 'tok_visa' } }, buyer.token).catch(() => undefined);
        if (paid?.data?.payOrder) done.paid += 1;
      }
      if (i % 3 === 1) {
        const cancelled = await send('CancelOrder', { id }, buyer.token).catch(() => undefined);
        if (cancelled?.data?.cancelOrder) done.cancelled += 1;
      }
      progress();
      return 'placed';
    });
    await Promise.race([midRush, Promise.all(flows)]);
    await stack.orders.stop('SIGKILL');
    const outcomes = await Promise.all(flows);
    await stack.orders.start();
    expect(outcomes.filter((outcome) => outcome === 'failed').length, 'the crash interrupted the rush').toBeGreaterThan(0);

    const buyerIds = new Set(buyers.map((buyer) => buyer.id));
    await eventually(async () => {
      // Every order a buyer can see is final by now: unpaid ones expire after ORDER_HOLD_MINUTES.
      const visible = (await Promise.all(buyers.map((buyer) => ordersOf(buyer.token, routerUrl)))).flat();
      expect(visible.filter((order) => order.status === 'PENDING')).toEqual([]);
      const events = await reader.eventsAfter(startSeq);
      const { orders, products: byProduct, strays } = grouped(events, new Set(visible.map((o) => o.id)), buyerIds, new Set(products));
      expect(strays, 'events of orders no buyer can see (failed orders)').toEqual([]);
      expectOneEventPerChange(visible, orders);
      await expectStockFromDeltas(products, byProduct);
      expectEnvelopes(events.filter((message) => orders.has(message.event.subject) || byProduct.has(message.event.subject)));
      expect(visible.some((order) => order.status === 'PAID')).toBe(true);
      expect(visible.some((order) => order.status === 'CANCELLED')).toBe(true);
    }, 90_000);
  }, 240_000);

  it.skipIf(driver !== 'postgres')(
    'two orders replicas on one database: each change published once, and a subscriber on one sees changes made on the other',
    async () => {
      const urls = Object.fromEntries(
        (['users', 'products', 'orders'] as const).map((name) => [`${name.toUpperCase()}_URL`, `${stack[name].url}/graphql`]),
      );
      const second = new ServiceProcess('orders', await freePort(), { ...urls, ...env });
      await second.start();
      try {
        const replicas = [stack.orders, second];
        const publishedBefore = await Promise.all(
          replicas.map(async (r) => sumMetric(await (await fetch(`${r.opsUrl}/metrics`)).text(), 'outbox_events_published_total')),
        );
        const startSeq = await reader.lastSequence();
        const product = await newProduct(1_000);
        const buyers = await Promise.all(Array.from({ length: 6 }, () => register()));

        // A subscriber on the first replica watches an order placed and paid through the second.
        const watcher = buyers[0]!;
        const watched = (
          await direct(
            second,
            PLACE,
            { input: { items: [{ productId: product, quantity: 1 }], idempotencyKey: randomUUID() } },
            watcher.token,
          )
        ).data.placeOrder.order.id as string;
        const client = createClient({
          url: `${stack.orders.url.replace('http', 'ws')}/graphql`,
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          connectionParams: { 'x-router-secret': ROUTER_SECRET, authorization: `Bearer ${watcher.token}` },
        });
        const seen: FormattedExecutionResult<any>[] = [];
        const ended = new Promise<void>((resolve, reject) =>
          client.subscribe(
            { query: `subscription($id: ID!) { orderUpdated(id: $id) { id status } }`, variables: { id: watched } },
            { next: (result) => void seen.push(result as FormattedExecutionResult<any>), error: reject, complete: resolve },
          ),
        );
        await eventually(async () => expect(seen.length).toBe(1), 10_000);
        await direct(second, PAY, { input: { orderId: watched, paymentToken: 'tok_visa' } }, watcher.token);
        await ended;
        expect(seen.map((result) => result.data?.orderUpdated.status)).toEqual(['PENDING', 'PAID']);
        await client.dispose();

        // Forty orders placed, paid and cancelled through either replica in turn, all at once.
        await Promise.all(
          Array.from({ length: 40 }, async (_, i) => {
            const buyer = buyers[i % buyers.length]!;
            const [one, other] = i % 2 === 0 ? replicas : [second, stack.orders];
            const placed = await direct(
              one!,
              PLACE,
              { input: { items: [{ productId: product, quantity: 1 }], idempotencyKey: randomUUID() } },
              buyer.token,
            );
            const id = placed.data.placeOrder.order.id;
            if (i % 3 === 0) await direct(other!, PAY, { input: { orderId: id, paymentToken: 'tok_visa' } }, buyer.token);
            if (i % 3 === 1) await direct(other!, CANCEL, { id }, buyer.token);
          }),
        );

        const buyerIds = new Set(buyers.map((buyer) => buyer.id));
        let events: StreamEvent[] = [];
        let visible: { id: string; status: string }[] = [];
        await eventually(async () => {
          visible = (await Promise.all(buyers.map((buyer) => ordersOf(buyer.token, routerUrl)))).flat();
          expect(visible.filter((order) => order.status === 'PENDING')).toEqual([]);
          events = await reader.eventsAfter(startSeq);
          const { orders } = grouped(events, new Set(visible.map((o) => o.id)), buyerIds, new Set([product]));
          expectOneEventPerChange(visible, orders);
          // Products publishes through its own relay: the releases at expiry can reach the stream after the
          // cancellations that caused them.
          await expectStockFromDeltas([product], grouped(events, new Set(visible.map((o) => o.id)), buyerIds, new Set([product])).products);
        }, 60_000);
        const { orders, products } = grouped(events, new Set(visible.map((o) => o.id)), buyerIds, new Set([product]));

        // Published once: the two relays together published exactly the events the stream holds, no more.
        const publishedAfter = await Promise.all(
          replicas.map(async (r) => sumMetric(await (await fetch(`${r.opsUrl}/metrics`)).text(), 'outbox_events_published_total')),
        );
        const published = publishedAfter.map((after, i) => after - publishedBefore[i]!);
        const orderEvents = [...orders.values()].flat();
        expect(published.reduce((a, b) => a + b, 0)).toBe(orderEvents.length);

        // Relay lag: from the event's time (its transaction) to the stream storing it.
        const lags = [...orderEvents, ...(products.get(product) ?? [])].map((message) => message.storedAt - Date.parse(message.event.time));
        const p50 = percentile(lags, 50);
        const p99 = percentile(lags, 99);
        console.log(
          `relay lag over ${lags.length} events on ${driver} with two orders replicas: p50 ${p50} ms, p99 ${p99} ms; published per replica ${published.join(' + ')}`,
        );
        // The target is a p99 under 200 ms (docs/events.md); this guards against a relay that stalls, with room
        // for a machine shared with other work.
        expect(p99).toBeLessThan(500);
      } finally {
        await second.stop('SIGTERM');
      }
    },
    180_000,
  );
});
