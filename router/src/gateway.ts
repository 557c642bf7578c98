import { ApolloGateway, type SupergraphManager } from '@apollo/gateway';
import { installCompiledResultShaping } from './patches/gateway-result-shaping.js';
import { AcceptedTokens } from './accepted-tokens.js';
import type { EntityCache } from './entity-cache.js';
import { SubgraphDataSource } from './patches/subgraph-data-source.js';
import { postJson } from './subgraph-http.js';
import { settings } from './config.js';

/** What the router passes from the client request to every subgraph fetch. */
export interface RouterContext {
  authorization?: string;
  requestId: string;
  /** The client's address (the socket's, or from X-Forwarded-For with TRUST_PROXY); users rate-limits by it. */
  clientIp?: string;
}

/** The supergraph file the router serves and watches. */
export const supergraphPath = () => settings().SUPERGRAPH_PATH ?? new URL('../../schema/supergraph.graphql', import.meta.url).pathname;

/** A subgraph's URL: `<NAME>_URL` (for example PRODUCTS_URL) if set, else the one composed into the supergraph. */
export function subgraphUrl(name: string, composedUrl: string | undefined): string {
  return (settings() as unknown as Record<string, string | undefined>)[`${name.toUpperCase()}_URL`] ?? composedUrl ?? '';
}

/**
 * What a mutation answered through the router does to its entity cache, so that the client reads its own
 * writes before their events arrive: one of products may have changed anything cached; one of orders took or
 * gave back stock through products, which the root queries (catalogue and product pages) show. Cached product
 * entities keep their stock until its events: the order pages show at most `inStock`.
 */
function afterMutationOf(subgraph: string, cache: EntityCache | undefined): (() => Promise<void>) | undefined {
  if (subgraph === 'products') return cache && (() => cache.clear());
  if (subgraph === 'orders') return cache && (() => cache.dropRoots());
  return undefined;
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
export function createGateway(
  supergraph: SupergraphManager | string,
  post: typeof postJson = postJson,
  { entityCache }: { entityCache?: EntityCache } = {},
): ApolloGateway {
  installCompiledResultShaping();
  const acceptedTokens = entityCache && new AcceptedTokens();
  return new ApolloGateway({
    supergraphSdl: supergraph,
    buildService: ({ name, url }) =>
      new SubgraphDataSource(
        name,
        subgraphUrl(name, url),
        post,
        undefined,
        undefined,
        undefined,
        name === 'products' ? entityCache : undefined,
        afterMutationOf(name, entityCache),
        acceptedTokens,
      ),
  });
}
