import type { QueryResolvers } from '../generated/resolvers-types.js';
import { readableOrder } from './Order.js';

export const Query: QueryResolvers = {
  async order(_parent, { id }, { viewer, orderById }) {
    return readableOrder(await orderById.load(id), viewer);
  },
};
