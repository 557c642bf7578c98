import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adminToken, codes, createProduct, placeOrder, post, registerCustomer, run, stockOf } from './client.js';

const newProduct = () => ({
  sku: `ADM-${randomUUID()}`,
  name: 'Desk',
  description: 'Oak',
  category: 'furniture',
  price: { amount: 25000, currency: 'USD' },
  stock: 2,
});

describe('CreateProduct, UpdateProduct, RestockProduct', () => {
  it('lets an admin create, update and restock a product', async () => {
    const admin = await adminToken();
    const input = newProduct();
    const created = await run('CreateProduct', { input }, admin);
    expect(created.errors).toBeUndefined();
    const product = created.data.createProduct.product;
    expect(product).toMatchObject({
      sku: input.sku,
      name: 'Desk',
      description: 'Oak',
      category: 'furniture',
      stock: 2,
      price: input.price,
    });

    const updated = await run('UpdateProduct', { id: product.id, input: { name: 'Standing Desk', category: 'office' } }, admin);
    expect(updated.data.updateProduct.product).toEqual({
      id: product.id,
      name: 'Standing Desk',
      description: 'Oak',
      category: 'office',
      price: input.price,
    });

    const restocked = await run('RestockProduct', { id: product.id, quantity: 5 }, admin);
    expect(restocked.data.restockProduct.product).toEqual({ id: product.id, stock: 7, inStock: true });
  });

  it('gives BAD_USER_INPUT for a taken sku and creates nothing', async () => {
    const admin = await adminToken();
    const input = newProduct();
    await run('CreateProduct', { input }, admin);
    const again = await run('CreateProduct', { input: { ...input, name: 'Other' } }, admin);
    expect(codes(again)).toEqual(['BAD_USER_INPUT']);
    expect((await run('ProductBySku', { sku: input.sku })).data.productBySku.name).toBe('Desk');
  });

  it.each([
    ['a negative price', { price: { amount: -1, currency: 'USD' } }],
    ['another currency', { price: { amount: 100, currency: 'EUR' } }],
    ['a negative stock', { stock: -3 }],
    ['an empty name', { name: '' }],
    ['an over-long sku', { sku: 'S'.repeat(65) }],
  ])('gives BAD_USER_INPUT for %s', async (_case, change) => {
    const input = { ...newProduct(), ...change };
    expect(codes(await run('CreateProduct', { input }, await adminToken()))).toEqual(['BAD_USER_INPUT']);
    expect((await run('ProductBySku', { sku: input.sku })).data?.productBySku ?? null).toBeNull();
  });

  it('refuses a restock of zero or less and an unknown product', async () => {
    const admin = await adminToken();
    const product = await createProduct({ stock: 4 });
    expect(codes(await run('RestockProduct', { id: product.id, quantity: 0 }, admin))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await run('RestockProduct', { id: product.id, quantity: -5 }, admin))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await run('RestockProduct', { id: randomUUID(), quantity: 5 }, admin))).toEqual(['NOT_FOUND']);
    expect(await stockOf(product.id)).toBe(4);
  });

  it('gives FORBIDDEN to customers and UNAUTHENTICATED to anonymous callers, changing nothing', async () => {
    const { token } = await registerCustomer();
    const product = await createProduct({ stock: 4, name: 'Chair' });
    const input = newProduct();
    expect(codes(await run('CreateProduct', { input }, token))).toEqual(['FORBIDDEN']);
    expect(codes(await run('UpdateProduct', { id: product.id, input: { name: 'Hacked' } }, token))).toEqual(['FORBIDDEN']);
    expect(codes(await run('RestockProduct', { id: product.id, quantity: 100 }, token))).toEqual(['FORBIDDEN']);
    expect(codes(await run('CreateProduct', { input }))).toEqual(['UNAUTHENTICATED']);
    expect((await run('ProductBySku', { sku: input.sku })).data.productBySku).toBeNull();
    expect((await run('ProductPage', { id: product.id })).data.product).toMatchObject({ name: 'Chair', stock: 4 });
  });
});

