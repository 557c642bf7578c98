import http from 'node:http';
import https from 'node:https';
import { settings } from './config.js';

/**
 * The router's HTTP client for subgraph fetches: node's http with keep-alive sockets, without the Fetch API
 * layers (Request/Headers objects, abort signals, web streams) that cost more CPU than the fetch itself.
 *
 * Idle sockets are closed after 30 s, well before the subgraphs' 75 s keepAliveTimeout, so the router never
 * reuses a socket the subgraph is closing (the ECONNRESET of mismatched keep-alive settings).
 */
export const IDLE_SOCKET_MS = 30_000;
const agentOptions = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' as const };
const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

export interface SubgraphAnswer {
  status: number;
  contentType: string;
  body: string;
  /** The subgraph closes the connection after this answer: it is draining for a shutdown (see circuit-breaker.ts). */
  closing?: boolean;
}

/** The subgraph did not answer within the deadline. */
export class SubgraphTimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Each subgraph URL parsed once: node would otherwise turn the URL into request options on every fetch. */
const targets = new Map<string, { protocol: string; hostname: string; port: string; path: string; host: string; auth?: string }>();
function targetOf(url: string) {
  let target = targets.get(url);
  if (!target) {
    const { protocol, hostname, port, pathname, search, host, username, password } = new URL(url);
    // Subgraph URLs come from the supergraph and the settings, a handful; the bound is for safety only.
    if (targets.size >= 100) targets.clear();
    targets.set(
      url,
      (target = {
        protocol,
        hostname: hostname.replace(/^\[|\]$/g, ''),
        port,
        path: pathname + search,
        host,
        ...(username && { auth: `${decodeURIComponent(username)}:${decodeURIComponent(password)}` }),
      }),
    );
  }
  return target;
}

export function postJson(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<SubgraphAnswer> {
  const target = targetOf(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        path: target.path,
        auth: target.auth,
        method: 'POST',
        agent: agents[target.protocol as 'http:' | 'https:'],
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          clearTimeout(deadline);
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
            closing: response.headers.connection === 'close',
          });
        });
      },
    );
    const deadline = setTimeout(
      () => request.destroy(new SubgraphTimeoutError(`no answer from ${target.host} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    request.on('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    request.end(body);
  });
}

/** A subgraph that is shutting down answers 503 before running anything (fastify's return503OnClosing). */
export class SubgraphClosingError extends Error {
  readonly code = 'ESUBGRAPHCLOSING';
}

/** Errors that mean the request never reached a live subgraph: nothing ran, so a query may be sent again. */
const CONNECTION_FAILURES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'ESUBGRAPHCLOSING']);

export function isConnectionFailure(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined && CONNECTION_FAILURES.has(code)) || (error as Error | undefined)?.message === 'socket hang up';
}

/** How long queries keep being retried while a subgraph cannot be reached (`SUBGRAPH_RETRY_BUDGET_MS`). */
export function retryBudgetMs(): number {
  return settings().SUBGRAPH_RETRY_BUDGET_MS;
}

/**
 * Sends a query again while the subgraph cannot be reached (a redeploy, say), with exponential backoff from
 * 50 ms up to 1 s, until the budget is spent; then the last error stands. Mutations are never retried: the
 * router cannot know whether one that failed mid-way took effect. `pace` may shorten a wait, or end the retries
 * (undefined): the subgraph's circuit breaker does, once the refusals are an outage rather than a restart.
 */
export async function withRetries<T>(
  send: () => Promise<T>,
  retryable: boolean,
  budgetMs = retryBudgetMs(),
  pace: (delay: number) => number | undefined = (delay) => delay,
): Promise<T> {
  const giveUpAt = Date.now() + budgetMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      return await send();
    } catch (error) {
      const wait = retryable && isConnectionFailure(error) ? pace(delay) : undefined;
      if (wait === undefined || Date.now() + wait > giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
