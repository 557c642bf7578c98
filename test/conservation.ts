import { expect } from 'vitest';
import { post } from './client.js';

const HISTORY = `query History($after: String) {
  me { orders(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id status items { quantity product { id } } } } } }
}`;

export interface OrderSummary {
  id: string;
  status: string;
  items: { quantity: number; product: { id: string } }[];
}

/** Every order of a buyer, through the router, as the buyer sees them. */
export async function ordersOf(token: string, routerUrl?: string): Promise<OrderSummary[]> {
  const orders: OrderSummary[] = [];
  let after: string | null = null;
  for (;;) {
    const response: any = await post({ query: HISTORY, variables: { after } }, token, routerUrl);
    if (response.errors) throw new Error(JSON.stringify(response.errors));
    orders.push(...response.data.me.orders.edges.map((edge: { node: OrderSummary }) => edge.node));
    if (!response.data.me.orders.pageInfo.hasNextPage) return orders;
    after = response.data.me.orders.pageInfo.endCursor;
  }
}

/** Units of each product held by PENDING or PAID orders of these buyers. */
export async function unitsHeld(tokens: string[], routerUrl?: string): Promise<Map<string, number>> {
  const held = new Map<string, number>();
  for (const token of tokens) {
    for (const order of await ordersOf(token, routerUrl)) {
      if (order.status !== 'PENDING' && order.status !== 'PAID') continue;
      for (const item of order.items) held.set(item.product.id, (held.get(item.product.id) ?? 0) + item.quantity);
    }
  }
  return held;
}

/** The conservation law of checkout: stock left + units on PENDING/PAID orders = stock before. */
export async function expectStockConserved(
  products: { id: string; initialStock: number }[],
  tokens: string[],
  stockOf: (id: string) => Promise<number>,
  routerUrl?: string,
) {
  const held = await unitsHeld(tokens, routerUrl);
  for (const product of products) {
    const left = await stockOf(product.id);
    expect(left).toBeGreaterThanOrEqual(0);
    expect({ product: product.id, total: left + (held.get(product.id) ?? 0) }).toEqual({
      product: product.id,
      total: product.initialStock,
    });
  }
}
