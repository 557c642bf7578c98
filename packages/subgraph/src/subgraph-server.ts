import type { BaseContext } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { createGraphQLService, isProduction, readSettings, runReadinessChecks, serviceSettings, type GraphQLService } from '@shop/service';
import type { FastifyRequest } from 'fastify';
import { subgraphSettings } from './config.js';
import { openDatabase, type Database, type DatabaseHandle } from './db.js';
import { startServiceEvents, type EventFeed, type OutboxTable, type ServiceEvents } from './events/index.js';
import { requireRouterSecret } from './router-secret.js';
import { subgraphSchema } from './subgraph.js';
import { serveSubscriptions, type SubscriptionConnection } from './subscriptions.js';

export interface SubgraphServerOptions<TSchema extends Record<string, unknown>, TContext extends BaseContext> {
  /** The service: picks its database (`<NAME>_DATABASE_URL` or PGlite), and names its logs and metrics. */
  name: string;
  /** The subgraph package's directory (`new URL('..', import.meta.url)` from src/): schema.graphql and drizzle/. */
  root: URL;
  tables: TSchema;
  resolvers: object;
  context: (request: FastifyRequest, db: Database<TSchema>) => Promise<TContext>;
  /**
   * The subgraph's events: its outbox table (in `tables`), published by a relay started with the server, and the
   * feed its Subscription resolvers listen to.
   */
  events?: { outbox: OutboxTable; feed: EventFeed; subjects: string };
  /** The context of one subscription over graphql-ws; with it, the schema's Subscription fields are served. */
  subscriptionContext?: (connection: SubscriptionConnection, db: Database<TSchema>) => Promise<TContext>;
  /** Stops the subgraph's own background work; runs once requests have drained, before the database closes. */
  onClose?: () => void;
}

export type SubgraphServer<TSchema extends Record<string, unknown>, TContext extends BaseContext> = GraphQLService<TContext> & {
  database: DatabaseHandle<TSchema>;
  /** The outbox relay, when the subgraph publishes events. */
  events: ServiceEvents | undefined;
};

/**
 * A subgraph's server, without opening a port: its database opened and migrated, its SDL and resolvers served
 * by the GraphQL service, answering only the router when ROUTER_SECRET is set, ready while the database answers
 * and is migrated, and closed after in-flight requests drain.
 */
export async function buildSubgraphServer<TSchema extends Record<string, unknown>, TContext extends BaseContext>(
  options: SubgraphServerOptions<TSchema, TContext>,
): Promise<SubgraphServer<TSchema, TContext>> {
  const database = await openDatabase({
    service: options.name,
    schema: options.tables,
    migrationsFolder: new URL('drizzle', options.root).pathname,
  });
  const routerSecret = readSettings(serviceSettings).ROUTER_SECRET;
  const schema = subgraphSchema(new URL('schema.graphql', options.root), options.resolvers);
  let events: ServiceEvents | undefined;
  const service = await createGraphQLService<TContext>({
    name: options.name,
    schema,
    context: (request) => options.context(request, database.db),
    readiness: () =>
      runReadinessChecks({
        ...database.readiness,
        ...(events?.broker && { broker: async () => events!.broker!.ready() }),
      }),
    // The router's request ids, with its secret: a subgraph logs under the id of the client request it serves.
    trustCallerRequestIds: true,
    // With ROUTER_SECRET set, a subgraph answers only callers that hold it.
    graphqlOnRequest: routerSecret ? [requireRouterSecret(routerSecret)] : [],
    plugins: [
      // Both wrap every field resolver: inline traces for Apollo's usage reporting, cache hints for a router's
      // entity cache. We use neither, and together they were a visible share of a subgraph's CPU in the bench.
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
    ],
    onClose: async () => {
      options.onClose?.();
      await events?.close();
      await database.close();
    },
  });
  if (options.subscriptionContext) {
    const subscriptionContext = options.subscriptionContext;
    serveSubscriptions({
      app: service.app,
      schema,
      logger: service.logger,
      routerSecret,
      context: (connection) => subscriptionContext(connection, database.db),
    });
  }
  if (options.events) {
    events = await startServiceEvents({
      service: options.name,
      db: database.relayDb as never,
      outbox: options.events.outbox,
      feed: options.events.feed,
      subjects: options.events.subjects,
      natsUrl: readSettings(subgraphSettings).NATS_URL,
      listen: database.listen,
      driver: database.driver,
      logger: service.logger,
    });
  }
  if (isProduction && !routerSecret) {
    service.logger.warn(
      'SECURITY: ROUTER_SECRET is not set. This subgraph answers anyone who can reach it, _entities and _service included. Set the same ROUTER_SECRET on the router and every subgraph.',
    );
  }
  return { ...service, database, events };
}
