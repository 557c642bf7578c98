import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CLIENT_IP_HEADER, MAX_BODY_BYTES, ROUTER_SECRET_HEADER, maskUnexpectedErrors, secretMatches, type Logger } from '@shop/service';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

/** What the router says about the client in its connection_init payload (see TEAM protocol in docs/events.md). */
export interface SubscriptionConnection {
  /** `Bearer <token>` of the client, or undefined for an anonymous one. */
  authorization: string | undefined;
  /** The router's request id of the client's subscription, for logs. */
  requestId: string | undefined;
  /** The client's address as the router saw it. */
  clientIp: string | undefined;
}

export interface SubscriptionServerOptions<TContext> {
  app: FastifyInstance;
  schema: GraphQLSchema;
  logger: Logger;
  /** With it, a connection whose connection_init lacks the router's secret is closed with 4403. */
  routerSecret: string | undefined;
  /** The context of one subscription, from its connection. */
  context: (connection: SubscriptionConnection) => Promise<TContext> | TContext;
  /** Ping interval of the WebSocket keep-alive, ms. */
  keepAliveMs?: number;
}

const PATH = '/graphql';

function text(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, max) : undefined;
}

/**
 * Serves the subgraph's subscriptions over graphql-ws (the graphql-transport-ws protocol) on /graphql of the
 * service's own HTTP server. Only the router connects: its connection_init payload carries the router secret,
 * the client's authorization, request id and address. Results are masked as over HTTP: a resolver's client
 * code passes, anything else is logged and sent as INTERNAL_SERVER_ERROR. Open sockets close (1001) when the
 * service starts shutting down, so the router re-subscribes elsewhere.
 */
export function serveSubscriptions<TContext>(options: SubscriptionServerOptions<TContext>): void {
  const { app, logger, routerSecret } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== PATH) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  app.server.on('upgrade', onUpgrade);
  const mask = maskUnexpectedErrors(logger);
  const connections = new WeakMap<object, SubscriptionConnection>();
  const server = useServer<Record<string, unknown> | undefined>(
    {
      schema: options.schema,
      connectionInitWaitTimeout: 10_000,
      onConnect(ctx) {
        const params = ctx.connectionParams ?? {};
        if (routerSecret && !secretMatches(params[ROUTER_SECRET_HEADER] as string | undefined, routerSecret)) {
          logger.warn({ ip: ctx.extra.request.socket.remoteAddress }, 'refused a subscription connection without the router secret');
          return false; // graphql-ws closes it with 4403 Forbidden
        }
        connections.set(ctx, {
          authorization: text(params.authorization, 8_192),
          requestId: text(params['x-request-id'], 64),
          clientIp: text(params[CLIENT_IP_HEADER], 64),
        });
        return true;
      },
      context: (ctx) => options.context(connections.get(ctx) ?? { authorization: undefined, requestId: undefined, clientIp: undefined }),
      onNext(_ctx, _id, _payload, _args, result) {
        if (!result.errors) return;
        return { ...result, errors: result.errors.map((error) => mask(error.toJSON(), error)) };
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );
  // Before the HTTP server closes: upgraded sockets would otherwise hold its close until they end.
  app.addHook('preClose', async () => {
    app.server.off('upgrade', onUpgrade);
    await server.dispose();
  });
}
