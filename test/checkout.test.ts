import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adminToken, codes, createProduct, placeOrder, registerCustomer, run, stockOf } from './client.js';

describe('PlaceOrder', () => {
  it('needs a token', async () => {
    const product = await createProduct({ stock: 5 });
    const response = await placeOrder('', [{ productId: product.id, quantity: 1 }]);
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(await stockOf(product.id)).toBe(5);
  });

  it('reserves stock at the catalogue price and returns the order with its buyer and products', async () => {
    const { token, user, email } = await registerCustomer();
    const mug = await createProduct({ name: 'Mug', price: 1250, stock: 10 });
    const tea = await createProduct({ name: 'Tea', price: 399, stock: 5 });
    const response = await placeOrder(token, [
      { productId: mug.id, quantity: 2 },
      { productId: tea.id, quantity: 3 },
    ]);
    expect(response.errors).toBeUndefined();
    const order = response.data.placeOrder.order;
    expect(order).toMatchObject({
      status: 'PENDING',
      total: { amount: 2 * 1250 + 3 * 399, currency: 'USD' },
      buyer: { id: user.id, email },
      items: [
        { quantity: 2, unitPrice: { amount: 1250, currency: 'USD' }, product: { id: mug.id, sku: mug.sku, name: 'Mug' } },
        { quantity: 3, unitPrice: { amount: 399, currency: 'USD' }, product: { id: tea.id, sku: tea.sku, name: 'Tea' } },
      ],
    });
    expect(await stockOf(mug.id)).toBe(8);
    expect(await stockOf(tea.id)).toBe(2);
  });

  it('returns the same order for the same idempotency key and reserves once', async () => {
    const { token } = await registerCustomer();
    const product = await createProduct({ stock: 10 });
    const key = randomUUID();
    const first = await placeOrder(token, [{ productId: product.id, quantity: 3 }], key);
    const again = await placeOrder(token, [{ productId: product.id, quantity: 3 }], key);
    expect(again.data.placeOrder.order.id).toBe(first.data.placeOrder.order.id);
    expect(await stockOf(product.id)).toBe(7);
  });

  it('refuses the same key with another cart and places nothing', async () => {
    const { token } = await registerCustomer();
    const product = await createProduct({ stock: 10 });
    const key = randomUUID();
    await placeOrder(token, [{ productId: product.id, quantity: 1 }], key);
    const other = await placeOrder(token, [{ productId: product.id, quantity: 4 }], key);
    expect(codes(other)).toEqual(['BAD_USER_INPUT']);
    expect(await stockOf(product.id)).toBe(9);
  });

  it('reserves every line or none, with INSUFFICIENT_STOCK', async () => {
    const { token } = await registerCustomer();
    const plenty = await createProduct({ stock: 10 });
    const scarce = await createProduct({ stock: 1 });
    const response = await placeOrder(token, [
      { productId: plenty.id, quantity: 5 },
      { productId: scarce.id, quantity: 2 },
    ]);
    expect(codes(response)).toEqual(['INSUFFICIENT_STOCK']);
    expect(await stockOf(plenty.id)).toBe(10);
    expect(await stockOf(scarce.id)).toBe(1);
    const history = await run('OrderHistory', { first: 5 }, token);
    expect(history.data.me.orders.totalCount).toBe(0);
  });

  it.each([
    ['no lines', []],
    ['a zero quantity', [{ quantity: 0 }]],
    ['an unknown product', [{ productId: randomUUID(), quantity: 1 }]],
    ['a malformed product id', [{ productId: 'x', quantity: 1 }]],
    ['too many lines', Array.from({ length: 51 }, () => ({ productId: randomUUID(), quantity: 1 }))],
  ])('gives BAD_USER_INPUT for %s', async (_case, lines) => {
    const { token } = await registerCustomer();
    const product = await createProduct({ stock: 3 });
    const items = (lines as { productId?: string; quantity: number }[]).map((line) => ({ productId: product.id, ...line }));
    expect(codes(await placeOrder(token, items))).toEqual(['BAD_USER_INPUT']);
    expect(await stockOf(product.id)).toBe(3);
  });

  it('keeps the price an order was placed at when the catalogue price changes', async () => {
    const { token } = await registerCustomer();
    const product = await createProduct({ price: 1000, stock: 5 });
    const placed = await placeOrder(token, [{ productId: product.id, quantity: 1 }]);
    await run('UpdateProduct', { id: product.id, input: { price: { amount: 9999, currency: 'USD' } } }, await adminToken());
    const detail = await run('OrderDetail', { id: placed.data.placeOrder.order.id }, token);
    expect(detail.data.order.items[0].unitPrice.amount).toBe(1000);
    expect(detail.data.order.total.amount).toBe(1000);
  });
});

