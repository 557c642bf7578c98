import { requireViewer } from '@shop/subgraph';
import type { MutationResolvers } from '../generated/resolvers-types.js';

export const Mutation: MutationResolvers = {
  async placeOrder(_parent, { input }, { viewer, checkout }) {
    const buyer = requireViewer(viewer);
    return { order: await checkout.place(buyer.id, input.items, input.idempotencyKey) };
  },

  async payOrder(_parent, { input }, { viewer, checkout }) {
    return { order: await checkout.pay(requireViewer(viewer), input.orderId, input.paymentToken) };
  },

  async cancelOrder(_parent, { id }, { viewer, checkout }) {
    return { order: await checkout.cancel(requireViewer(viewer), id) };
  },
};
