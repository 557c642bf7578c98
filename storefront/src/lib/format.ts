/** The contract's Money: an amount in minor units (cents), never a float. */
export interface Money {
  amount: number;
  currency: string;
}

const currencyFormats = new Map<string, Intl.NumberFormat>();

function currencyFormat(currency: string): Intl.NumberFormat {
  let format = currencyFormats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    currencyFormats.set(currency, format);
  }
  return format;
}

/** How many minor units make one unit of the currency: 100 cents to the dollar, 1 for the yen. */
function minorUnitsPerUnit(currency: string): number {
  return 10 ** (currencyFormat(currency).resolvedOptions().maximumFractionDigits ?? 2);
}

/** Money in minor units, shown in the shopper's locale. */
export function formatMoney({ amount, currency }: Money): string {
  return currencyFormat(currency).format(amount / minorUnitsPerUnit(currency));
}

/** A price typed in units ("12.5") as the minor units the API takes (1250). */
export function toMinorUnits(units: number, currency: string): number {
  return Math.round(units * minorUnitsPerUnit(currency));
}

export function toUnits({ amount, currency }: Money): number {
  return amount / minorUnitsPerUnit(currency);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDate(iso: string): string {
  return dateFormat.format(new Date(iso));
}

/** The short form of an order id that people read and say. */
export function shortId(id: string): string {
  return id.slice(0, 8).toUpperCase();
}
