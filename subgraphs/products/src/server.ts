import { buildSubgraphServer } from '@shop/subgraph';
import { createContext } from './context.js';
import * as tables from './db/schema.js';
import { resolvers } from './resolvers/index.js';
import { seedDemoCatalogue } from './seed.js';

/** Builds the products subgraph (database migrated, demo catalogue seeded when asked) without opening a port. */
export async function buildServer() {
  const server = await buildSubgraphServer({
    name: 'products',
    root: new URL('..', import.meta.url),
    tables,
    resolvers,
    context: createContext,
  });
  await seedDemoCatalogue(server.database.db);
  return server;
}
