import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@shop/service';
import type { EntityCache } from './entity-cache.js';

/**
 * The products events after which a product's cached fields, and every cached root query, are stale
 * (docs/events.md): a new product changes no entity entry, but it can join any catalogue page.
 */
export const PRODUCT_CHANGE_SUBJECTS = ['shop.product.created', 'shop.product.updated', 'shop.product.stock_changed'];

/**
 * Feeds the entity cache its invalidations from NATS (`NATS_URL`): each products event drops that product's
 * entries and every root query's. Plain subscriptions on the subjects, which see every message JetStream stores
 * as it is published. The cache is used only while the connection is up: on a disconnect it is switched off
 * and emptied (events may be missed meanwhile), and on reconnecting it starts again empty. A cache shared in
 * Redis is emptied for every replica then, since this replica cannot tell whether the others missed events too.
 */
export async function followProductChanges(url: string, cache: EntityCache, logger: Logger): Promise<{ close(): Promise<void> }> {
  let connection: NatsConnection | undefined;
  let closed = false;
  const start = async () => {
    connection = await connect({
      servers: url.split(',').map((server) => server.trim()),
      name: 'router-entity-cache',
      maxReconnectAttempts: -1,
      waitOnFirstConnect: true,
    });
    if (closed) return void (await connection.close());
    for (const subject of PRODUCT_CHANGE_SUBJECTS) {
      connection.subscribe(subject, {
        callback: (error, message) => {
          if (error) return;
          try {
            const event = message.json<{ subject?: string; data?: { productId?: string } }>();
            const id = event.data?.productId ?? event.subject;
            if (typeof id === 'string') void cache.invalidate(id);
          } catch {
            logger.warn({ subject: message.subject }, 'entity cache: ignored a message that is not a CloudEvent');
          }
        },
      });
    }
    // The subscriptions are registered with the server once this round trip returns.
    await connection.flush();
    await cache.clear();
    if (closed) return;
    cache.active = true;
    logger.info({ subjects: PRODUCT_CHANGE_SUBJECTS }, 'entity cache on: following product changes');
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') {
        cache.active = false;
        await cache.clear();
        logger.warn('entity cache off: the event source is disconnected');
      } else if (status.type === 'reconnect') {
        await cache.clear();
        cache.active = true;
        logger.info('entity cache on again: the event source is back');
      }
    }
  };
  const running = start().catch((error: unknown) => {
    cache.active = false;
    logger.error({ err: error }, 'entity cache off: cannot follow product changes');
  });
  return {
    async close() {
      closed = true;
      cache.active = false;
      await connection?.close();
      await running;
    },
  };
}
