/**
 * Patch of @apollo/gateway 2.14: reads the private state the gateway's own executor uses (its query planner, its
 * supergraph and API schemas, and its data sources) so that the router's subscriptions are planned and completed
 * exactly as its queries are. @apollo/gateway cannot execute a subscription plan itself ("Execution of
 * subscriptions not supported by gateway"); router/src/subscriptions runs the primary fetch over graphql-ws and
 * hands each event to the gateway's executeQueryPlan for the rest. The version is exact: an upgrade fails here at
 * start instead of reading fields that moved.
 */
import type { Schema } from '@apollo/federation-internals';
import type { ApolloGateway, GraphQLDataSource } from '@apollo/gateway';
import type { QueryPlanner } from '@apollo/query-planner';
import { assertPatchedVersion } from '@shop/service';
import type { GraphQLSchema } from 'graphql';

assertPatchedVersion('@apollo/gateway', '2.14.4', import.meta.url);

/** What one loaded supergraph gives the gateway's executor; replaced as a whole when the supergraph changes. */
export interface GatewayInternals {
  queryPlanner: QueryPlanner;
  /** The API schema (federation-internals), which operations are built over. */
  apiSchema: Schema;
  /** The API schema as graphql-js sees it, with the gateway's extensions: what Apollo Server validates against. */
  schema: GraphQLSchema;
  /** The supergraph schema (graphql-js), which entity representations and rewrites are read over. */
  supergraphSchema: GraphQLSchema;
  /** The data source of each subgraph, by name: the router's SubgraphDataSource instances. */
  serviceMap: Record<string, GraphQLDataSource>;
  /** Each subgraph's URL, by name, as the gateway's data sources fetch it. */
  urls: Record<string, string>;
}

interface GatewayPrivates {
  queryPlanner?: QueryPlanner;
  apiSchema?: Schema;
  schema?: GraphQLSchema;
  supergraphSchema?: GraphQLSchema;
  serviceMap?: Record<string, { url?: string; dataSource: GraphQLDataSource }>;
}

/** The gateway's current planner, schemas and data sources; throws if it has not loaded a supergraph yet. */
export function gatewayInternals(gateway: ApolloGateway): GatewayInternals {
  const privates = gateway as unknown as GatewayPrivates;
  const { queryPlanner, apiSchema, schema, supergraphSchema, serviceMap } = privates;
  if (!queryPlanner || !apiSchema || !schema || !supergraphSchema || !serviceMap) {
    throw new Error('@apollo/gateway has not loaded a supergraph (or its private fields moved)');
  }
  const dataSources: Record<string, GraphQLDataSource> = Object.create(null);
  const urls: Record<string, string> = Object.create(null);
  for (const [name, { url, dataSource }] of Object.entries(serviceMap)) {
    dataSources[name] = dataSource;
    urls[name] = (dataSource as { url?: string }).url ?? url ?? '';
  }
  return { queryPlanner, apiSchema, schema, supergraphSchema, serviceMap: dataSources, urls };
}
