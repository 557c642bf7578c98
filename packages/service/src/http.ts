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
  type preHandlerHookHandler,
  type RouteHandlerMethod,
} from 'fastify';
import type { GraphQLSchema, ParseOptions, ValidationRule } from 'graphql';
import { isProduction, readSettings, serviceSettings } from './config.js';
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
  /** Hooks run once a /graphql request's body is read, before Apollo Server sees it (the router's trusted documents). */
  graphqlPreHandler?: preHandlerHookHandler[];
  /** Apollo Server's automatic persisted queries: on (its default) unless `false`. */
  persistedQueries?: false;
  /** Replaces Apollo's landing page (the router's offline explorer); the default is Apollo's, from its CDN. */
  landingPage?: ApolloServerPlugin<TContext>;
  /** fastify's trustProxy: which proxies may name the client in X-Forwarded-For (only the router faces clients). */
  trustProxy?: FastifyServerOptions['trustProxy'];
  /**
   * Whether an `x-request-id` sent by the caller is taken as it is: yes for a subgraph, whose callers hold the
   * router's secret; no for the router, which faces clients and marks their ids as theirs (see `requestIdOf`).
   */
  trustCallerRequestIds?: boolean;
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
  /** /graphql, on the service's port. */
  app: FastifyInstance;
  /**
   * Starts the shutdown notice: /ready turns 503, and new requests get 503 with `connection: close` while the
   * port stays open, so the router learns this is a planned restart, not an outage (see `listen`).
   */
  announceShutdown: () => void;
  /** /health, /ready and /metrics, on the ops port: for probes and Prometheus, never exposed to clients. */
  ops: FastifyInstance;
  apollo: ApolloServer<TContext>;
  logger: Logger;
}

/** A caller's request id is kept when it is short and plain; anything else is replaced. */
const PLAIN_REQUEST_ID = /^[\w.:-]{1,64}$/;

/**
 * The id a request is logged under and echoed with. A trusted caller's id (the router's, as a subgraph sees it)
 * is kept. An outside client's is kept only marked as theirs, `client:<id>`, so that it can be searched for but
 * never passes for one the router made (a UUID); a missing or unplain one is replaced by a new UUID.
 */
export function requestIdOf(header: string | string[] | undefined, trusted: boolean): string {
  const given = typeof header === 'string' ? header : undefined;
  if (given === undefined || !PLAIN_REQUEST_ID.test(given)) return randomUUID();
  if (trusted) return given;
  return given.startsWith('client:') ? given : `client:${given}`;
}

/**
 * A GraphQL service over fastify: /graphql on one server, /health, /ready and /metrics on another (the ops
 * port), request ids taken from `x-request-id` and echoed back, and a close that drains in-flight requests
 * before running `onClose`.
 */
export async function createGraphQLService<TContext extends BaseContext>(
  options: GraphQLServiceOptions<TContext>,
): Promise<GraphQLService<TContext>> {
  const settings = readSettings(serviceSettings);
  const logger = options.logger ?? createLogger(options.name);
  const trustCallerRequestIds = options.trustCallerRequestIds ?? false;
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request access lines would double the log volume of the hot path; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    genReqId: (request) => requestIdOf(request.headers['x-request-id'], trustCallerRequestIds),
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
  // While the shutdown is announced, before the port closes: new requests are turned away with 503, which the
  // router reads as "restarting" (it retries queries, and keeps them retrying through the restart).
  app.addHook('onRequest', async (_request, reply) => {
    if (!draining) return;
    return reply.code(503).type('application/json; charset=utf-8').send(errorBody('SHUTTING_DOWN', 'The service is shutting down'));
  });
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (draining) void reply.header('connection', 'close');
    else if (!request.raw.complete) keepReadingRefusedBody(request, reply);
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

  const introspection = settings.INTROSPECTION ?? !isProduction;
  const apollo = new ApolloServer<TContext>({
    ...(options.gateway ? { gateway: options.gateway } : { schema: options.schema! }),
    introspection,
    includeStacktraceInErrorResponses: false,
    // "Did you mean" hints go with introspection: both describe the schema to whoever asks.
    formatError: maskUnexpectedErrors(logger, { hideSuggestions: !introspection }),
    ...(options.validationRules && { validationRules: options.validationRules }),
    ...(options.parseOptions && { parseOptions: options.parseOptions }),
    ...(options.persistedQueries === false && { persistedQueries: false }),
    plugins: [
      fastifyApolloDrainPlugin(app),
      graphqlMetricsPlugin<TContext>(settings.METRICS_MAX_OPERATION_NAMES),
      options.landingPage ??
        (isProduction
          ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
          : ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false })),
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
    preHandler: options.graphqlPreHandler ?? [],
    // Everything the request runs (formatError, subgraph fetches) logs under its request id.
    handler(request, reply) {
      return runInRequestScope({ id: request.id, log: request.log as unknown as Logger }, () => handler.call(this, request, reply));
    },
  });
  if (options.onClose) {
    const onClose = options.onClose;
    app.addHook('onClose', async () => onClose());
  }

  const ops = createOpsServer(logger, options.readiness, settings.READINESS_CACHE_MS, () => draining);
  const announceShutdown = () => {
    draining = true;
  };
  return { app, ops, apollo, logger, announceShutdown };
}

