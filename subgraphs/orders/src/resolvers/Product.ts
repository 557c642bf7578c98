import { ADMIN_ROLE, requireRole } from '@shop/subgraph';
import type { ProductResolvers, ProductSalesResolvers } from '../generated/resolvers-types.js';
import { SHOP_CURRENCY } from '../currency.js';

export const Product: ProductResolvers = {
  __resolveReference: ({ id }) => ({ id }),

  async sales({ id }, _args, { viewer, salesOfProduct }) {
    requireRole(viewer, ADMIN_ROLE);
    return (await salesOfProduct.load(id)) ?? { productId: id, unitsSold: 0, orderCount: 0, revenue: 0 };
  },
};

export const ProductSales: ProductSalesResolvers = {
  revenue: (sales) => ({ amount: sales.revenue, currency: SHOP_CURRENCY }),
};
