import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';

/** What the router passes from the client request to every subgraph fetch. */
export interface RouterContext {
  authorization?: string;
  requestId: string;
}

export const SUPERGRAPH_PATH = process.env.SUPERGRAPH_PATH ?? new URL('../../schema/supergraph.graphql', import.meta.url).pathname;

/**
 * Forwards the caller's token (subgraphs verify it themselves), the request id, and the router's secret.
 * No identity header is ever derived here.
 */
class SubgraphDataSource extends RemoteGraphQLDataSource<RouterContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<RouterContext>) {
    const headers = request.http?.headers;
    if (!headers || !('requestId' in context)) return;
    if (context.authorization) headers.set('authorization', context.authorization);
    headers.set('x-request-id', context.requestId);
    if (process.env.ROUTER_SECRET) headers.set('x-router-secret', process.env.ROUTER_SECRET);
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

export function createGateway(supergraphSdl = readFileSync(SUPERGRAPH_PATH, 'utf8')): ApolloGateway {
  return new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => new SubgraphDataSource({ url: subgraphUrl(name, url) }),
  });
}