describe('SalesReport', () => {
  it('counts PAID orders only, for admins', async () => {
    const product = await createProduct({ price: 500, stock: 50 });
    const alice = await registerCustomer();
    const bob = await registerCustomer();
    const paidA = await placeOrder(alice.token, [{ productId: product.id, quantity: 2 }]);
    const paidB = await placeOrder(bob.token, [{ productId: product.id, quantity: 3 }]);
    await placeOrder(bob.token, [{ productId: product.id, quantity: 7 }]); // stays PENDING
    const cancelled = await placeOrder(alice.token, [{ productId: product.id, quantity: 1 }]);
    await run('PayOrder', { input: { orderId: paidA.data.placeOrder.order.id, paymentToken: 'tok_visa' } }, alice.token);
    await run('PayOrder', { input: { orderId: paidB.data.placeOrder.order.id, paymentToken: 'tok_visa' } }, bob.token);
    await run('CancelOrder', { id: cancelled.data.placeOrder.order.id }, alice.token);

    const report = await run('SalesReport', { first: 100 }, await adminToken());
    expect(report.errors).toBeUndefined();
    const row = report.data.products.edges.find((edge: any) => edge.node.id === product.id);
    expect(row.node.sales).toEqual({ unitsSold: 5, orderCount: 2, revenue: { amount: 2500, currency: 'USD' } });
  });

  it('gives FORBIDDEN on sales to customers, with the rest of the page intact', async () => {
    const { token } = await registerCustomer();
    await createProduct();
    const report = await run('SalesReport', { first: 3 }, token);
    expect(codes(report).length).toBeGreaterThan(0);
    expect(new Set(codes(report))).toEqual(new Set(['FORBIDDEN']));
    expect(report.data.products.edges).toHaveLength(3);
    expect(report.data.products.edges.every((edge: any) => edge.node.sales === null && typeof edge.node.sku === 'string')).toBe(true);
  });
});

describe('Customers', () => {
  it("lists accounts with each one's latest orders, for admins", async () => {
    const product = await createProduct({ price: 100, stock: 100 });
    const shopper = await registerCustomer('Shopper Sam');
    for (let i = 0; i < 4; i += 1) await placeOrder(shopper.token, [{ productId: product.id, quantity: 1 }]);
    const admin = await adminToken();
    // The newest account is last (oldest first); the contract's Customers selects no cursors, so find the cursor
    // of the account before it with a plain users query, then ask Customers for the page after that.
    const cursors: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await post(
        {
          query:
            'query($after: String) { users(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }',
          variables: { after },
        },
        admin,
      );
      for (const edge of page.data.users.edges) {
        if (edge.node.id === shopper.user.id) break;
        cursors.push(edge.cursor);
      }
      if (!page.data.users.pageInfo.hasNextPage) break;
      after = page.data.users.pageInfo.endCursor;
    }
    const response = await run('Customers', { first: 1, after: cursors.at(-1) ?? null }, admin);
    expect(response.errors).toBeUndefined();
    expect(response.data.users.totalCount).toBeGreaterThan(1);
    const [found] = response.data.users.edges;
    expect(found.node).toMatchObject({ id: shopper.user.id, email: shopper.email, name: 'Shopper Sam' });
    expect(found.node.orders.totalCount).toBe(4);
    expect(found.node.orders.edges).toHaveLength(3);
    expect(found.node.orders.edges[0].node).toMatchObject({ status: 'PENDING', total: { amount: 100, currency: 'USD' } });
  });

  it('gives FORBIDDEN to customers', async () => {
    const { token } = await registerCustomer();
    const response = await run('Customers', { first: 5 }, token);
    expect(codes(response)).toEqual(['FORBIDDEN']);
    expect(response.data).toBeNull();
  });
});
