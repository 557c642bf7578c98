import { clientError } from '@shop/service';

/** The shop sells in one currency (`SHOP_CURRENCY`, default USD); order totals add up prices in it. */
export const SHOP_CURRENCY = process.env.SHOP_CURRENCY ?? 'USD';

export const MAX_PRICE = 100_000_000;

export function validPrice(price: { amount: number; currency: string }) {
  if (!Number.isInteger(price.amount) || price.amount < 0 || price.amount > MAX_PRICE) {
    throw clientError('BAD_USER_INPUT', `price.amount must be a whole number of minor units from 0 to ${MAX_PRICE}`, { field: 'price' });
  }
  if (price.currency !== SHOP_CURRENCY) {
    throw clientError('BAD_USER_INPUT', `price.currency must be ${SHOP_CURRENCY}`, { field: 'price' });
  }
  return { priceAmount: price.amount, priceCurrency: price.currency };
}
