import type { BaseContext } from '@apollo/server';
import type { FastifyRequest } from 'fastify';
import { openDatabase, type Database, type DatabaseHandle } from './db.js';
import { createGraphQLService, type GraphQLService } from './http.js';
import { subgraphSchema } from './subgraph.js';

export interface SubgraphServerOptions<TSchema extends Record<string, unknown>, TContext extends BaseContext> {
  /** The service: picks its database (`<NAME>_DATABASE_URL` or PGlite), and names its logs and metrics. */
  name: string;
  /** The subgraph package's directory (`new URL('..', import.meta.url)` from src/): schema.graphql and drizzle/. */
  root: URL;
  tables: TSchema;
  resolvers: object;
  context: (request: FastifyRequest, db: Database<TSchema>) => Promise<TContext>;
  /** Stops the subgraph's own background work; runs once requests have drained, before the database closes. */
  onClose?: () => void;
}

export type SubgraphServer<TSchema extends Record<string, unknown>, TContext extends BaseContext> = GraphQLService<TContext> & {
  database: DatabaseHandle<TSchema>;
};

/**
 * A subgraph's server, without opening a port: its database opened and migrated, its SDL and resolvers served
 * by the kit's GraphQL service, ready while the database answers, and closed after in-flight requests drain.
 */
export async function buildSubgraphServer<TSchema extends Record<string, unknown>, TContext extends BaseContext>(
  options: SubgraphServerOptions<TSchema, TContext>,
): Promise<SubgraphServer<TSchema, TContext>> {
  const database = await openDatabase({
    service: options.name,
    schema: options.tables,
    migrationsFolder: new URL('drizzle', options.root).pathname,
  });
  const service = await createGraphQLService<TContext>({
    name: options.name,
    schema: subgraphSchema(new URL('schema.graphql', options.root), options.resolvers),
    context: (request) => options.context(request, database.db),
    readiness: async () => ({
      database: await database.ping().then(
        () => true as const,
        (e: Error) => e.message,
      ),
    }),
    onClose: async () => {
      options.onClose?.();
      await database.close();
    },
  });
  return { ...service, database };
}
