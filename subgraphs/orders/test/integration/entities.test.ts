import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { graphqlClient } from '@shop/subgraph/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The orders subgraph in-process on its own embedded database, asked for `_entities` as the router asks.
 * Orders are written straight into its tables here, since placing one needs the products subgraph.
 */
let server: Awaited<ReturnType<typeof import('../../src/server.js').buildServer>>;
let dataDir: string;
let sign: (id: string, role: string) => Promise<string>;

let graphql: ReturnType<typeof graphqlClient>;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'orders-entities-'));
  process.env.DATA_DIR = dataDir;
  process.env.RECOVERY_INTERVAL_MS = '3600000';
  delete process.env.ORDERS_DATABASE_URL;
  const { buildServer } = await import('../../src/server.js');
  const { signToken } = await import('@shop/subgraph');
  server = await buildServer();
  graphql = graphqlClient(server.app);
  sign = (id, role) => signToken({ id, role });
}, 60_000);

afterAll(async () => {
  await server?.app.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function paidOrder(buyerId: string, productId: string, quantity: number, unitPrice: number) {
  const { orders, orderItems } = await import('../../src/db/schema.js');
  const id = randomUUID();
  const db = server.database.db;
  await db.insert(orders).values({
    id,
    buyerId,
    idempotencyKey: id,
    cartFingerprint: 'test',
    state: 'PAID',
    totalAmount: quantity * unitPrice,
    currency: 'USD',
    stockSettled: true,
    paidAt: new Date(),
  });
  await db.insert(orderItems).values({ orderId: id, productId, position: 0, quantity, unitPriceAmount: unitPrice, currency: 'USD' });
  return id;
}

const ORDER_ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Order { id status total { amount } buyer { id } items { quantity product { id } } } } }`;
const SALES = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { id sales { unitsSold orderCount revenue { amount } } } } }`;

describe('Order and Product entities', () => {
  it('resolves an order for its buyer and admins, FORBIDDEN for anyone else', async () => {
    const buyer = randomUUID();
    const product = randomUUID();
    const id = await paidOrder(buyer, product, 2, 450);
    const representations = [{ __typename: 'Order', id }];
    const expected = {
      id,
      status: 'PAID',
      total: { amount: 900 },
      buyer: { id: buyer },
      items: [{ quantity: 2, product: { id: product } }],
    };
    expect((await graphql(ORDER_ENTITIES, { representations }, await sign(buyer, 'CUSTOMER'))).data._entities).toEqual([expected]);
    expect((await graphql(ORDER_ENTITIES, { representations }, await sign(randomUUID(), 'ADMIN'))).data._entities).toEqual([expected]);
    const stranger = await graphql(ORDER_ENTITIES, { representations }, await sign(randomUUID(), 'CUSTOMER'));
    expect(stranger.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it('adds sales to products for admins only', async () => {
    const product = randomUUID();
    await paidOrder(randomUUID(), product, 3, 100);
    await paidOrder(randomUUID(), product, 1, 120);
    const representations = [
      { __typename: 'Product', id: product },
      { __typename: 'Product', id: randomUUID() },
    ];
    const admin = await graphql(SALES, { representations }, await sign(randomUUID(), 'ADMIN'));
    expect(admin.data._entities).toEqual([
      { id: product, sales: { unitsSold: 4, orderCount: 2, revenue: { amount: 420 } } },
      { id: representations[1]!.id, sales: { unitsSold: 0, orderCount: 0, revenue: { amount: 0 } } },
    ]);
    const customer = await graphql(SALES, { representations }, await sign(randomUUID(), 'CUSTOMER'));
    expect(customer.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  });
});
