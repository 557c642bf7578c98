import { clientError } from '@shop/service';
import {
  SERVICE_ROLE,
  boundedText,
  decodeCursor,
  encodeCursor,
  isUuid,
  pageSize,
  requireRole,
  runInBackground,
  toConnection,
} from '@shop/subgraph';
import { countProducts, findProductBySku, listProducts, sortKey, type ProductSort } from '../db/products-repository.js';
import { listHeldReservations } from '../db/reservations-repository.js';
import type { ProductRow } from '../db/schema.js';
import type { QueryResolvers } from '../generated/resolvers-types.js';

export const Query: QueryResolvers = {
  async products(_parent, { first, after, filter, sort }, { db }) {
    const order: ProductSort = sort ?? 'NEWEST';
    const size = pageSize(first);
    const cursorKind = `products:${order}`;
    const cursor = decodeCursor(after, cursorKind, order === 'NAME' ? 'text' : order === 'NEWEST' ? 'timestamp' : 'integer');
    const catalogueFilter = { ...filter, search: filter?.search == null ? null : boundedText('search', filter.search, 0, 100) };
    if (catalogueFilter.minPrice != null && catalogueFilter.maxPrice != null && catalogueFilter.minPrice > catalogueFilter.maxPrice) {
      throw clientError('BAD_USER_INPUT', 'minPrice must not exceed maxPrice', { field: 'filter' });
    }
    const rows = await listProducts(db, { filter: catalogueFilter, sort: order, limit: size + 1, after: cursor });
    const cursorOf = (row: ProductRow) => encodeCursor(cursorKind, sortKey[order](row), row.id);
    return toConnection(rows, size, cursorOf, () => countProducts(db, catalogueFilter));
  },

  product(_parent, { id }, { productById }) {
    return productById.load(id);
  },

  async productBySku(_parent, { sku }, { db }) {
    return sku.length > 64 ? null : ((await findProductBySku(db, sku)) ?? null);
  },

  async heldReservations(_parent, { after, first }, { viewer, db }) {
    requireRole(viewer, SERVICE_ROLE);
    if (!Number.isInteger(first) || first < 1 || first > 500)
      throw clientError('BAD_USER_INPUT', 'first must be 1 to 500', { field: 'first' });
    if (after != null && !isUuid(after)) throw clientError('BAD_USER_INPUT', 'after must be an order id', { field: 'after' });
    // Only orders' recovery sweep asks this, on its own schedule: its statements are background work, not a
    // client's request's.
    return runInBackground(() => listHeldReservations(db, after ?? null, first));
  },
};
