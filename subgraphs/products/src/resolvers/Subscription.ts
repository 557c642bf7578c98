import { clientError } from '@shop/service';
import { isUuid, liveSource, livePayload, viewerFromAuthorization, type CloudEvent } from '@shop/subgraph';
import type { GraphQLError } from 'graphql';
import { findProductsByIds } from '../db/products-repository.js';
import type { ProductRow } from '../db/schema.js';
import type { SubscriptionResolvers } from '../generated/resolvers-types.js';
import type { Context } from '../context.js';

export const MAX_WATCHED_PRODUCTS = 100;

/**
 * The product row after an event, read once per event however many subscriptions watch it: with thousands
 * watching one product, each change costs one statement, not one per subscriber.
 */
const afterEvent = new Map<string, Promise<ProductRow | undefined>>();

function productAfter(event: CloudEvent, context: Context): Promise<ProductRow | undefined> {
  let row = afterEvent.get(event.id);
  if (!row) {
    row = findProductsByIds(context.db, [event.subject]).then(([found]) => found);
    afterEvent.set(event.id, row);
    // Every subscriber of this event asks for it within moments of its delivery.
    setTimeout(() => afterEvent.delete(event.id), 5_000).unref();
  }
  return row;
}

export const Subscription: SubscriptionResolvers = {
  productUpdated: {
    /**
     * Stock and price changes only: `stock_changed` events, and `updated` events that change the price. Each
     * sends the product with the event's stock or price, so levels arrive in the order they happened.
     */
    async subscribe(_parent, { ids }, context) {
      if (ids.length < 1 || ids.length > MAX_WATCHED_PRODUCTS) {
        throw clientError('BAD_USER_INPUT', `Watch 1 to ${MAX_WATCHED_PRODUCTS} products`, { field: 'ids' });
      }
      // Anyone may watch; a token that is sent must still be valid, as over HTTP.
      await viewerFromAuthorization(context.authorization);
      const stream = context.events.listen(ids.filter(isUuid).map((id) => id.toLowerCase()));
      const step = async (event: CloudEvent) => {
        const data = event.data as { stock?: number; price?: { amount: number; currency: string } };
        if (event.type !== 'shop.product.stock_changed' && !(event.type === 'shop.product.updated' && data.price)) return undefined;
        const row = await productAfter(event, context);
        if (!row) return undefined;
        const value: ProductRow = {
          ...row,
          ...(data.stock !== undefined && { stock: data.stock }),
          ...(data.price && { priceAmount: data.price.amount, priceCurrency: data.price.currency }),
        };
        return { value };
      };
      return liveSource<ProductRow>(stream, [], step) as AsyncIterable<never>;
    },
    resolve: (payload: ProductRow | GraphQLError) => livePayload(payload),
  },
};
