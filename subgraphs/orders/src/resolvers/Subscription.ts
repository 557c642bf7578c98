import { clientError } from '@shop/service';
import { ADMIN_ROLE, isUuid, liveSource, livePayload, requireViewer, viewerFromAuthorization, type CloudEvent } from '@shop/subgraph';
import { GraphQLError } from 'graphql';
import { findOrdersByIds, VISIBLE_STATES } from '../db/orders-repository.js';
import type { OrderRow } from '../db/schema.js';
import type { SubscriptionResolvers } from '../generated/resolvers-types.js';

type Status = 'PENDING' | 'PAID' | 'CANCELLED';
const FINAL: readonly Status[] = ['PAID', 'CANCELLED'];
const statusOf = (order: OrderRow): Status => (order.state === 'PAYING' ? 'PENDING' : (order.state as Status));

export const Subscription: SubscriptionResolvers = {
  orderUpdated: {
    /**
     * Listens before reading the order, so that no change falls between the two; an event whose status was
     * already sent (the read saw it first) is skipped. Each event sends the order with the event's status, so
     * the statuses arrive one by one and in order even when the database is already further on.
     */
    async subscribe(_parent, { id }, context) {
      const { db, events, authorization } = context;
      const viewer = requireViewer(await viewerFromAuthorization(authorization));
      const canRead = (order: OrderRow) => order.buyerId === viewer.id || viewer.role === ADMIN_ROLE;
      const [current] = isUuid(id) ? await findOrdersByIds(db, [id.toLowerCase()]) : [];
      if (!current || !VISIBLE_STATES.includes(current.state)) throw clientError('NOT_FOUND', 'No order has this id');
      if (!canRead(current)) throw clientError('FORBIDDEN', 'This is not your order');
      const stream = events.listen([current.id]);
      // Read again now that the stream listens: whatever changes after this read arrives as an event.
      const [order] = await findOrdersByIds(db, [current.id]).catch((error: unknown) => {
        stream.close();
        throw error;
      });
      let sent = statusOf(order!);
      const step = async (event: CloudEvent) => {
        const status = (event.data as { status?: Status }).status;
        if (!status || status === sent) return undefined;
        // The token is checked again for every event: an expired one ends the subscription.
        try {
          await viewerFromAuthorization(authorization);
        } catch (error) {
          return { value: error instanceof GraphQLError ? error : clientError('UNAUTHENTICATED', 'Invalid token') };
        }
        const [now] = await findOrdersByIds(db, [current.id]);
        sent = status;
        const paidAt = (event.data as { paidAt?: string }).paidAt;
        const value: OrderRow = { ...now!, state: status, ...(paidAt && { paidAt: new Date(paidAt) }) };
        return { value, last: FINAL.includes(status) };
      };
      return liveSource<OrderRow>(stream, [order!], step, { endAfterFirst: FINAL.includes(sent) }) as AsyncIterable<never>;
    },
    resolve: (payload: OrderRow | GraphQLError) => livePayload(payload),
  },
};
