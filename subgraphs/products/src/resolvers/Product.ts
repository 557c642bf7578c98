import type { ProductResolvers, ReservedLineResolvers } from '../generated/resolvers-types.js';

export const Product: ProductResolvers = {
  /** Only the id of a representation is used: prices and stock always come from the catalogue. */
  __resolveReference({ id }, { productById }) {
    return productById.load(id);
  },
  price: (product) => ({ amount: product.priceAmount, currency: product.priceCurrency }),
  inStock: (product) => product.stock > 0,
};

export const ReservedLine: ReservedLineResolvers = {
  unitPrice: (line) => ({ amount: line.unitPriceAmount, currency: line.currency }),
};
