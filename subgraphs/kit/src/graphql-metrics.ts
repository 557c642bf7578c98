import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { metrics } from './metrics.js';

/** Counts operations, their duration and their errors by code, for /metrics. */
export function graphqlMetricsPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      const end = process.hrtime.bigint();
      return {
        async willSendResponse({ operationName, operation, errors }) {
          const labels = {
            operation_name: operationName ?? (operation ? 'anonymous' : 'invalid'),
            operation_type: operation?.operation ?? 'unknown',
          };
          metrics.graphqlRequests.inc(labels);
          metrics.graphqlDuration.observe(labels, Number(process.hrtime.bigint() - end) / 1e9);
          for (const error of errors ?? []) {
            const code = error.extensions?.code;
            metrics.graphqlErrors.inc({ code: typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR' });
          }
        },
      };
    },
  };
}
