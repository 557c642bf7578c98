import type { FastifyInstance } from 'fastify';

export interface InjectedGraphQLResponse {
  data?: any;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

/**
 * Sends a GraphQL request to a service built in-process, through fastify's request injection: the real HTTP
 * handling, context and auth, with no port opened. For a subgraph's own tests.
 */
export function graphqlClient(app: FastifyInstance) {
  return async (query: string, variables: Record<string, unknown> = {}, token?: string): Promise<InjectedGraphQLResponse> => {
    const response = await app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      payload: { query, variables },
    });
    return response.json() as InjectedGraphQLResponse;
  };
}