describe('PayOrder and CancelOrder', () => {
  async function pendingOrder(stock = 10, quantity = 2) {
    const customer = await registerCustomer();
    const product = await createProduct({ stock, price: 700 });
    const placed = await placeOrder(customer.token, [{ productId: product.id, quantity }]);
    return { ...customer, product, orderId: placed.data.placeOrder.order.id as string };
  }

  it('pays a PENDING order with tok_visa', async () => {
    const { token, orderId } = await pendingOrder();
    const paid = await run('PayOrder', { input: { orderId, paymentToken: 'tok_visa' } }, token);
    expect(paid.errors).toBeUndefined();
    expect(paid.data.payOrder.order).toMatchObject({ id: orderId, status: 'PAID' });
    expect(Date.parse(paid.data.payOrder.order.paidAt)).toBeGreaterThan(Date.now() - 60_000);
    const again = await run('PayOrder', { input: { orderId, paymentToken: 'tok_visa' } }, token);
    expect(codes(again)).toEqual(['INVALID_STATE']);
  });

  it('leaves a declined order PENDING and payable again', async () => {
    const { token, orderId, product } = await pendingOrder();
    const declined = await run('PayOrder', { input: { orderId, paymentToken: 'tok_chargeDeclined' } }, token);
    expect(codes(declined)).toEqual(['PAYMENT_DECLINED']);
    expect((await run('OrderDetail', { id: orderId }, token)).data.order).toMatchObject({ status: 'PENDING', paidAt: null });
    expect(await stockOf(product.id)).toBe(8);
    const paid = await run('PayOrder', { input: { orderId, paymentToken: 'tok_visa' } }, token);
    expect(paid.data.payOrder.order.status).toBe('PAID');
  });

  it('refuses an unknown payment token and keeps the order PENDING', async () => {
    const { token, orderId } = await pendingOrder();
    expect(codes(await run('PayOrder', { input: { orderId, paymentToken: 'tok_bogus' } }, token))).toEqual(['BAD_USER_INPUT']);
    expect((await run('OrderDetail', { id: orderId }, token)).data.order.status).toBe('PENDING');
  });

  it('cancels a PENDING order and gives its stock back', async () => {
    const { token, orderId, product } = await pendingOrder(10, 4);
    expect(await stockOf(product.id)).toBe(6);
    const cancelled = await run('CancelOrder', { id: orderId }, token);
    expect(cancelled.data.cancelOrder.order).toEqual({ id: orderId, status: 'CANCELLED' });
    expect(await stockOf(product.id)).toBe(10);
    expect(codes(await run('CancelOrder', { id: orderId }, token))).toEqual(['INVALID_STATE']);
    expect(codes(await run('PayOrder', { input: { orderId, paymentToken: 'tok_visa' } }, token))).toEqual(['INVALID_STATE']);
    expect(await stockOf(product.id)).toBe(10);
  });

  it('refuses to cancel a PAID order and keeps its stock sold', async () => {
    const { token, orderId, product } = await pendingOrder(10, 3);
    await run('PayOrder', { input: { orderId, paymentToken: 'tok_visa' } }, token);
    expect(codes(await run('CancelOrder', { id: orderId }, token))).toEqual(['INVALID_STATE']);
    expect(await stockOf(product.id)).toBe(7);
  });

  it("refuses to pay or cancel someone else's order", async () => {
    const { orderId, product } = await pendingOrder(10, 1);
    const stranger = await registerCustomer();
    expect(codes(await run('CancelOrder', { id: orderId }, stranger.token))).toEqual(['FORBIDDEN']);
    expect(codes(await run('PayOrder', { input: { orderId, paymentToken: 'tok_visa' } }, stranger.token))).toEqual(['FORBIDDEN']);
    expect(codes(await run('CancelOrder', { id: randomUUID() }, stranger.token))).toEqual(['NOT_FOUND']);
    expect(await stockOf(product.id)).toBe(9);
  });
});

