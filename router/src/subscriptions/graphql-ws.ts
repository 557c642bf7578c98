import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import proxyAddr from '@fastify/proxy-addr';
import { MAX_BODY_BYTES, requestIdOf, type Logger } from '@shop/service';
import type { Disposable } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { GraphQLError, type ExecutionArgs, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import { WebSocketServer } from 'ws';
import type { ErrorFormatter, SubscriptionExecutor } from './executor.js';
import type { Lease, SubscriptionQuota } from './quota.js';
import { resultIterator, serialized } from './results.js';
import type { OperationResolver, SubscriptionValidator } from './validate.js';

export interface GraphqlWsOptions {
  server: Server;
  path: string;
  executor: SubscriptionExecutor;
  validator: SubscriptionValidator;
  quota: SubscriptionQuota;
  formatError: ErrorFormatter;
  /** fastify's trustProxy setting, so that a WebSocket client's address is read as an HTTP client's is. */
  trustProxy: boolean | string[] | ((address: string, hop: number) => boolean);
  keepAliveMs: number;
  idleCloseMs: number;
  logger: Logger;
  resolveOperation?: OperationResolver;
}

/** What the router keeps about one graphql-ws connection. */
interface Connection {
  id: string;
  clientIp: string;
  authorization?: string;
  /** Each open subscription's place in the quota, by graphql-ws id. */
  leases: Map<string, Lease>;
  idle?: NodeJS.Timeout;
}

/** A subscription's context between graphql-ws's onSubscribe and subscribe. */
interface Accepted {
  connection: Connection;
  id: string;
  lease: Lease;
  query: string;
  socket: Extra['socket'];
}

/** Closed for having no subscription for SUBSCRIPTION_IDLE_CLOSE_MS; a normal closure, so clients reconnect lazily. */
const IDLE_CLOSE = { code: 1000, reason: 'Idle' } as const;

/**
 * graphql-ws (the graphql-transport-ws protocol) on the router's own HTTP server and port, at /graphql: the client's
 * token is read from the connection_init payload (`{ "authorization": "Bearer …" }`). Subscriptions are validated
 * as queries are, counted against the quota, and executed by the SubscriptionExecutor. Sockets are pinged every
 * SUBSCRIPTION_KEEPALIVE_MS (WebSocket pings; a client that does not answer is terminated), and clients' own
 * graphql-ws pings are answered. Returns what stops it: every stream completed first, then the sockets closed.
 */
export function serveGraphqlWs(options: GraphqlWsOptions): { close(): Promise<void> } {
  const { server, path, executor, validator, quota, formatError, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  const trust = typeof options.trustProxy === 'boolean' ? () => options.trustProxy as boolean : options.trustProxy;
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://router');
    if (url.pathname !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  server.on('upgrade', onUpgrade);

  const connections = new WeakMap<object, Connection>();
  /** graphql-ws's contexts of the open connections: their `subscriptions` empty once each `complete` is sent. */
  const contexts = new Set<{ subscriptions: Record<string, unknown> }>();
  const accepted = new WeakMap<ExecutionArgs, Accepted>();
  const armIdle = (connection: Connection, socket: Extra['socket']) => {
    clearTimeout(connection.idle);
    if (connection.leases.size > 0) return;
    connection.idle = setTimeout(() => socket.close(IDLE_CLOSE.code, IDLE_CLOSE.reason), options.idleCloseMs);
    connection.idle.unref();
  };
  const release = (connection: Connection, id: string, socket: Extra['socket']) => {
    const lease = connection.leases.get(id);
    if (!lease) return;
    connection.leases.delete(id);
    lease();
    armIdle(connection, socket);
  };
  const masked = (errors: readonly GraphQLError[]): GraphQLFormattedError[] => errors.map((error) => formatError(error));

  const disposable: Disposable = useServer<Record<string, unknown> | undefined, Record<string, never>>(
    {
      connectionInitWaitTimeout: 10_000,
      onConnect(ctx) {
        const request = ctx.extra.request;
        const params = ctx.connectionParams ?? {};
        const authorization = params.authorization ?? params.Authorization;
        const connection: Connection = {
          id: requestIdOf(request.headers['x-request-id'], false),
          clientIp: proxyAddr(request, trust),
          ...(typeof authorization === 'string' && authorization.length > 0 && { authorization: authorization.slice(0, 8_192) }),
          leases: new Map(),
        };
        connections.set(ctx, connection);
        contexts.add(ctx);
        armIdle(connection, ctx.extra.socket);
        return true;
      },
      async onSubscribe(ctx, id, payload) {
        const connection = connections.get(ctx);
        if (!connection) return [new GraphQLError('The connection is not initialised', { extensions: { code: 'BAD_REQUEST' } })];
        const resolved = options.resolveOperation ? options.resolveOperation(payload) : payload;
        if (resolved instanceof GraphQLError) return [resolved];
        const schema = executor.internals().schema;
        const checked = validator.check(schema, resolved);
        if (!checked.ok) return checked.errors;
        const lease = quota.acquire(connection.clientIp, connection.leases.size);
        if (lease instanceof GraphQLError) return [lease];
        connection.leases.set(id, lease);
        clearTimeout(connection.idle);
        const args: ExecutionArgs = {
          schema,
          document: checked.document,
          variableValues: checked.variables,
          ...(checked.operationName && { operationName: checked.operationName }),
        };
        accepted.set(args, { connection, id, lease, query: checked.query, socket: ctx.extra.socket });
        return args;
      },
      subscribe(args) {
        const subscription = accepted.get(args)!;
        const { connection, id, query, socket } = subscription;
        return resultIterator(
          (sink) =>
            executor.subscribe(
              {
                query,
                document: args.document,
                ...(args.operationName && { operationName: args.operationName }),
                variables: (args.variableValues ?? {}) as Record<string, unknown>,
                context: {
                  requestId: connection.id,
                  clientIp: connection.clientIp,
                  ...(connection.authorization && { authorization: connection.authorization }),
                },
                group: connection.id,
              },
              sink,
            ),
          () => {
            if (connection.leases.get(id) === subscription.lease) release(connection, id, socket);
            else subscription.lease();
          },
          // Each result is written to the socket as graphql-ws would write it, with the payload serialized once
          // for every client of a shared stream, and without a round of promises per client and event. graphql-ws
          // still sends `complete`, after these, when the iteration ends.
          (result) => {
            if (socket.readyState !== socket.OPEN) return true;
            socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${serialized(result)}}`);
            return true;
          },
        ) as unknown as AsyncGenerator<never>;
      },
      // Results are formatted and masked by the executor already; graphql-ws would call toJSON on each error.
      onNext: (_ctx, _id, _payload, _args, result) => result as FormattedExecutionResult,
      onError: (_ctx, _id, _payload, errors) => masked(errors),
      onComplete(ctx, id) {
        const connection = connections.get(ctx);
        if (connection) release(connection, id, ctx.extra.socket);
      },
      onClose(ctx) {
        contexts.delete(ctx);
        const connection = connections.get(ctx);
        if (!connection) return;
        clearTimeout(connection.idle);
        for (const lease of connection.leases.values()) lease();
        connection.leases.clear();
      },
    },
    wss,
    options.keepAliveMs,
  );

  return {
    async close() {
      server.off('upgrade', onUpgrade);
      // Streams complete first (each client reads `complete`), then the sockets close with 1001 Going Away.
      await executor.drain();
      // graphql-ws sends each `complete` once its stream's iteration ends, a few ticks after the drain: wait for
      // them (briefly) before the sockets close.
      const deadline = Date.now() + 2_000;
      while ([...contexts].some((ctx) => Object.keys(ctx.subscriptions).length > 0) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await disposable.dispose();
      logger.info('subscriptions closed');
    },
  };
}
