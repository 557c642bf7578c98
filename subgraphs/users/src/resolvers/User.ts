import { clientError } from '@shop/service';
import { ADMIN_ROLE, requireViewer } from '@shop/subgraph';
import type { UserResolvers } from '../generated/resolvers-types.js';

export const User: UserResolvers = {
  /**
   * Other subgraphs hand us a user id (an order's buyer, say). Only that user and admins may read the
   * account behind it: the check is here, not only at the root fields.
   */
  async __resolveReference({ id }, { viewer, userById }) {
    const caller = requireViewer(viewer);
    if (caller.id !== id && caller.role !== ADMIN_ROLE) {
      throw clientError('FORBIDDEN', 'You may only read your own account');
    }
    return userById.load(id);
  },
};
