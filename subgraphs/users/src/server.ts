import { createGraphQLService, subgraphSchema } from '@shop/kit';
import { openDatabase } from '@shop/kit/db';
import { createContext } from './context.js';
import * as tables from './db/schema.js';
import { resolvers } from './resolvers/index.js';
import { ensureAdmin, seedDemoCustomer } from './seed.js';

/** Builds the users subgraph (database migrated, admin ensured) without opening a port. */
export async function buildServer() {
  const database = await openDatabase({
    service: 'users',
    schema: tables,
    migrationsFolder: new URL('../drizzle', import.meta.url).pathname,
  });
  const { db } = database;
  const service = await createGraphQLService({
    name: 'users',
    schema: subgraphSchema(new URL('../schema.graphql', import.meta.url), resolvers),
    context: (request) => createContext(request, db),
    readiness: async () => ({ database: await database.ping().then(() => true as const, (e: Error) => e.message) }),
    onClose: () => database.close(),
  });
  await ensureAdmin(db, service.logger);
  await seedDemoCustomer(db);
  return { ...service, database };
}
