/**
 * Patch of @apollo/gateway 2.14: replaces RemoteGraphQLDataSource's private sendRequest, the one place where
 * the gateway makes a fetch. The version is exact: an upgrade fails here at start instead of silently
 * bypassing this router's sending, entity dedupe and retries.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLRequest, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { assertPatchedVersion, metrics } from '@shop/service';
import { settings } from '../config.js';
import { dedupeEnabled, fetchKey, inFlightFetches, isMutationDocument } from '../dedupe.js';
import type { AcceptedTokens } from '../accepted-tokens.js';
import type { EntityCache } from '../entity-cache.js';
import { dedupeRepresentations, expandEntities } from '../entity-dedupe.js';
import type { RouterContext } from '../gateway.js';
import { subgraphTimeoutMs, unavailable } from '../subgraph-failures.js';
import { breakerFor } from '../circuit-breaker.js';
import { isConnectionFailure, postJson, SubgraphClosingError, withRetries, type SubgraphAnswer } from '../subgraph-http.js';

assertPatchedVersion('@apollo/gateway', '2.14.4', import.meta.url);

/**
 * Forwards the caller's token (subgraphs verify it themselves), the request id, the client's address and the
 * router's secret. No identity header is ever derived here. Each fetch has a deadline (SUBGRAPH_TIMEOUT_MS); a
 * subgraph that fails or does not answer in time costs the client only its own part of the response.
 */
// @ts-expect-error RemoteGraphQLDataSource's typings mark sendRequest private, yet process() calls it as the one
// place where a fetch is made; replacing it is how this router sends, dedupes and retries (see sendRequest below).
export class SubgraphDataSource extends RemoteGraphQLDataSource<RouterContext> {
  constructor(
    readonly serviceName: string,
    url: string,
    private readonly post: typeof postJson,
    private readonly timeoutMs = subgraphTimeoutMs(),
    private readonly routerSecret = settings().ROUTER_SECRET,
    private readonly dedupe = dedupeEnabled(serviceName, settings()),
    /** Product entities cached by key, and public root queries by text and variables (products only; entity-cache.ts). */
    private readonly entityCache?: EntityCache,
    /** What a mutation of this subgraph does to the entity cache once answered, so that its client reads its own writes. */
    private readonly afterMutation?: () => Promise<void>,
    /** Tokens the subgraphs accepted: every subgraph's answers teach it, and only their callers get cached answers. */
    private readonly acceptedTokens?: AcceptedTokens,
    private readonly retryBudgetMs = settings().SUBGRAPH_RETRY_BUDGET_MS,
  ) {
    super({ url });
  }

  /**
   * Replaces the gateway's fetch: node's http client with keep-alive sockets (subgraph-http.ts), each distinct
   * entity representation sent once (entity-dedupe.ts), product entities and catalogue queries answered from
   * the entity cache where it can (entity-cache.ts), identical queries in flight at once sent once (dedupe.ts),
   * and queries, never mutations, retried while the subgraph cannot be reached, as during its redeploy, but not
   * through an outage: the subgraph's circuit breaker (circuit-breaker.ts) ends the retries, and then fails
   * requests at once until a probe gets through.
   */
  override async sendRequest(request: GatewayGraphQLRequest, _context: RouterContext): Promise<GatewayGraphQLResponse> {
    const { http: target, ...payload } = request;
    if (!target) throw new Error('subgraph requests are HTTP requests');
    const representations = payload.variables?.representations;
    const deduped = Array.isArray(representations) ? dedupeRepresentations(representations) : null;
    const headers = Object.fromEntries(target.headers);
    const isMutation = isMutationDocument(payload.query);
    const breaker = breakerFor(this.serviceName);
    const send = async (body: string) => {
      // Throws at once, sending nothing, while the breaker is open (not a connection failure: never retried).
      const admission = breaker.admit();
      let answer: SubgraphAnswer;
      try {
        answer = await this.post(target.url, headers, body, this.timeoutMs);
      } catch (error) {
        if (isConnectionFailure(error)) breaker.unreachable(admission, false);
        else breaker.released(admission);
        throw error;
      }
      if (answer.status === 503) {
        breaker.unreachable(admission, true);
        throw new SubgraphClosingError(`${this.serviceName} is shutting down`);
      }
      breaker.answered(admission, answer.closing === true);
      return answer;
    };
    // One fetch, with the given entity representations in place of the request's (the entity cache's misses);
    // `onShared` is called when it is answered by an identical fetch already in flight.
    const fetchWith = async (entities?: unknown[], onShared?: () => void): Promise<GatewayGraphQLResponse> => {
      const body = JSON.stringify(entities ? { ...payload, variables: { ...payload.variables, representations: entities } } : payload);
      const fetchAnswer = () =>
        withRetries(
          () => send(body),
          !isMutation,
          this.retryBudgetMs,
          (delay) => breaker.retryDelay(delay),
        );
      const answer = isMutation
        ? await fetchAnswer().finally(async () => {
            inFlightFetches.forgetInFlight();
            // A product changed through this router shows in its next read, before the change's event arrives.
            await this.afterMutation?.();
          })
        : this.dedupe
          ? await inFlightFetches.run(fetchKey(this.serviceName, headers.authorization, body), fetchAnswer, () => {
              metrics.routerSharedFetches.inc({ subgraph: this.serviceName });
              onShared?.();
            })
          : await fetchAnswer();
      if (answer.status < 200 || answer.status >= 300 || !answer.contentType.includes('json')) {
        throw new Error(`${this.serviceName} answered HTTP ${answer.status} (${answer.contentType})`);
      }
      const response = JSON.parse(answer.body) as GatewayGraphQLResponse;
      this.acceptedTokens?.observe(headers.authorization, response);
      return response;
    };
    const cache = this.entityCache && !isMutation && this.acceptedTokens?.accepts(headers.authorization) ? this.entityCache : undefined;
    if (!Array.isArray(representations))
      return cache ? cache.root(payload.query ?? '', payload.variables, (onShared) => fetchWith(undefined, onShared)) : fetchWith();
    const unique = deduped ? deduped.unique : representations;
    const response = cache ? await cache.entities(payload.query ?? '', unique, fetchWith) : await fetchWith(unique);
    return deduped ? expandEntities(response, deduped) : response;
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<RouterContext>) {
    const headers = request.http?.headers;
    if (!headers || !('requestId' in context)) return;
    if (context.authorization) headers.set('authorization', context.authorization);
    headers.set('x-request-id', context.requestId);
    if (context.clientIp) headers.set('x-client-ip', context.clientIp);
    if (this.routerSecret) headers.set('x-router-secret', this.routerSecret);
  }

  override async process(options: GraphQLDataSourceProcessOptions<RouterContext>) {
    const fetched = metrics.subgraphFetchDuration.startTimer({ subgraph: this.serviceName });
    try {
      return await super.process(options);
    } catch (error) {
      const document = 'document' in options ? options.document : undefined;
      return unavailable(this.serviceName, this.url ?? '', error, { document, query: options.request.query }, this.timeoutMs);
    } finally {
      fetched();
    }
  }
}
