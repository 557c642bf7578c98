import { settings } from './config.js';

/** The shop's one currency (`SHOP_CURRENCY`, default USD), which the products subgraph prices in too. */
export const SHOP_CURRENCY = settings().SHOP_CURRENCY;
