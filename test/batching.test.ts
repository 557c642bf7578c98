import { describe, expect, it } from 'vitest';
import { adminToken, createProduct, metric, placeOrder, registerCustomer, run } from './client.js';

const DATABASES = ['users', 'products', 'orders'] as const;

/** SQL statements each database ran for client requests while `work` ran. */
async function statementsDuring(work: () => Promise<unknown>): Promise<Record<(typeof DATABASES)[number], number>> {
  const read = () => Promise.all(DATABASES.map((service) => metric(service, 'db_queries_total', { service, origin: 'request' })));
  const before = await read();
  await work();
  const after = await read();
  return Object.fromEntries(DATABASES.map((service, i) => [service, after[i]! - before[i]!])) as Record<(typeof DATABASES)[number], number>;
}

/** A customer with `count` orders of three different products each. */
async function customerWithOrders(count: number) {
  const customer = await registerCustomer();
  const products = await Promise.all([1, 2, 3].map(() => createProduct({ stock: 1000 })));
  for (let i = 0; i < count; i += 1) {
    await placeOrder(
      customer.token,
      products.map((product) => ({ productId: product.id, quantity: 1 + (i % 2) })),
    );
  }
  return customer;
}

describe('entity references are batched', () => {
  it('costs the same statements for OrderHistory at 5 and at 20 orders, at most 3 per database', async () => {
    const few = await customerWithOrders(5);
    const many = await customerWithOrders(20);

    let fewResponse: any;
    let manyResponse: any;
    const forFew = await statementsDuring(async () => (fewResponse = await run('OrderHistory', { first: 20 }, few.token)));
    const forMany = await statementsDuring(async () => (manyResponse = await run('OrderHistory', { first: 20 }, many.token)));

    // The work really happened: every order and every item's product came back.
    expect(fewResponse.errors).toBeUndefined();
    expect(manyResponse.errors).toBeUndefined();
    expect(fewResponse.data.me.orders.edges).toHaveLength(5);
    expect(manyResponse.data.me.orders.edges).toHaveLength(20);
    expect(manyResponse.data.me.orders.edges.flatMap((e: any) => e.node.items.map((i: any) => i.product.sku)).every(Boolean)).toBe(true);

    expect(forMany).toEqual(forFew);
    for (const database of DATABASES) {
      expect(forMany[database]).toBeGreaterThan(0);
      expect(forMany[database]).toBeLessThanOrEqual(3);
    }
    // A first page of orders brings its count and its lines in the one statement.
    expect(forMany.orders).toBe(1);
  });

  it('costs the same statements for the admin Customers page at 2 and at 50 users', async () => {
    await Promise.all([1, 2, 3].map(() => customerWithOrders(2)));
    const admin = await adminToken();
    const small = await statementsDuring(() => run('Customers', { first: 2 }, admin));
    const large = await statementsDuring(() => run('Customers', { first: 50 }, admin));
    expect(large).toEqual(small);
    expect(large.orders).toBeLessThanOrEqual(2); // one page statement and one count for every user at once
  });
});
