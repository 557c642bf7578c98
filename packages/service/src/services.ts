/**
 * The shop's services: where each lives in the repository, and the port it listens on by default. Scripts, the
 * schema's composition, the benchmark, the tests and each service's own defaults read them from here. Kept free of
 * imports so that anything can load it.
 */
export const SERVICES = {
  users: { dir: 'subgraphs/users', port: 4001, subgraph: true },
  products: { dir: 'subgraphs/products', port: 4002, subgraph: true },
  orders: { dir: 'subgraphs/orders', port: 4003, subgraph: true },
  router: { dir: 'router', port: 4000, subgraph: false },
} as const;

export type ServiceName = keyof typeof SERVICES;

/** Subgraphs first, then the router: the order in which a stack starts. */
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

export type SubgraphName = { [N in ServiceName]: (typeof SERVICES)[N]['subgraph'] extends true ? N : never }[ServiceName];

export const SUBGRAPH_NAMES = SERVICE_NAMES.filter((name): name is SubgraphName => SERVICES[name].subgraph);

/** The environment variable that overrides a service's port, such as `USERS_PORT`. */
export const portVariable = (name: ServiceName) => `${name.toUpperCase()}_PORT`;
