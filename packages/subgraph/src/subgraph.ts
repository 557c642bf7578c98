import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { FastifyRequest } from 'fastify';
import { GraphQLError, parse, type GraphQLSchema } from 'graphql';
import { viewerFromAuthorization, type Viewer } from './auth.js';

/** Builds a Federation 2 subgraph schema from its SDL file and codegen-typed resolvers. */
export function subgraphSchema(sdlFile: URL, resolvers: object): GraphQLSchema {
  const typeDefs = parse(readFileSync(sdlFile, 'utf8'));
  return buildSubgraphSchema({ typeDefs, resolvers: resolvers as never });
}

/**
 * The verified caller of a subgraph request. A bad token fails the whole request as UNAUTHENTICATED, with
 * HTTP 200 so that the router passes the error on instead of reporting a failed fetch.
 */
export async function authenticate(request: FastifyRequest): Promise<Viewer | null> {
  try {
    return await viewerFromAuthorization(request.headers.authorization);
  } catch (error) {
    if (error instanceof GraphQLError) {
      throw new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: 200 } } });
    }
    throw error;
  }
}
