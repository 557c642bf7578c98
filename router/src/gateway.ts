import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions, type SupergraphManager } from '@apollo/gateway';
import type { GatewayGraphQLRequest, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { assertPatchedVersion, metrics } from '@shop/service';
import { dedupeRepresentations, expandEntities } from './entity-dedupe.js';
import { installCompiledResultShaping } from './result-shaping.js';
import { subgraphTimeoutMs, unavailable } from './subgraph-failures.js';
import { postJson, SubgraphClosingError, withRetries } from './subgraph-http.js';

/** What the router passes from the client request to every subgraph fetch. */
export interface RouterContext {
  authorization?: string;
  requestId: string;
  /** The client's address (the socket's, or from X-Forwarded-For with TRUST_PROXY); users rate-limits by it. */
  clientIp?: string;
}

export const SUPERGRAPH_PATH = process.env.SUPERGRAPH_PATH ?? new URL('../../schema/supergraph.graphql', import.meta.url).pathname;

/**
 * Forwards the caller's token (subgraphs verify it themselves), the request id, the client's address and the
 * router's secret. No identity header is ever derived here. Each fetch has a deadline (SUBGRAPH_TIMEOUT_MS); a
 * subgraph that fails or does not answer in time costs the client only its own part of the response.
 */
// @ts-expect-error RemoteGraphQLDataSource's typings mark sendRequest private, yet process() calls it as the one
// place where a fetch is made; replacing it is how this router sends, dedupes and retries (see sendRequest below).
class SubgraphDataSource extends RemoteGraphQLDataSource<RouterContext> {
  constructor(
    readonly serviceName: string,
    url: string,
    private readonly post: typeof postJson,
    private readonly timeoutMs = subgraphTimeoutMs(),
  ) {
    super({ url });
  }

  /**
   * Replaces the gateway's fetch: node's http client with keep-alive sockets (subgraph-http.ts), each distinct
   * entity representation sent once (entity-dedupe.ts), and queries, never mutations, retried while the
   * subgraph cannot be reached, as during its redeploy.
   */
  override async sendRequest(request: GatewayGraphQLRequest, _context: RouterContext): Promise<GatewayGraphQLResponse> {
    const { http: target, ...payload } = request;
    if (!target) throw new Error('subgraph requests are HTTP requests');
    const representations = payload.variables?.representations;
    const deduped = Array.isArray(representations) ? dedupeRepresentations(representations) : null;
    const body = JSON.stringify(deduped ? { ...payload, variables: { ...payload.variables, representations: deduped.unique } } : payload);
    const headers = Object.fromEntries(target.headers);
    const isMutation = /^\s*mutation\b/.test(payload.query ?? '');
    const send = async () => {
      const answer = await this.post(target.url, headers, body, this.timeoutMs);
      if (answer.status === 503) throw new SubgraphClosingError(`${this.serviceName} is shutting down`);
      return answer;
    };
    const answer = await withRetries(send, !isMutation);
    if (answer.status < 200 || answer.status >= 300 || !answer.contentType.includes('json')) {
      throw new Error(`${this.serviceName} answered HTTP ${answer.status} (${answer.contentType})`);
    }
    const response = JSON.parse(answer.body) as GatewayGraphQLResponse;
    return deduped ? expandEntities(response, deduped) : response;
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<RouterContext>) {
    const headers = request.http?.headers;
    if (!headers || !('requestId' in context)) return;
    if (context.authorization) headers.set('authorization', context.authorization);
    headers.set('x-request-id', context.requestId);
    if (context.clientIp) headers.set('x-client-ip', context.clientIp);
    if (process.env.ROUTER_SECRET) headers.set('x-router-secret', process.env.ROUTER_SECRET);
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

/** A subgraph's URL: `<NAME>_URL` (for example PRODUCTS_URL) if set, else the one composed into the supergraph. */
export function subgraphUrl(name: string, composedUrl: string | undefined): string {
  return process.env[`${name.toUpperCase()}_URL`] ?? composedUrl ?? '';
}

/** The subgraphs a supergraph names, with their effective URLs. */
export function subgraphsOf(supergraphSdl: string): { name: string; url: string }[] {
  const graphs = supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g);
  return [...graphs].map(([, name, url]) => ({ name: name!, url: subgraphUrl(name!, url) }));
}

/**
 * The router's gateway over a supergraph (the watched file, or SDL). `post` is the HTTP exchange with a
 * subgraph; router/test/result-shaping.test.ts answers it in memory to run this gateway against a stock one.
 */
export function createGateway(supergraph: SupergraphManager | string, post: typeof postJson = postJson): ApolloGateway {
  // SubgraphDataSource replaces the private sendRequest of this exact version.
  assertPatchedVersion('@apollo/gateway', '2.14.4', import.meta.url);
  installCompiledResultShaping();
  return new ApolloGateway({
    supergraphSdl: supergraph,
    buildService: ({ name, url }) => new SubgraphDataSource(name, subgraphUrl(name, url), post),
  });
}
