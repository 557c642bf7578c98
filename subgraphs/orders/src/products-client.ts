import { GraphQLError } from 'graphql';
import { currentRequest, readSettings, serviceSettings } from '@shop/service';
import { settings } from './config.js';
import { SERVICE_ROLE, signToken } from '@shop/subgraph';

export interface ReservedLine {
  productId: string;
  quantity: number;
  unitPrice: { amount: number; currency: string };
}

export interface StockReservation {
  orderId: string;
  state: 'RESERVED' | 'COMMITTED' | 'RELEASED';
  lines: ReservedLine[];
}

/** The products subgraph answered with an error of its own (for example INSUFFICIENT_STOCK). */
export class StockError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Products' own word for why, when it gives one (extensions.reason), for example TOTAL_TOO_LARGE. */
    readonly reason?: string,
  ) {
    super(message);
  }
}

const RESERVATION_FIELDS = 'orderId state lines { productId quantity unitPrice { amount currency } }';

/**
 * Calls the products subgraph's internal stock mutations directly (not through the router, which hides them),
 * as the orders service, with a short-lived service token. Every call is idempotent per order id, so a caller
 * that is unsure whether a call landed simply makes it again.
 */
export class ProductsClient {
  constructor(
    private readonly url = settings().PRODUCTS_URL,
    private readonly timeoutMs = settings().PRODUCTS_TIMEOUT_MS,
  ) {}

  reserve(orderId: string, lines: { productId: string; quantity: number }[]): Promise<StockReservation> {
    return this.call(
      'reserveStock',
      `mutation($orderId: ID!, $lines: [StockLineInput!]!) { reserveStock(orderId: $orderId, lines: $lines) { ${RESERVATION_FIELDS} } }`,
      { orderId, lines },
    );
  }

  release(orderId: string): Promise<StockReservation> {
    return this.call('releaseStock', `mutation($orderId: ID!) { releaseStock(orderId: $orderId) { ${RESERVATION_FIELDS} } }`, { orderId });
  }

  commit(orderId: string): Promise<StockReservation> {
    return this.call('commitStock', `mutation($orderId: ID!) { commitStock(orderId: $orderId) { ${RESERVATION_FIELDS} } }`, { orderId });
  }

  /** Reservations still holding stock, by order id after `after`: what recovery reconciles with the orders. */
  heldReservations(after: string | null, first: number): Promise<Pick<StockReservation, 'orderId' | 'state'>[]> {
    return this.call(
      'heldReservations',
      `query($after: ID, $first: Int!) { heldReservations(after: $after, first: $first) { orderId state } }`,
      { after, first },
    );
  }

  private async call<T = StockReservation>(field: string, query: string, variables: Record<string, unknown>): Promise<T> {
    const token = await signToken({ id: 'orders-service', role: SERVICE_ROLE }, '5m');
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const { ROUTER_SECRET } = readSettings(serviceSettings);
    if (ROUTER_SECRET) headers['x-router-secret'] = ROUTER_SECRET;
    // The checkout's own request id, so products logs its part of a checkout under the same id. Recovery
    // sweeps run outside any request and send none: products gives those calls ids of their own.
    const requestId = currentRequest()?.id;
    if (requestId) headers['x-request-id'] = requestId;
    const response = await fetch(this.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = (await response.json()) as { data?: Record<string, T>; errors?: GraphQLError[] };
    const error = body.errors?.[0];
    if (error) {
      const reason = typeof error.extensions?.reason === 'string' ? error.extensions.reason : undefined;
      throw new StockError(String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR'), error.message, reason);
    }
    const result = body.data?.[field];
    if (!result) throw new Error(`products answered ${response.status} without ${field}`);
    return result;
  }
}
