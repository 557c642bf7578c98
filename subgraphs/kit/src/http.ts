import { randomUUID } from 'node:crypto';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import { isProduction } from './env.js';
import { maskUnexpectedErrors } from './errors.js';
import { graphqlMetricsPlugin } from './graphql-metrics.js';
import { createLogger, type Logger } from './logger.js';
import { registry } from './metrics.js';

/** What /ready reports: each named check is `true` or says what is wrong. */
export type ReadinessChecks = Record<string, true | string>;

export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Apollo Sandbox runs here and sends requests from the browser. */
export const SANDBOX_ORIGIN = 'https://studio.apollographql.com';

export interface GraphQLServiceOptions<TContext extends BaseContext> {
  name: string;
  /** A subgraph's schema, or for the router its gateway. */
  schema?: GraphQLSchema;
  gateway?: GatewayInterface;
  context: (request: FastifyRequest) => Promise<TContext>;
  readiness: () => Promise<ReadinessChecks>;
  plugins?: ApolloServerPlugin<TContext>[];
  /** Origins allowed by CORS; only the router faces browsers. */
  corsOrigins?: string[];
  onClose?: () => Promise<void>;
}

export interface GraphQLService<TContext extends BaseContext> {
  app: FastifyInstance;
  apollo: ApolloServer<TContext>;
  logger: Logger;
}

/**
 * A GraphQL service over fastify: /graphql, /health, /ready and /metrics, request ids taken from
 * `x-request-id` and echoed back, and a close that drains in-flight requests before running `onClose`.
 */
export async function createGraphQLService<TContext extends BaseContext>(
  options: GraphQLServiceOptions<TContext>,
): Promise<GraphQLService<TContext>> {
  const logger = createLogger(options.name);
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request access lines would double the log volume of the hot path; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Longer than any client's idle socket time, so a reused keep-alive socket is never closed under a request.
    keepAliveTimeout: 75_000,
    forceCloseConnections: 'idle',
  });
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });

  if (options.corsOrigins) {
    await app.register(cors, { origin: options.corsOrigins, credentials: true, maxAge: 600 });
  }

  const introspection = !isProduction || process.env.INTROSPECTION === 'true';
  const apollo = new ApolloServer<TContext>({
    ...(options.gateway ? { gateway: options.gateway } : { schema: options.schema! }),
    introspection,
    includeStacktraceInErrorResponses: false,
    formatError: maskUnexpectedErrors(logger),
    plugins: [
      fastifyApolloDrainPlugin(app),
      graphqlMetricsPlugin<TContext>(),
      ...(options.schema ? [ApolloServerPluginInlineTraceDisabled()] : []),
      isProduction
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false }),
      ...(options.plugins ?? []),
    ],
    logger,
  });
  await apollo.start();

  app.route({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    handler: fastifyApolloHandler(apollo, { context: (request) => options.context(request) }),
  });
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const checks = await options.readiness().catch((error: Error): ReadinessChecks => ({ readiness: error.message }));
    const ready = Object.values(checks).every((check) => check === true);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  if (options.onClose) {
    const onClose = options.onClose;
    app.addHook('onClose', async () => onClose());
  }
  return { app, apollo, logger };
}

/** Listens, and on SIGTERM or SIGINT stops accepting, drains, closes resources and exits 0. */
export async function listen(app: FastifyInstance, port: number, host = process.env.HOST ?? '0.0.0.0'): Promise<string> {
  const address = await app.listen({ port, host });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => process.exit(1), 10_000).unref();
    app.close().then(
      () => {
        clearTimeout(deadline);
        process.exit(0);
      },
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // Started by a supervisor over IPC (npm start, the tests): when it goes away, so do we.
  if (process.send) process.once('disconnect', () => shutdown('parent exited'));
  return address;
}
