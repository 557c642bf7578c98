import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adminToken, codes, createProduct, placeOrder, post, registerCustomer, run, stockOf } from './client.js';

/**
 * Money beyond a 32-bit Int (issue 12, item 5): an order's total is an Int of minor units, so an order worth more
 * is refused before any stock is held; a product's revenue, summed over many orders, is not bounded by it.
 */

const INT_MAX = 2 ** 31 - 1;

describe('an order total beyond 2^31-1 minor units', () => {
  it('is refused with BAD_USER_INPUT, holding nothing, and the same key is refused again', async () => {
    const { token } = await registerCustomer();
    const product = await createProduct({ price: 3_000_000, stock: 1_000 });
    const key = randomUUID();
    const items = [{ productId: product.id, quantity: 1_000 }];
    const response = await placeOrder(token, items, key);
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0]?.message).toMatch(/total/i);
    expect(await stockOf(product.id)).toBe(1_000);
    expect(codes(await placeOrder(token, items, key))).toEqual(['BAD_USER_INPUT']);
    expect(await stockOf(product.id)).toBe(1_000);
    expect((await run('OrderHistory', { first: 5 }, token)).data.me.orders.totalCount).toBe(0);
  });

  it('counts the sum of all lines, each of which fits', async () => {
    const { token } = await registerCustomer();
    const a = await createProduct({ price: 1_500_000, stock: 1_000 });
    const b = await createProduct({ price: 1_500_000, stock: 1_000 });
    const response = await placeOrder(token, [
      { productId: a.id, quantity: 1_000 },
      { productId: b.id, quantity: 1_000 },
    ]);
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    expect(await stockOf(a.id)).toBe(1_000);
    expect(await stockOf(b.id)).toBe(1_000);
  });

  it('accepts a total just under the limit', async () => {
    const { token } = await registerCustomer();
    const product = await createProduct({ price: Math.floor(INT_MAX / 1_000), stock: 1_000 });
    const response = await placeOrder(token, [{ productId: product.id, quantity: 1_000 }]);
    expect(response.errors).toBeUndefined();
    expect(response.data.placeOrder.order.total).toEqual({ amount: Math.floor(INT_MAX / 1_000) * 1_000, currency: 'USD' });
    expect(await stockOf(product.id)).toBe(0);
  });
});

describe('Product.sales.revenue', () => {
  it('sums paid orders past 2^31-1 minor units exactly', async () => {
    const product = await createProduct({ price: 1_500_000, stock: 2_000 });
    for (let i = 0; i < 2; i += 1) {
      const { token } = await registerCustomer();
      const orderId = (await placeOrder(token, [{ productId: product.id, quantity: 1_000 }])).data.placeOrder.order.id;
      const paid = await run('PayOrder', { input: { orderId, paymentToken: 'tok_visa' } }, token);
      expect(paid.data?.payOrder.order.status).toBe('PAID');
    }
    const response = await post(
      {
        query: `query($id: ID!) { product(id: $id) { sales { unitsSold orderCount revenue { amount currency } } } }`,
        variables: { id: product.id },
      },
      await adminToken(),
    );
    expect(response.errors).toBeUndefined();
    expect(response.data.product.sales).toEqual({
      unitsSold: 2_000,
      orderCount: 2,
      revenue: { amount: 3_000_000_000, currency: 'USD' },
    });
  });
});
