import { createGraphQLService, subgraphSchema } from '@shop/kit';
import { openDatabase } from '@shop/kit/db';
import { createContext } from './context.js';
import * as tables from './db/schema.js';
import { resolvers } from './resolvers/index.js';
import { seedDemoCatalogue } from './seed.js';

/** Builds the products subgraph (database migrated, demo catalogue seeded when asked) without opening a port. */
export async function buildServer() {
  const database = await openDatabase({
    service: 'products',
    schema: tables,
    migrationsFolder: new URL('../drizzle', import.meta.url).pathname,
  });
  const { db } = database;
  const service = await createGraphQLService({
    name: 'products',
    schema: subgraphSchema(new URL('../schema.graphql', import.meta.url), resolvers),
    context: (request) => createContext(request, db),
    readiness: async () => ({ database: await database.ping().then(() => true as const, (e: Error) => e.message) }),
    onClose: () => database.close(),
  });
  await seedDemoCatalogue(db);
  return { ...service, database };
}
