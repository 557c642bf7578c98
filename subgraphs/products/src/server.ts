import { EventFeed, buildSubgraphServer } from '@shop/subgraph';
import { createContext, createSubscriptionContext } from './context.js';
import * as tables from './db/schema.js';
import { resolvers } from './resolvers/index.js';
import { seedDemoCatalogue } from './seed.js';

/** Builds the products subgraph (database migrated, demo catalogue seeded when asked) without opening a port. */
export async function buildServer() {
  const feed = new EventFeed();
  const server = await buildSubgraphServer({
    name: 'products',
    root: new URL('..', import.meta.url),
    tables,
    resolvers,
    context: (request, db) => createContext(request, db, feed),
    subscriptionContext: (connection, db) => createSubscriptionContext(connection, db, feed),
    events: { outbox: tables.outbox, feed, subjects: 'shop.product.>' },
  });
  await seedDemoCatalogue(server.database.db);
  server.events?.relay.wake();
  return { ...server, feed };
}
