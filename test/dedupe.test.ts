import { describe, expect, it } from 'vitest';
import { createProduct, metric, placeOrder, registerCustomer, run } from './client.js';

// In-flight deduplication through the real router and subgraphs (router/src/dedupe.ts; unit tests in
// router/test/dedupe.test.ts): identical queries sent at once cost the subgraph fewer requests than clients,
// and customers sending the same query at once each get their own answer.

const fetchesOf = (service: string) => metric(service, 'graphql_requests_total');

describe('in-flight deduplication through the router', () => {
  it('sends the products subgraph fewer requests than identical concurrent Catalogue queries, all answered alike', async () => {
    const category = `dedupe-${Date.now()}`;
    await Promise.all([1, 2, 3].map(() => createProduct({ category, stock: 5 })));
    const variables = { first: 20, filter: { category, inStock: true }, sort: 'PRICE_ASC' };
    const before = await fetchesOf('products');
    const answers = await Promise.all(Array.from({ length: 24 }, () => run('Catalogue', variables)));
    const fetches = (await fetchesOf('products')) - before;
    for (const answer of answers) {
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toEqual(answers[0]!.data);
    }
    expect(answers[0]!.data.products.edges).toHaveLength(3);
    expect(fetches).toBeGreaterThanOrEqual(1);
    expect(fetches).toBeLessThan(24);
  });

  it('gives customers who send the same OrderHistory at once their own orders, never each other', async () => {
    const product = await createProduct({ stock: 1000 });
    const customers = await Promise.all([1, 2, 3].map((n) => registerCustomer(`Dedupe ${n}`)));
    for (const [i, customer] of customers.entries()) {
      for (let k = 0; k <= i; k++) await placeOrder(customer.token, [{ productId: product.id, quantity: 1 }]);
    }
    const sent = Array.from({ length: 30 }, (_, i) => customers[i % customers.length]!);
    const answers = await Promise.all(sent.map((customer) => run('OrderHistory', { first: 20 }, customer.token)));
    answers.forEach((answer, i) => {
      const customer = sent[i]!;
      expect(answer.errors).toBeUndefined();
      expect(answer.data.me.id).toBe(customer.user.id);
      expect(answer.data.me.orders.totalCount).toBe(customers.indexOf(customer) + 1);
    });
  });

  it('reads its own write: OrderHistory sent right after PlaceOrder shows the new order', async () => {
    const product = await createProduct({ stock: 1000 });
    const customer = await registerCustomer('Dedupe writer');
    // Reads of the same history keep going while the customer places orders.
    let reading = true;
    const background = (async () => {
      while (reading) await Promise.all([1, 2, 3].map(() => run('OrderHistory', { first: 20 }, customer.token)));
    })();
    try {
      for (let n = 1; n <= 5; n++) {
        await placeOrder(customer.token, [{ productId: product.id, quantity: 1 }]);
        const after = await run('OrderHistory', { first: 20 }, customer.token);
        expect(after.data.me.orders.totalCount).toBe(n);
      }
    } finally {
      reading = false;
      await background;
    }
  });
});
