import http from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** A graphql-ws client to the router, with the token in connection_init as clients send it. */
export function wsClient(url: string, authorization?: string, options: { keepAlive?: number } = {}): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: authorization ? { authorization } : {},
    retryAttempts: 0,
    lazyCloseTimeout: 0,
    ...(options.keepAlive && { keepAlive: options.keepAlive }),
  });
}

export interface Collected {
  results: any[];
  /** Resolves when the stream completes (`error` set when it errored). */
  done: Promise<{ results: any[]; error?: unknown }>;
  stop: () => void;
}

/** Subscribes and collects every result until the stream ends. */
export function collect(client: Client, query: string, variables: Record<string, unknown> = {}): Collected {
  const results: any[] = [];
  let stop = () => {};
  const done = new Promise<{ results: any[]; error?: unknown }>((resolve) => {
    stop = client.subscribe(
      { query, variables },
      {
        next: (result) => void results.push(result),
        error: (error) => resolve({ results, error }),
        complete: () => resolve({ results }),
      },
    );
  });
  return { results, done, stop };
}

/** Waits until `check` holds, polling. */
export async function until(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const MULTIPART_ACCEPT = 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0",application/json';

/**
 * A multipart subscription read part by part: every part (heartbeats `{}` included), and whether it ended with the
 * closing boundary. node's http client, so that `abort` closes exactly the one connection.
 */
export function multipart(url: string, query: string, variables: Record<string, unknown>, authorization?: string) {
  const parts: any[] = [];
  let request: http.ClientRequest | undefined;
  const done = new Promise<{ status: number; contentType: string | undefined; body: unknown; parts: any[]; ended: boolean }>(
    (resolve, reject) => {
      const payload = JSON.stringify({ query, variables });
      request = http.request(
        url,
        {
          method: 'POST',
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            accept: MULTIPART_ACCEPT,
            ...(authorization && { authorization }),
          },
        },
        (response) => {
          const contentType = response.headers['content-type'];
          const status = response.statusCode ?? 0;
          let buffer = '';
          let ended = false;
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            buffer += chunk;
            if (!contentType?.startsWith('multipart/mixed')) return;
            let at: number;
            while ((at = buffer.indexOf('\r\n--graphql', 1)) > -1) {
              const message = buffer.slice(0, at);
              buffer = buffer.slice(at);
              if (message.includes('\r\n\r\n')) parts.push(JSON.parse(message.slice(message.indexOf('\r\n\r\n') + 4)));
            }
            if (buffer.startsWith('\r\n--graphql--')) ended = true;
          });
          const finish = () =>
            resolve({
              status,
              contentType,
              body: contentType?.startsWith('multipart/mixed') ? undefined : JSON.parse(buffer || 'null'),
              parts,
              ended,
            });
          response.on('end', finish);
          response.on('close', finish);
          response.on('error', () => finish());
        },
      );
      request.on('error', (error) =>
        request?.destroyed ? resolve({ status: 0, contentType: undefined, body: undefined, parts, ended: false }) : reject(error),
      );
      request.end(payload);
    },
  );
  return { parts, done, abort: () => request?.destroy() };
}

/** The events of a multipart subscription, heartbeats left out. */
export const payloads = (parts: any[]) => parts.filter((part) => 'payload' in part).map((part) => part.payload);
