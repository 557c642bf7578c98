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

/** A multipart subscription read part by part: every part (heartbeats `{}` included), and whether it ended properly. */
export function multipart(url: string, query: string, variables: Record<string, unknown>, authorization?: string) {
  const parts: any[] = [];
  const controller = new AbortController();
  const response = fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: MULTIPART_ACCEPT,
      ...(authorization && { authorization }),
    },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const done = (async () => {
    const answer = await response;
    if (!answer.headers.get('content-type')?.startsWith('multipart/mixed')) {
      return { status: answer.status, contentType: answer.headers.get('content-type'), body: await answer.json(), parts, ended: false };
    }
    let buffer = '';
    let ended = false;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of answer.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let at: number;
        while ((at = buffer.indexOf('\r\n--graphql', 1)) > -1) {
          const message = buffer.slice(0, at);
          buffer = buffer.slice(at);
          const body = message.slice(message.indexOf('\r\n\r\n') + 4);
          if (message.includes('\r\n\r\n')) parts.push(JSON.parse(body));
        }
        if (buffer.startsWith('\r\n--graphql--')) ended = true;
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
    return { status: answer.status, contentType: answer.headers.get('content-type'), body: undefined, parts, ended };
  })();
  return { parts, done, abort: () => controller.abort() };
}

/** The events of a multipart subscription, heartbeats left out. */
export const payloads = (parts: any[]) => parts.filter((part) => 'payload' in part).map((part) => part.payload);