describe('OrderDetail', () => {
  it('is readable by the buyer and by an admin, FORBIDDEN to anyone else', async () => {
    const buyer = await registerCustomer('Buyer Bea');
    const product = await createProduct({ name: 'Kettle', stock: 4 });
    const placed = await placeOrder(buyer.token, [{ productId: product.id, quantity: 1 }]);
    const id = placed.data.placeOrder.order.id;
    const expected = {
      id,
      status: 'PENDING',
      paidAt: null,
      buyer: { id: buyer.user.id, name: 'Buyer Bea', email: buyer.email },
      items: [{ quantity: 1, product: { id: product.id, name: 'Kettle', sku: product.sku, inStock: true } }],
    };
    expect((await run('OrderDetail', { id }, buyer.token)).data.order).toMatchObject(expected);
    expect((await run('OrderDetail', { id }, await adminToken())).data.order).toMatchObject(expected);
    const stranger = await registerCustomer();
    const forbidden = await run('OrderDetail', { id }, stranger.token);
    expect(codes(forbidden)).toEqual(['FORBIDDEN']);
    expect(forbidden.data?.order ?? null).toBeNull();
    expect(codes(await run('OrderDetail', { id }))).toEqual(['UNAUTHENTICATED']);
    expect((await run('OrderDetail', { id: randomUUID() }, buyer.token)).data).toEqual({ order: null });
  });
});

describe('OrderHistory', () => {
  it('joins three subgraphs, newest order first, a page at a time', async () => {
    const { token, user } = await registerCustomer('History Hal');
    const product = await createProduct({ name: 'Pen', price: 150, stock: 100 });
    const ids: string[] = [];
    for (let quantity = 1; quantity <= 3; quantity += 1) {
      ids.push((await placeOrder(token, [{ productId: product.id, quantity }])).data.placeOrder.order.id);
    }
    const first = await run('OrderHistory', { first: 2 }, token);
    expect(first.errors).toBeUndefined();
    expect(first.data.me).toMatchObject({ id: user.id, name: 'History Hal' });
    const orders = first.data.me.orders;
    expect(orders.totalCount).toBe(3);
    expect(orders.pageInfo.hasNextPage).toBe(true);
    expect(orders.edges.map((e: any) => e.node.id)).toEqual([ids[2], ids[1]]);
    expect(orders.edges[0].node).toMatchObject({
      status: 'PENDING',
      total: { amount: 450, currency: 'USD' },
      items: [
        {
          quantity: 3,
          unitPrice: { amount: 150, currency: 'USD' },
          product: { id: product.id, sku: product.sku, name: 'Pen', price: { amount: 150, currency: 'USD' } },
        },
      ],
    });
    const rest = await run('OrderHistory', { first: 2, after: orders.pageInfo.endCursor }, token);
    expect(rest.data.me.orders.edges.map((e: any) => e.node.id)).toEqual([ids[0]]);
    expect(rest.data.me.orders.pageInfo.hasNextPage).toBe(false);
    // A first page counts the buyer's orders in its own statement, a later one with a separate count: both
    // must say all of them, not just those on or after the page.
    expect(rest.data.me.orders.totalCount).toBe(3);
  });
});
