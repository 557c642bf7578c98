import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { codes, createProduct, placeOrder, registerCustomer, run, stockOf } from './client.js';
import { expectStockConserved, ordersOf } from './conservation.js';

describe('checkout under races', () => {
  it('sells exactly the stock when 60 buyers race for the last 10 units', async () => {
    const product = await createProduct({ stock: 10 });
    const buyers = await Promise.all(Array.from({ length: 60 }, () => registerCustomer()));
    const responses = await Promise.all(buyers.map((buyer) => placeOrder(buyer.token, [{ productId: product.id, quantity: 1 }])));
    const sold = responses.filter((response) => response.data?.placeOrder);
    const refused = responses.filter((response) => !response.data?.placeOrder);
    expect(sold).toHaveLength(10);
    expect(refused.map((response) => codes(response))).toEqual(Array.from({ length: 50 }, () => ['INSUFFICIENT_STOCK']));
    expect(await stockOf(product.id)).toBe(0);
    await expectStockConserved(
      [{ id: product.id, initialStock: 10 }],
      buyers.map((b) => b.token),
      stockOf,
    );
  });

  it('never oversells a multi-line cart racing single-line ones', async () => {
    const a = await createProduct({ stock: 7 });
    const b = await createProduct({ stock: 5 });
    const buyers = await Promise.all(Array.from({ length: 40 }, () => registerCustomer()));
    await Promise.all(
      buyers.map((buyer, i) =>
        placeOrder(
          buyer.token,
          i % 3 === 0
            ? [
                { productId: a.id, quantity: 2 },
                { productId: b.id, quantity: 1 },
              ]
            : [{ productId: i % 2 ? a.id : b.id, quantity: 1 }],
        ),
      ),
    );
    expect(await stockOf(a.id)).toBeGreaterThanOrEqual(0);
    expect(await stockOf(b.id)).toBeGreaterThanOrEqual(0);
    await expectStockConserved(
      [
        { id: a.id, initialStock: 7 },
        { id: b.id, initialStock: 5 },
      ],
      buyers.map((x) => x.token),
      stockOf,
    );
  });

  it('gives one order to 50 concurrent requests with the same idempotency key', async () => {
    const buyer = await registerCustomer();
    const product = await createProduct({ stock: 20 });
    const key = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => placeOrder(buyer.token, [{ productId: product.id, quantity: 3 }], key)),
    );
    expect(responses.map((response) => response.errors)).toEqual(Array.from({ length: 50 }, () => undefined));
    const ids = new Set(responses.map((response) => response.data.placeOrder.order.id));
    expect(ids.size).toBe(1);
    expect(await stockOf(product.id)).toBe(17);
    expect((await ordersOf(buyer.token)).map((order) => order.id)).toEqual([...ids]);
  });

  it('refuses a key reused concurrently with another cart, and places one order', async () => {
    const buyer = await registerCustomer();
    const product = await createProduct({ stock: 100 });
    const key = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => placeOrder(buyer.token, [{ productId: product.id, quantity: i % 2 ? 1 : 2 }], key)),
    );
    const placed = responses.filter((response) => response.data?.placeOrder);
    const quantities = new Set(placed.map((response) => response.data.placeOrder.order.items[0].quantity));
    expect(quantities.size).toBe(1);
    expect(new Set(placed.map((response) => response.data.placeOrder.order.id)).size).toBe(1);
    expect(placed).toHaveLength(20);
    expect(responses.filter((response) => !response.data?.placeOrder).map(codes)).toEqual(
      Array.from({ length: 20 }, () => ['BAD_USER_INPUT']),
    );
    expect(await stockOf(product.id)).toBe(100 - [...quantities][0]);
  });

  it('settles a pay racing a cancel on one order to exactly one outcome, with stock to match', async () => {
    const product = await createProduct({ stock: 100 });
    const buyers = await Promise.all(Array.from({ length: 20 }, () => registerCustomer()));
    const orders = await Promise.all(
      buyers.map(async (buyer) => ({
        buyer,
        id: (await placeOrder(buyer.token, [{ productId: product.id, quantity: 2 }])).data.placeOrder.order.id as string,
      })),
    );
    const outcomes = await Promise.all(
      orders.map(async ({ buyer, id }) => {
        const [pay, cancel] = await Promise.all([
          run('PayOrder', { input: { orderId: id, paymentToken: 'tok_visa' } }, buyer.token),
          run('CancelOrder', { id }, buyer.token),
        ]);
        const status = (await run('OrderDetail', { id }, buyer.token)).data.order.status;
        return { pay, cancel, status };
      }),
    );
    for (const { pay, cancel, status } of outcomes) {
      const payWon = Boolean(pay.data?.payOrder);
      const cancelWon = Boolean(cancel.data?.cancelOrder);
      expect(payWon !== cancelWon).toBe(true);
      expect(status).toBe(payWon ? 'PAID' : 'CANCELLED');
      expect(codes(payWon ? cancel : pay)).toEqual(['INVALID_STATE']);
    }
    const paid = outcomes.filter((o) => o.status === 'PAID').length;
    expect(await stockOf(product.id)).toBe(100 - 2 * paid);
    await expectStockConserved(
      [{ id: product.id, initialStock: 100 }],
      buyers.map((b) => b.token),
      stockOf,
    );
  });
});
