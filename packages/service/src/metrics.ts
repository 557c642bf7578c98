import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry a process: every service is its own process. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const metrics = {
  dbQueries: new Counter({
    name: 'db_queries_total',
    help: 'SQL statements sent to the database, by service and by origin (a client request, or background work)',
    labelNames: ['service', 'origin'],
    registers: [registry],
  }),
  dbQueryDuration: new Histogram({
    name: 'db_query_duration_seconds',
    help: 'Time from handing a SQL statement to the driver to its result, waiting for a connection included',
    labelNames: ['service'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }),
  dbPoolConnections: new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool slots by state: busy (running a statement or holding a transaction) or available',
    labelNames: ['service', 'state'],
    registers: [registry],
  }),
  dbPoolMaxConnections: new Gauge({
    name: 'db_pool_max_connections',
    help: 'Connections the database pool may open (DB_POOL_MAX; 1 for embedded PGlite)',
    labelNames: ['service'],
    registers: [registry],
  }),
  dbPoolWaiting: new Gauge({
    name: 'db_pool_waiting',
    help: 'Statements and transactions waiting because every connection of the pool is busy',
    labelNames: ['service'],
    registers: [registry],
  }),
  subgraphFetchDuration: new Histogram({
    name: 'router_subgraph_fetch_duration_seconds',
    help: 'Time the router spends on one fetch from a subgraph, from sending the request to the parsed response',
    labelNames: ['subgraph'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }),
  routerSharedFetches: new Counter({
    name: 'router_subgraph_fetches_shared_total',
    help: 'Subgraph fetches the router answered with an identical fetch already in flight, by subgraph',
    labelNames: ['subgraph'],
    registers: [registry],
  }),
  routerEntityCacheLookups: new Counter({
    name: 'router_entity_cache_lookups_total',
    help: "Lookups in the router's entity cache, by kind (a product entity, or a query of root fields) and result (hit or miss)",
    labelNames: ['kind', 'result'],
    registers: [registry],
  }),
  subgraphBreakerOpen: new Gauge({
    name: 'router_subgraph_breaker_open',
    help: "Whether the router's circuit breaker for a subgraph is open (1): it refused connections past the window",
    labelNames: ['subgraph'],
    registers: [registry],
  }),
  subgraphBreakerRejections: new Counter({
    name: 'router_subgraph_breaker_rejected_total',
    help: "Subgraph fetches the router failed at once, without sending them, because the subgraph's breaker was open",
    labelNames: ['subgraph'],
    registers: [registry],
  }),
  graphqlRequests: new Counter({
    name: 'graphql_requests_total',
    help: 'GraphQL operations executed, by operation name and type',
    labelNames: ['operation_name', 'operation_type'],
    registers: [registry],
  }),
  graphqlErrors: new Counter({
    name: 'graphql_errors_total',
    help: 'GraphQL errors returned to callers, by extensions.code',
    labelNames: ['code'],
    registers: [registry],
  }),
  graphqlDuration: new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'Time from receiving a GraphQL operation to sending its response',
    labelNames: ['operation_name', 'operation_type'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }),
  outboxRelayLag: new Histogram({
    name: 'outbox_relay_lag_seconds',
    help: 'Time from an event being written to the outbox to its publication (to the broker, or in-process without one)',
    labelNames: ['service'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  outboxPublished: new Counter({
    name: 'outbox_events_published_total',
    help: 'Outbox events this process published',
    labelNames: ['service'],
    registers: [registry],
  }),
};
