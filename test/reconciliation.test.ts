import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { SignJWT } from 'jose';
import { describe, expect, inject, it } from 'vitest';
import { createProduct, eventually, placeOrder, post, registerCustomer, run, stockOf } from './client.js';
import { expectStockConserved } from './conservation.js';

/**
 * Stock held for no order (issue 12, item 4). Recovery reconciles in both directions: orders whose stock is not
 * settled, and stock products still holds whose order failed, was cancelled or does not exist.
 */

/** A token of the orders service, signed with the development key the test stack generated under DATA_DIR. */
function serviceToken(): Promise<string> {
  const { DATA_DIR } = JSON.parse(inject('stackEnv')) as { DATA_DIR: string };
  const key = new TextEncoder().encode(readFileSync(path.join(DATA_DIR, 'jwt-secret'), 'utf8').trim());
  return new SignJWT({ role: 'SERVICE' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('orders-service')
    .setIssuer('federated-shop')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}

describe('stock held for no order', () => {
  it('goes back to the catalogue when its order does not exist', async () => {
    const product = await createProduct({ stock: 10 });
    const reserved = await post(
      {
        query: `mutation($orderId: ID!, $lines: [StockLineInput!]!) { reserveStock(orderId: $orderId, lines: $lines) { state } }`,
        variables: { orderId: randomUUID(), lines: [{ productId: product.id, quantity: 4 }] },
      },
      await serviceToken(),
      `${inject('serviceUrls').products}/graphql`,
    );
    expect(reserved.data?.reserveStock.state).toBe('RESERVED');
    expect(await stockOf(product.id)).toBe(6);
    await eventually(async () => expect(await stockOf(product.id)).toBe(10), 30_000);
  }, 90_000);

  it('is never left behind by PlaceOrder requests sharing one key while stock is short and being released', async () => {
    for (let round = 0; round < 6; round += 1) {
      const product = await createProduct({ stock: 3 });
      const holder = await registerCustomer();
      const buyer = await registerCustomer();
      const held = await placeOrder(holder.token, [{ productId: product.id, quantity: 3 }]);
      const key = randomUUID();
      // The holder's cancel gives the stock back while the same-key requests are under way: some find none
      // and fail the order, others may reserve what was just released.
      await Promise.all([
        ...Array.from({ length: 6 }, () => placeOrder(buyer.token, [{ productId: product.id, quantity: 3 }], key)),
        run('CancelOrder', { id: held.data.placeOrder.order.id }, holder.token),
      ]);
      await eventually(() => expectStockConserved([{ id: product.id, initialStock: 3 }], [holder.token, buyer.token], stockOf), 60_000);
    }
  });
});
