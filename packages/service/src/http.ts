import { randomUUID } from 'node:crypto';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import cors from '@fastify/cors';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  type onRequestHookHandler,
  type RouteHandlerMethod,
} from 'fastify';
import type { GraphQLSchema, ParseOptions, ValidationRule } from 'graphql';
import { isProduction } from './env.js';
import { maskUnexpectedErrors } from './errors.js';
import { runInRequestScope } from './request-context.js';
import { errorBody } from './trust.js';
import { graphqlMetricsPlugin } from './graphql-metrics.js';
import { createLogger, type Logger } from './logger.js';
import { registry } from './metrics.js';

export { currentRequest, type RequestScope } from './request-context.js';

/** One readiness check: `true`, or what is wrong. */
export type ReadinessCheck = () => Promise<true | string>;
/** What /ready reports: each named check is `true` or says what is wrong. */
export type ReadinessChecks = Record<string, true | string>;

/** Runs named checks side by side; a check that throws reports its message. */
export async function runReadinessChecks(checks: Record<string, ReadinessCheck>): Promise<ReadinessChecks> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await check().catch((error: Error) => error.message)] as const),
  );
  return Object.fromEntries(results);
}

export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Apollo Sandbox runs here and sends requests from the browser. */
export const SANDBOX_ORIGIN = 'https://studio.apollographql.com';

export interface GraphQLServiceOptions<TContext extends BaseContext> {
  name: string;
  /** A subgraph's schema, or for the router its gateway. */
  schema?: GraphQLSchema;
  gateway?: GatewayInterface;
  context: (request: FastifyRequest) => Promise<TContext>;
  /** Named checks behind /ready; the service is ready when every one is `true`. */
  readiness: () => Promise<ReadinessChecks>;
  plugins?: ApolloServerPlugin<TContext>[];
  /** Hooks run before a /graphql request is read (a subgraph's router-secret check). */
  graphqlOnRequest?: onRequestHookHandler[];
  /** fastify's trustProxy: which proxies may name the client in X-Forwarded-For (only the router faces clients). */
  trustProxy?: FastifyServerOptions['trustProxy'];
  /** Origins allowed by CORS; only the router faces browsers. */
  corsOrigins?: string[];
  /** Extra validation rules (the router's operation limits), run once per distinct document. */
  validationRules?: ValidationRule[];
  /** graphql-js parse options, such as `maxTokens`. */
  parseOptions?: ParseOptions;
  onClose?: () => Promise<void>;
  /** A logger made before the service, for parts built before it (the router's supergraph file). */
  logger?: Logger;
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
  const logger = options.logger ?? createLogger(options.name);
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
    // The client's address is the socket's unless the service names the proxies in front of it.
    trustProxy: options.trustProxy ?? false,
  });
  // While closing, a response that finishes also closes its connection: idle keep-alive sockets are closed when
  // close() starts, but one busy then would stay open for keepAliveTimeout and hold the exit until its deadline.
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (draining) void reply.header('connection', 'close');
  });
  // Errors fastify raises before GraphQL runs (a body over the limit, malformed JSON) get a GraphQL-style body.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'request failed');
    const [code, message] =
      status === 413
        ? ['PAYLOAD_TOO_LARGE', `Request bodies are limited to ${MAX_BODY_BYTES} bytes`]
        : status === 415
          ? ['UNSUPPORTED_MEDIA_TYPE', 'Send GraphQL requests as application/json']
          : status === 500
            ? ['INTERNAL_SERVER_ERROR', 'Internal server error']
            : ['BAD_REQUEST', error.code?.startsWith('FST_') ? error.message : 'Bad request'];
    return reply.code(status).type('application/json; charset=utf-8').send(errorBody(code, message));
  });

  if (options.corsOrigins) {
    await app.register(cors, { origin: options.corsOrigins, credentials: true, maxAge: 600 });
  }

  const introspection = !isProduction || process.env.INTROSPECTION === 'true';
  const apollo = new ApolloServer<TContext>({
    ...(options.gateway ? { gateway: options.gateway } : { schema: options.schema! }),
    introspection,
    includeStacktraceInErrorResponses: false,
    // "Did you mean" hints go with introspection: both describe the schema to whoever asks.
    formatError: maskUnexpectedErrors(logger, { hideSuggestions: !introspection }),
    ...(options.validationRules && { validationRules: options.validationRules }),
    ...(options.parseOptions && { parseOptions: options.parseOptions }),
    plugins: [
      fastifyApolloDrainPlugin(app),
      graphqlMetricsPlugin<TContext>(),
      isProduction
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false }),
      ...(options.plugins ?? []),
    ],
    logger,
  });
  await apollo.start();

  const handler = fastifyApolloHandler(apollo, { context: (request) => options.context(request) }) as unknown as RouteHandlerMethod;
  app.route({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    onRequest: [...(options.graphqlOnRequest ?? []), onlyJsonBodies],
    // Everything the request runs (formatError, subgraph fetches) logs under its request id.
    handler(request, reply) {
      return runInRequestScope({ id: request.id, log: request.log as unknown as Logger }, () => handler.call(this, request, reply));
    },
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

const JSON_CONTENT_TYPE = /^application\/json\s*(;|$)/i;

/**
 * POSTs must be JSON. text/plain and form bodies are what a browser sends cross-site without a CORS preflight,
 * so they are refused (415) before they are parsed, whatever else the request carries.
 */
async function onlyJsonBodies(request: FastifyRequest, reply: FastifyReply) {
  if (request.method !== 'POST' || JSON_CONTENT_TYPE.test(request.headers['content-type'] ?? '')) return;
  return reply.code(415).send(errorBody('UNSUPPORTED_MEDIA_TYPE', 'Send GraphQL requests as application/json'));
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
