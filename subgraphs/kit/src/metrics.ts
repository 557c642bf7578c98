import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
};
