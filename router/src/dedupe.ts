/**
 * In-flight deduplication of subgraph fetches. When identical fetches are in flight at once (a popular
 * catalogue page asked for by many clients, one customer's page loaded by several tabs), the first one is sent
 * and the others wait for its answer instead of sending their own.
 *
 * "Identical" is the key: the subgraph, the exact request body (document, operation name and variables, entity
 * representations included) and the caller's authorization header, which is the one forwarded header that
 * changes a query's answer. x-request-id only names the request in logs; x-client-ip matters only to the
 * users subgraph's rate limits, which apply to mutations; x-router-secret is the same for every fetch.
 *
 * What is shared is the raw answer (status, content type, body text), never a parsed object: the gateway
 * completes the objects of a response in place, so each waiter parses its own copy. An error (no answer,
 * a timeout, a refused connection after the retries) is shared by exactly the waiters of that key, who all
 * asked for the same thing. A key leaves the map as its fetch settles, so nothing outlives the requests.
 *
 * Mutations are never shared, and once a mutation has been answered no later query joins a fetch that was
 * sent before it: a client that reads after its own write must not get an answer from before the write.
 */

import type { ApolloServerPlugin, BaseContext, GraphQLResponse } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type { SubgraphAnswer } from './subgraph-http.js';

/** A shared fetch, removed from the map when it settles or when a mutation makes it stale. */
interface Flight<T> {
  promise: Promise<T>;
  /** Requests that joined this flight instead of sending their own (for tests and metrics). */
  joined: number;
}

export class InFlightDedupe<T> {
  private readonly flights = new Map<string, Flight<T>>();
  /** Fetches that were answered from another request's flight. */
  shared = 0;

  /** Fetches in flight that a new identical one could join. Zero once every request has completed. */
  get size(): number {
    return this.flights.size;
  }

  /**
   * Runs `send` unless an identical fetch (`key`) is in flight, in which case its outcome is returned instead.
   * The flight is removed from the map when it settles, success or error.
   */
  run(key: string, send: () => Promise<T>, onShared?: () => void): Promise<T> {
    const existing = this.join(key);
    if (existing) {
      onShared?.();
      return existing;
    }
    const flight: Flight<T> = { promise: undefined as unknown as Promise<T>, joined: 0 };
    flight.promise = (async () => {
      try {
        return await send();
      } finally {
        // A mutation may have dropped this flight and a newer one may hold the key now: remove only our own.
        if (this.flights.get(key) === flight) this.flights.delete(key);
      }
    })();
    this.flights.set(key, flight);
    return flight.promise;
  }

  /** The outcome of the identical fetch in flight, if there is one. */
  join(key: string): Promise<T> | undefined {
    const existing = this.flights.get(key);
    if (existing) {
      existing.joined++;
      this.shared++;
      return existing.promise;
    }
    return undefined;
  }

  /**
   * Called when a mutation has been answered: the fetches in flight may have read the data before it changed,
   * so later requests send their own. Those already waiting still get the answer they were going to get.
   */
  forgetInFlight(): void {
    this.flights.clear();
  }
}

/** The key of a subgraph fetch: subgraph, authorization and the exact body, separated by characters neither contains. */
export function fetchKey(subgraph: string, authorization: string | undefined, body: string): string {
  return `${subgraph}\n${authorization ?? ''}\n${body}`;
}

/** An operation document that is a mutation (or a subscription, which is never fetched over HTTP anyway). */
export function isMutationDocument(query: string | undefined): boolean {
  return /^\s*(mutation|subscription)\b/.test(query ?? '');
}

/** Which subgraphs dedupe: all unless DEDUPE_SUBGRAPHS is false, minus those named in DEDUPE_DISABLED_SUBGRAPHS. */
export function dedupeEnabled(subgraph: string, settings: { DEDUPE_SUBGRAPHS: boolean; DEDUPE_DISABLED_SUBGRAPHS: string[] }): boolean {
  return settings.DEDUPE_SUBGRAPHS && !settings.DEDUPE_DISABLED_SUBGRAPHS.includes(subgraph);
}

/** The router's subgraph fetches in flight, one map for every subgraph: a mutation answered by any of them makes all stale. */
export const inFlightFetches = new InFlightDedupe<SubgraphAnswer>();

/** How long waiters wait for a shared execution that has not answered before they run their own. */
const SHARED_EXECUTION_WAIT_MS = 30_000;

type SingleResult = Extract<GraphQLResponse['body'], { kind: 'single' }>['singleResult'];
interface SharedResponse {
  status: number | undefined;
  result: SingleResult;
}

/**
 * Inbound deduplication (`DEDUPE_OPERATIONS`): identical client queries in flight at once (same document text,
 * operation name, variables and authorization header) share one execution, planning, fetches and result shaping
 * included. The first runs; the others wait for its response and answer with it. Mutations never share, a
 * mutation's answer makes the executions in flight unjoinable (as for fetches), and an incremental (@defer)
 * response is not shared: the waiters then run on their own.
 */
export function operationDedupePlugin<TContext extends BaseContext & { authorization?: string }>(
  executions = new InFlightDedupe<SharedResponse | null>(),
): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      let settle: ((shared: SharedResponse | null) => void) | undefined;
      return {
        async responseForOperation({ operation, request, queryHash, contextValue }) {
          if (operation?.operation !== 'query') return null;
          const key = `${queryHash}\n${request.operationName ?? ''}\n${contextValue.authorization ?? ''}\n${JSON.stringify(request.variables ?? {})}`;
          const running = executions.join(key);
          if (running) {
            const shared = await running;
            if (!shared) return null;
            const http = { status: shared.status, headers: new HeaderMap() };
            // A response object of its own; its data is the first response's, which nothing changes once sent.
            return { http, body: { kind: 'single', singleResult: { ...shared.result } } } as GraphQLResponse;
          }
          void executions.run(
            key,
            () =>
              new Promise<SharedResponse | null>((resolve) => {
                // Should this request never reach willSendResponse, its waiters run on their own after a while.
                const fallback = setTimeout(() => resolve(null), SHARED_EXECUTION_WAIT_MS);
                fallback.unref();
                settle = (shared) => {
                  clearTimeout(fallback);
                  resolve(shared);
                };
              }),
          );
          return null;
        },
        async willSendResponse({ response, operation }) {
          if (operation?.operation === 'mutation') executions.forgetInFlight();
          if (!settle) return;
          settle(response.body.kind === 'single' ? { status: response.http.status, result: response.body.singleResult } : null);
          settle = undefined;
        },
      };
    },
  };
}
