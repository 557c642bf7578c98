import type { ApolloGateway } from '@apollo/gateway';
import { isProduction, maskUnexpectedErrors, readSettings, serviceSettings, type Logger } from '@shop/service';
import type { FastifyInstance } from 'fastify';
import type { GraphQLError } from 'graphql';
import { settings as routerSettings, type RouterSettings } from '../config.js';
import type { OperationLimits } from '../limits.js';
import { SubscriptionExecutor, type ErrorFormatter } from './executor.js';
import { serveGraphqlWs } from './graphql-ws.js';
import { countInMetrics } from './metrics.js';
import { multipartSubscriptions } from './multipart.js';
import { SubscriptionQuota } from './quota.js';
import { UpstreamPool } from './upstream.js';
import { SubscriptionValidator, type OperationResolver } from './validate.js';

export { SubscriptionExecutor } from './executor.js';

export interface SubscriptionsOptions {
  gateway: ApolloGateway;
  limits: OperationLimits;
  logger: Logger;
  trustProxy: boolean | string[] | ((address: string, hop: number) => boolean);
  settings?: RouterSettings;
  /** Applied to each graphql-ws subscribe payload first (trusted documents); HTTP has the /graphql preHandlers. */
  resolveOperation?: OperationResolver;
}

/** The errors of a subscription, formatted as Apollo Server formats a query's, then masked by the same formatError. */
export function subscriptionErrorFormatter(logger: Logger): ErrorFormatter {
  const introspection = readSettings(serviceSettings).INTROSPECTION ?? !isProduction;
  const mask = maskUnexpectedErrors(logger, { hideSuggestions: !introspection });
  return (error: GraphQLError) => {
    const code = error.extensions?.code ?? 'INTERNAL_SERVER_ERROR';
    return mask({ ...error.toJSON(), extensions: { ...error.extensions, code } }, error);
  };
}

/**
 * The router's subscriptions (docs/realtime.md): graphql-ws on the router's port and multipart HTTP on POST
 * /graphql, both executed by one SubscriptionExecutor over the gateway's planner and data sources.
 * - `preHandler` goes on the /graphql route (createGraphQLService's `graphqlPreHandler`), after any that rewrite
 *   or refuse the request (trusted documents);
 * - `attach` takes WebSocket upgrades on the service's HTTP server, and completes every stream when the service
 *   closes (SIGTERM), before the sockets close.
 */
export function createSubscriptions(options: SubscriptionsOptions) {
  const config = options.settings ?? routerSettings();
  const { logger } = options;
  const formatError = subscriptionErrorFormatter(logger);
  const upstream = new UpstreamPool({
    routerSecret: config.ROUTER_SECRET,
    keepAliveMs: config.SUBSCRIPTION_KEEPALIVE_MS,
    resubscribeBudgetMs: config.SUBSCRIPTION_RESUBSCRIBE_BUDGET_MS,
    logger,
  });
  const executor = new SubscriptionExecutor(options.gateway, upstream, formatError, logger);
  const validator = new SubscriptionValidator(options.limits);
  const quota = new SubscriptionQuota({
    perConnection: config.SUBSCRIPTIONS_PER_CONNECTION,
    perClient: config.SUBSCRIPTIONS_PER_CLIENT,
    total: config.SUBSCRIPTIONS_MAX,
  });
  const preHandler = multipartSubscriptions({ executor, validator, quota, formatError, heartbeatMs: config.SUBSCRIPTION_KEEPALIVE_MS });
  return {
    executor,
    quota,
    upstream,
    preHandler,
    attach(app: FastifyInstance) {
      const ws = serveGraphqlWs({
        server: app.server,
        path: '/graphql',
        executor,
        validator,
        quota,
        formatError,
        trustProxy: options.trustProxy,
        keepAliveMs: config.SUBSCRIPTION_KEEPALIVE_MS,
        idleCloseMs: config.SUBSCRIPTION_IDLE_CLOSE_MS,
        logger,
        ...(options.resolveOperation && { resolveOperation: options.resolveOperation }),
      });
      const uncount = countInMetrics({ subscriptions: () => quota.open, streams: () => executor.openStreams });
      app.addHook('preClose', async () => {
        await ws.close();
        uncount();
      });
    },
  };
}
