import { buildSubgraphServer } from '@shop/subgraph';
import { createContext } from './context.js';
import * as tables from './db/schema.js';
import { accountGuard, closeAccountGuard } from './rate-limit.js';
import { resolvers } from './resolvers/index.js';
import { ensureAdmin, seedDemoCustomer } from './seed.js';

/** Builds the users subgraph (database migrated, admin ensured) without opening a port. */
export async function buildServer() {
  const server = await buildSubgraphServer({
    name: 'users',
    root: new URL('..', import.meta.url),
    tables,
    resolvers,
    context: createContext,
    onClose: () => void closeAccountGuard(),
  });
  // With REDIS_URL, the rate-limit counters are shared by every users replica (docs/security.md).
  await accountGuard().open();
  await ensureAdmin(server.database.db, server.logger);
  await seedDemoCustomer(server.database.db);
  return server;
}
