import { clientError } from '@shop/service';
import { ADMIN_ROLE, requireViewer, type Viewer } from '@shop/subgraph';
import type { OrderRow } from '../db/schema.js';
import type { OrderItemResolvers, OrderResolvers } from '../generated/resolvers-types.js';
import { VISIBLE_STATES } from '../db/orders-repository.js';

/** An order a client may see, checked for the caller: its buyer or an admin; null when there is none. */
export function readableOrder(order: OrderRow | null, viewer: Viewer | null): OrderRow | null {
  const caller = requireViewer(viewer);
  if (!order || !VISIBLE_STATES.includes(order.state)) return null;
  if (order.buyerId !== caller.id && caller.role !== ADMIN_ROLE) throw clientError('FORBIDDEN', 'This is not your order');
  return order;
}

export const Order: OrderResolvers = {
  async __resolveReference({ id }, { viewer, orderById }) {
    return readableOrder(await orderById.load(id), viewer);
  },
  buyer: (order) => ({ id: order.buyerId }),
  items: (order, _args, { itemsByOrderId }) => itemsByOrderId.load(order.id),
  total: (order) => ({ amount: order.totalAmount, currency: order.currency }),
  // Paying is a step inside the saga; to the client the order is still waiting for payment.
  status: (order) => (order.state === 'PAYING' ? 'PENDING' : (order.state as 'PENDING' | 'PAID' | 'CANCELLED')),
};

export const OrderItem: OrderItemResolvers = {
  unitPrice: (item) => ({ amount: item.unitPriceAmount, currency: item.currency }),
  product: (item) => ({ id: item.productId }),
};
