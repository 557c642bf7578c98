import { clientError } from '@shop/service';
import { boundedText, decodeCursor, encodeCursor, pageSize, toConnection } from '@shop/subgraph';
import { countProducts, findProductBySku, listProducts, sortKey, type ProductSort } from '../db/products-repository.js';
import type { ProductRow } from '../db/schema.js';
import type { QueryResolvers } from '../generated/resolvers-types.js';

export const Query: QueryResolvers = {
  async products(_parent, { first, after, filter, sort }, { db }) {
    const order: ProductSort = sort ?? 'NEWEST';
    const size = pageSize(first);
    const cursorKind = `products:${order}`;
    const cursor = decodeCursor<string | number>(after, cursorKind, order === 'NAME' ? 'string' : 'number');
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
};
