import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { SERVICES, SUBGRAPH_NAMES } from '@shop/service/services';
import { parse } from 'graphql';

/** The subgraphs of the supergraph, with the URLs the router uses unless `<NAME>_URL` overrides them. */
export const SUBGRAPHS = SUBGRAPH_NAMES.map((name) => ({ name, url: `http://localhost:${SERVICES[name].port}/graphql` }));

export const SUPERGRAPH_FILE = new URL('./supergraph.graphql', import.meta.url);
export const CONTRACT_FILE = new URL('./operations/storefront.graphql', import.meta.url);
/** The realtime contract: the subscriptions the storefront opens through the router. */
export const REALTIME_CONTRACT_FILE = new URL('./operations/realtime.graphql', import.meta.url);

export function subgraphSdlFile(name: string): URL {
  return new URL(`../subgraphs/${name}/schema.graphql`, import.meta.url);
}

export type Composition = { supergraphSdl: string; errors?: undefined } | { supergraphSdl?: undefined; errors: string[] };

/** Composes the working tree's subgraph SDL files, as the router will see them. */
export function composeSupergraph(sdlOf: (name: string) => string = (name) => readFileSync(subgraphSdlFile(name), 'utf8')): Composition {
  const services = SUBGRAPHS.map(({ name, url }) => ({ name, url, typeDefs: parse(sdlOf(name)) }));
  const result = composeServices(services);
  if (result.errors) return { errors: result.errors.map((error) => error.message) };
  return { supergraphSdl: result.supergraphSdl };
}
