import type { Logger } from '@shop/service';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { Broker } from './broker.js';
import type { EventFeed } from './feed.js';
import { OutboxRelay, type Listen } from './relay.js';
import type { OutboxTable } from './table.js';

export interface ServiceEventsOptions {
  /** The service's name: `orders` publishes with source `/subgraphs/orders` and follows `shop.order.>`. */
  service: string;
  /** The subjects the service's feed follows on the broker, `shop.order.>` for orders. */
  subjects: string;
  db: PgDatabase<PgQueryResultHKT, Record<string, unknown>>;
  outbox: OutboxTable;
  feed: EventFeed;
  listen: Listen;
  /** PostgreSQL (replicas may share it: the relay also polls) or PGlite (this process alone: notices suffice). */
  driver: 'postgres' | 'pglite';
  logger: Logger;
  /** NATS_URL: without it, nothing is published to a broker and the relay feeds this process only. */
  natsUrl: string | undefined;
}

export interface ServiceEvents {
  relay: OutboxRelay;
  broker: Broker | undefined;
  /** Stops the relay (a pass in flight finishes), then the broker; unpublished rows wait for the next start. */
  close(): Promise<void>;
}

/**
 * A subgraph's events. Without a broker, the relay delivers to the in-process feed. With one, the relay
 * publishes to JetStream and the feed follows the stream, so a subscriber on one replica sees the changes made
 * through any other.
 */
export async function startServiceEvents(options: ServiceEventsOptions): Promise<ServiceEvents> {
  const { feed, logger } = options;
  const broker = options.natsUrl ? await Broker.connect(options.natsUrl, options.service, logger) : undefined;
  if (broker) await broker.follow(options.subjects, (event) => feed.deliver(event));
  const relay = new OutboxRelay(options.db, options.outbox, {
    service: options.service,
    source: `/subgraphs/${options.service}`,
    logger,
    listen: options.listen,
    pollMs: options.driver === 'postgres' ? 1_000 : undefined,
    publish: broker
      ? (events) => broker.publish(events)
      : async (events) => {
          for (const event of events) feed.deliver(event);
        },
  });
  await relay.start();
  return {
    relay,
    broker,
    close: async () => {
      await relay.stop();
      await broker?.close();
    },
  };
}
