import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';
import { parse, validate, type GraphQLSchema } from 'graphql';
import { CONTRACT_FILE } from './subgraphs.js';

/** The schema clients see: the supergraph minus join directives and @inaccessible elements. */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

/** Every contract operation that does not validate against the schema, with the reasons. */
export function contractViolations(schema: GraphQLSchema, contract = readFileSync(CONTRACT_FILE, 'utf8')): string[] {
  return validate(schema, parse(contract)).map((error) => {
    const where = error.locations?.map((l) => `line ${l.line}`).join(', ');
    return `${error.message}${where ? ` (storefront.graphql ${where})` : ''}`;
  });
}
