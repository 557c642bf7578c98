import { useSyncExternalStore } from 'react';
import type { Money } from '../lib/format';
import { storedValue } from '../lib/stored-value';

export interface CartLine {
  productId: string;
  name: string;
  /** The price when the product was added; the order takes the catalogue's price of the moment it is placed. */
  price: Money;
  quantity: number;
}

export interface Cart {
  lines: CartLine[];
  /**
   * The idempotency key of the checkout attempt in progress, for exactly these lines: a retry after an unknown
   * outcome sends it again, so the router returns the order it may already have placed instead of a second one.
   */
  attemptKey?: string;
}

/** The router's limit on one line of an order. */
export const MAX_QUANTITY = 1000;

const cart = storedValue<Cart>('shop.cart', { lines: [] }, (raw) => {
  const lines = (raw as Cart | null)?.lines;
  if (!Array.isArray(lines)) return undefined;
  const valid = lines.filter(
    (line): line is CartLine =>
      typeof line?.productId === 'string' &&
      typeof line.name === 'string' &&
      Number.isInteger(line.quantity) &&
      typeof line.price?.amount === 'number' &&
      typeof line.price.currency === 'string',
  );
  const attemptKey = (raw as Cart).attemptKey;
  return { lines: valid, ...(typeof attemptKey === 'string' && { attemptKey }) };
});

export function useCart(): Cart {
  return useSyncExternalStore(cart.subscribe, cart.get);
}

const clampQuantity = (quantity: number) => Math.min(MAX_QUANTITY, Math.max(1, Math.round(quantity)));

/** Any change to the lines starts a new checkout attempt, so the attempt key is dropped with it. */
function setLines(lines: CartLine[]): void {
  cart.set({ lines });
}

export function addToCart(product: Omit<CartLine, 'quantity'>, quantity = 1): void {
  const { lines } = cart.get();
  const existing = lines.find((line) => line.productId === product.productId);
  if (existing) {
    setLines(lines.map((line) => (line === existing ? { ...line, quantity: clampQuantity(line.quantity + quantity) } : line)));
  } else {
    setLines([...lines, { ...product, quantity: clampQuantity(quantity) }]);
  }
}

export function setQuantity(productId: string, quantity: number): void {
  setLines(cart.get().lines.map((line) => (line.productId === productId ? { ...line, quantity: clampQuantity(quantity) } : line)));
}

export function removeFromCart(productId: string): void {
  setLines(cart.get().lines.filter((line) => line.productId !== productId));
}

export function emptyCart(): void {
  setLines([]);
}

/** The key for placing the cart now: the attempt's own if one is in progress, else a new attempt's. */
export function checkoutAttemptKey(): string {
  const current = cart.get();
  if (current.attemptKey) return current.attemptKey;
  // getRandomValues, unlike randomUUID, works on plain-HTTP pages too.
  const attemptKey = Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
  cart.set({ ...current, attemptKey });
  return attemptKey;
}

/** The router gave a definite answer: the next try is a new attempt with a new key. */
export function endCheckoutAttempt(): void {
  setLines(cart.get().lines);
}
