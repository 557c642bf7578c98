/**
 * The shop's services: where each lives in the repository, and the ports it listens on by default: GraphQL on
 * `port`; /health, /ready and /metrics on `opsPort`. Scripts, the schema's composition, the benchmark, the tests
 * and each service's own defaults read them from here. Kept free of imports so that anything can load it.
 */
export const SERVICES = {
  users: { dir: 'subgraphs/users', port: 4001, opsPort: 9001, subgraph: true },
  products: { dir: 'subgraphs/products', port: 4002, opsPort: 9002, subgraph: true },
  orders: { dir: 'subgraphs/orders', port: 4003, opsPort: 9003, subgraph: true },
  router: { dir: 'router', port: 4000, opsPort: 9000, subgraph: false },
} as const;

export type ServiceName = keyof typeof SERVICES;

/** Subgraphs first, then the router: the order in which a stack starts. */
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

export type SubgraphName = { [N in ServiceName]: (typeof SERVICES)[N]['subgraph'] extends true ? N : never }[ServiceName];

export const SUBGRAPH_NAMES = SERVICE_NAMES.filter((name): name is SubgraphName => SERVICES[name].subgraph);

/** The environment variable that overrides a service's port (`USERS_PORT`) or its ops port (`USERS_OPS_PORT`). */
export const portVariable = (name: ServiceName, kind: 'port' | 'opsPort' = 'port') =>
  `${name.toUpperCase()}_${kind === 'port' ? 'PORT' : 'OPS_PORT'}`;
