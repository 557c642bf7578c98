/** The shop's one currency (`SHOP_CURRENCY`, default USD), which the products subgraph prices in too. */
export const SHOP_CURRENCY = process.env.SHOP_CURRENCY ?? 'USD';