/**
 * /health (alive: answers while the process serves), /ready (every check passes; 503 naming what fails, and from
 * the moment the service starts shutting down) and /metrics (Prometheus text), on a server of their own: probes
 * and scrapes never share a port with clients. A /ready answer is reused for `cacheMs`, and probes that arrive
 * together share one run of the checks, so frequent probes do not each ask every dependency.
 */
function createOpsServer(
  logger: Logger,
  readiness: () => Promise<ReadinessChecks>,
  cacheMs: number,
  draining: () => boolean,
): FastifyInstance {
  const ops: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
  });
  let last: { at: number; checks: Promise<ReadinessChecks> } | undefined;
  const checks = () => {
    const now = Date.now();
    if (!last || now - last.at >= cacheMs) {
      last = { at: now, checks: readiness().catch((error: Error): ReadinessChecks => ({ readiness: error.message })) };
    }
    return last.checks;
  };
  ops.get('/health', async () => ({ status: 'ok', pid: process.pid }));
  ops.get('/ready', async (_request, reply) => {
    // Shutting down is never cached: the orchestrator must stop sending traffic at once.
    const results = draining() ? { shutdown: 'shutting down' } : await checks();
    const ready = Object.values(results).every((check) => check === true);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
  });
  ops.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return ops;
}

/** How much of a refused body is read and thrown away before the connection is cut, and for how long. */
const REFUSED_BODY_DRAIN = { bytes: 64 * 1024 * 1024, ms: 10_000 };

/**
 * A request refused before its body was read (too large, not JSON) still has its body on the wire. Closing the
 * connection at once would reset it under the client, which may then never see the answer. Instead the answer
 * keeps the connection, and the rest of the body is read and thrown away, up to a bound, after which the
 * connection is cut.
 */
function keepReadingRefusedBody(request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('connection', 'keep-alive');
  const body = request.raw;
  let drained = 0;
  const cut = () => body.socket?.destroy();
  const deadline = setTimeout(cut, REFUSED_BODY_DRAIN.ms).unref();
  body.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > REFUSED_BODY_DRAIN.bytes) cut();
  });
  body.once('end', () => clearTimeout(deadline));
  body.once('close', () => clearTimeout(deadline));
  body.resume();
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

export interface ListenOptions {
  port: number;
  opsPort: number;
  host?: string;
}

/**
 * Listens on both ports, and on SIGTERM or SIGINT: /ready turns 503 and new requests get 503 for
 * SHUTDOWN_NOTICE_MS, then the GraphQL port stops accepting and drains in-flight requests, resources close
 * (`onClose`), the ops port closes, and the process exits 0.
 */
export async function listen(
  service: Pick<GraphQLService<BaseContext>, 'app' | 'ops'> & Partial<Pick<GraphQLService<BaseContext>, 'announceShutdown'>>,
  options: ListenOptions,
): Promise<string> {
  const { app, ops } = service;
  const host = options.host ?? readSettings(serviceSettings).HOST;
  await ops.listen({ port: options.opsPort, host });
  const address = await app.listen({ port: options.port, host });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => process.exit(1), 10_000).unref();
    // The notice first: for SHUTDOWN_NOTICE_MS the port stays open and answers new requests 503, so that a
    // router sending traffic learns of the restart before connections are refused (its circuit breaker then
    // waits out the restart instead of taking it for an outage).
    service.announceShutdown?.();
    const notice = new Promise((resolve) => setTimeout(resolve, readSettings(serviceSettings).SHUTDOWN_NOTICE_MS));
    notice
      .then(() => app.close())
      .then(() => ops.close())
      .then(
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
  // Started by a supervisor over IPC (npm start, the tests): when it goes away, so do we, even if it went while
  // we were still starting.
  if (process.send) {
    if (process.connected) process.once('disconnect', () => shutdown('parent exited'));
    else shutdown('parent exited');
  }
  return address;
}
