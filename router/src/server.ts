import { readFileSync } from 'node:fs';
import { createGraphQLService, SANDBOX_ORIGIN } from '@shop/kit';
import { createGateway, SUPERGRAPH_PATH, subgraphsOf, type RouterContext } from './gateway.js';

/** Checks that a subgraph answers a trivial query. */
async function subgraphAnswers(url: string): Promise<true | string> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(process.env.ROUTER_SECRET && { 'x-router-secret': process.env.ROUTER_SECRET }) },
      body: JSON.stringify({ query: '{ __typename }' }),
      signal: AbortSignal.timeout(2_000),
    });
    return response.ok ? true : `answered HTTP ${response.status}`;
  } catch (error) {
    return `unreachable: ${(error as Error).message}`;
  }
}

/** Builds the router (gateway loaded, subgraphs not yet required) without opening a port. */
export async function buildServer() {
  const supergraphSdl = readFileSync(SUPERGRAPH_PATH, 'utf8');
  const gateway = createGateway(supergraphSdl);
  const subgraphs = subgraphsOf(supergraphSdl);
  const corsOrigins = [SANDBOX_ORIGIN, ...(process.env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean)];
  return createGraphQLService<RouterContext>({
    name: 'router',
    gateway,
    corsOrigins,
    context: async (request) => ({ authorization: request.headers.authorization, requestId: request.id }),
    readiness: async () => {
      const checks = await Promise.all(
        subgraphs.map(async ({ name, url }) => [name, await subgraphAnswers(url)] as const),
      );
      return { supergraph: true, ...Object.fromEntries(checks) };
    },
  });
}
