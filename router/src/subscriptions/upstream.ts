import { CLIENT_IP_HEADER, ROUTER_SECRET_HEADER, type Logger } from '@shop/service';
import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** Who a subgraph connection speaks for: sent in its connection_init payload (the realtime protocol in docs/realtime.md). */
export interface UpstreamIdentity {
  /** The client's `Bearer <token>`, absent for an anonymous client. */
  authorization?: string;
  requestId: string;
  clientIp?: string;
}

export interface UpstreamRequest {
  query: string;
  operationName?: string;
  variables: Record<string, unknown>;
}

export interface UpstreamSink {
  next(result: FormattedExecutionResult): void;
  /**
   * The subscription cannot go on: the subgraph refused the operation (`errors`, GraphQL errors of a graphql-ws
   * `error` message), or could not be reached again within the re-subscribe budget (`lost`).
   */
  fail(reason: { errors: readonly unknown[] } | { lost: unknown }): void;
  complete(): void;
}

export interface UpstreamOptions {
  routerSecret: string | undefined;
  /** graphql-ws pings to the subgraph; a pong not back within the same time terminates the socket, which retries. */
  keepAliveMs: number;
  /** How long re-connecting (and so re-subscribing) goes on once the subgraph's connection dropped. */
  resubscribeBudgetMs: number;
  logger: Logger;
}

/** A subgraph's http(s) URL as the ws(s) one its graphql-ws server answers on, the same path. */
export function webSocketUrl(url: string): string {
  return url.replace(/^http(s?):/i, 'ws$1:');
}

interface PooledClient {
  client: Client;
  subscriptions: number;
}

/**
 * The router's graphql-ws connections to subgraphs. Connections are grouped: one per downstream connection (a
 * client's WebSocket, or one multipart request) and subgraph, so that the connection_init payload (the client's
 * token, request id and address) is that client's; the shared anonymous streams have a group of their own.
 *
 * When a subgraph's connection drops (a restart, a redeploy) graphql-ws's client reconnects and sends every open
 * subscription again, with backoff, for `resubscribeBudgetMs`; after that each subscription fails with `lost`.
 */
export class UpstreamPool {
  private readonly clients = new Map<string, PooledClient>();

  constructor(private readonly options: UpstreamOptions) {}

  /** Open connections, for tests and metrics. */
  get size(): number {
    return this.clients.size;
  }

  subscribe(group: string, url: string, identity: UpstreamIdentity, request: UpstreamRequest, sink: UpstreamSink): () => void {
    const key = `${group}\n${url}`;
    let pooled = this.clients.get(key);
    if (!pooled) {
      pooled = { client: this.connect(url, identity), subscriptions: 0 };
      this.clients.set(key, pooled);
    }
    pooled.subscriptions++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const current = this.clients.get(key);
      if (current && --current.subscriptions === 0) {
        this.clients.delete(key);
        void current.client.dispose();
      }
    };
    const unsubscribe = pooled.client.subscribe<Record<string, unknown>, Record<string, unknown>>(
      { query: request.query, variables: request.variables, ...(request.operationName && { operationName: request.operationName }) },
      {
        next: (result) => sink.next(result),
        error: (error: unknown) => {
          release();
          sink.fail(Array.isArray(error) ? { errors: error } : { lost: error });
        },
        complete: () => {
          release();
          sink.complete();
        },
      },
    );
    return () => {
      unsubscribe();
      release();
    };
  }

  /** Closes every subgraph connection (the router is shutting down). */
  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map(({ client }) => client.dispose()));
  }

  private connect(url: string, identity: UpstreamIdentity): Client {
    const { keepAliveMs, resubscribeBudgetMs, routerSecret, logger } = this.options;
    let failingSince: number | undefined;
    let pongDeadline: NodeJS.Timeout | undefined;
    const client: Client = createClient({
      url: webSocketUrl(url),
      webSocketImpl: WebSocket,
      connectionParams: {
        ...(identity.authorization && { authorization: identity.authorization }),
        ...(routerSecret && { [ROUTER_SECRET_HEADER]: routerSecret }),
        'x-request-id': identity.requestId,
        ...(identity.clientIp && { [CLIENT_IP_HEADER]: identity.clientIp }),
      },
      lazy: true,
      lazyCloseTimeout: 0,
      keepAlive: keepAliveMs,
      // Every close, refused connection included, is retried while the budget lasts: a restarting subgraph
      // refuses connections for a moment.
      retryAttempts: Number.MAX_SAFE_INTEGER,
      shouldRetry: () => failingSince !== undefined && Date.now() - failingSince < resubscribeBudgetMs,
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** retries, 1_000))),
      on: {
        connected: () => {
          if (failingSince !== undefined) logger.info({ url }, 'subgraph subscription connection re-established');
          failingSince = undefined;
        },
        closed: (event) => {
          clearTimeout(pongDeadline);
          const code = (event as { code?: number } | undefined)?.code;
          if (code !== 1000 && failingSince === undefined) {
            failingSince = Date.now();
            logger.warn({ url, code }, 'subgraph subscription connection dropped; re-subscribing');
          }
        },
        error: () => {
          failingSince ??= Date.now();
        },
        ping: (received) => {
          if (received) return;
          clearTimeout(pongDeadline);
          // A subgraph that stops answering pings is as good as gone: terminate (4499) retries like a drop.
          pongDeadline = setTimeout(() => client.terminate(), keepAliveMs);
        },
        pong: (received) => {
          if (received) clearTimeout(pongDeadline);
        },
      },
    });
    return client;
  }
}
