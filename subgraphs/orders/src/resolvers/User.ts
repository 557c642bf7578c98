import { clientError } from '@shop/service';
import { ADMIN_ROLE, decodeCursor, encodeCursor, pageSize, requireViewer, selectsPath, toConnection } from '@shop/subgraph';
import type { OrderRow } from '../db/schema.js';
import type { UserResolvers } from '../generated/resolvers-types.js';

const ORDERS_CURSOR = 'orders:newest';
const orderCursor = (order: OrderRow) => encodeCursor(ORDERS_CURSOR, order.createdAt.getTime(), order.id);

export const User: UserResolvers = {
  __resolveReference: ({ id }) => ({ id }),

  async orders({ id }, { first, after }, { viewer, ordersPage, orderCountOfBuyer }, info) {
    const caller = requireViewer(viewer);
    if (caller.id !== id && caller.role !== ADMIN_ROLE) throw clientError('FORBIDDEN', 'You may only read your own orders');
    const size = pageSize(first);
    const cursor = decodeCursor(after, ORDERS_CURSOR, 'timestamp');
    const page = await ordersPage.load({
      buyerId: id,
      limit: size + 1,
      after: cursor && { createdAt: new Date(cursor.key), id: cursor.id },
      items: selectsPath(info, ['edges', 'node', 'items']),
    });
    const { total } = page;
    return toConnection(page.rows, size, orderCursor, () => (total === null ? orderCountOfBuyer.load(id) : Promise.resolve(total)));
  },
};
