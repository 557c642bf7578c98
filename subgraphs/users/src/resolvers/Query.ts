import { ADMIN_ROLE, decodeCursor, encodeCursor, pageSize, requireRole, toConnection } from '@shop/subgraph';
import { countUsers, listUsers } from '../db/users-repository.js';
import type { UserRow } from '../db/schema.js';
import type { QueryResolvers } from '../generated/resolvers-types.js';

const USERS_CURSOR = 'users:createdAt';
const userCursor = (user: UserRow) => encodeCursor(USERS_CURSOR, user.createdAt.getTime(), user.id);

export const Query: QueryResolvers = {
  async me(_parent, _args, { viewer, userById }) {
    return viewer ? userById.load(viewer.id) : null;
  },

  async users(_parent, { first, after }, { viewer, db }) {
    requireRole(viewer, ADMIN_ROLE);
    const size = pageSize(first);
    const cursor = decodeCursor<number>(after, USERS_CURSOR, 'number');
    const rows = await listUsers(db, size + 1, cursor && { createdAt: new Date(cursor.key), id: cursor.id });
    return toConnection(rows, size, userCursor, () => countUsers(db));
  },
};
