import type { Logger } from '@shop/service';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { EventFeed } from './feed.js';
import { OutboxRelay, type Listen } from './relay.js';
import type { OutboxTable } from './table.js';

export interface ServiceEventsOptions {
  /** The service's name: `orders` publishes with source `/subgraphs/orders`. */
  service: string;
  db: PgDatabase<PgQueryResultHKT, Record<string, unknown>>;
  outbox: OutboxTable;
  feed: EventFeed;
  listen: Listen;
  logger: Logger;
}

export interface ServiceEvents {
  relay: OutboxRelay;
  /** Stops the relay (a pass in flight finishes); unpublished rows wait for the next start. */
  close(): Promise<void>;
}

/**
 * A subgraph's events: the outbox relay, publishing to the in-process feed. (With a broker, the feed is fed by
 * the broker instead, so that it carries every replica's events.)
 */
export async function startServiceEvents(options: ServiceEventsOptions): Promise<ServiceEvents> {
  const { feed } = options;
  const relay = new OutboxRelay(options.db, options.outbox, {
    service: options.service,
    source: `/subgraphs/${options.service}`,
    logger: options.logger,
    listen: options.listen,
    publish: async (events) => {
      for (const event of events) feed.deliver(event);
    },
  });
  await relay.start();
  return { relay, close: () => relay.stop() };
}
