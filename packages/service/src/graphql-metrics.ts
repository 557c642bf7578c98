import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { envInt } from './env.js';
import { metrics } from './metrics.js';
import { currentRequest } from './request-context.js';

/**
 * Counts operations, their duration and their errors by code, for /metrics, and logs each operation at debug
 * level under its request id (names only: never its variables).
 */
export function graphqlMetricsPlugin<TContext extends BaseContext>(
  maxOperationNames = envInt('METRICS_MAX_OPERATION_NAMES', 200),
): ApolloServerPlugin<TContext> {
  // Operation names are the client's to choose. Each new one is a new series in every histogram bucket, kept
  // for the life of the process, so past the first `maxOperationNames` they are all counted as `other`.
  const labelled = new Set<string>();
  const labelFor = (name: string) => {
    if (labelled.has(name)) return name;
    if (labelled.size >= maxOperationNames) return 'other';
    labelled.add(name);
    return name;
  };
  return {
    async requestDidStart() {
      const end = process.hrtime.bigint();
      return {
        async willSendResponse({ operationName, operation, errors }) {
          const labels = {
            operation_name: operationName ? labelFor(operationName) : operation ? 'anonymous' : 'invalid',
            operation_type: operation?.operation ?? 'unknown',
          };
          const seconds = Number(process.hrtime.bigint() - end) / 1e9;
          metrics.graphqlRequests.inc(labels);
          metrics.graphqlDuration.observe(labels, seconds);
          const log = currentRequest()?.log;
          if (log?.isLevelEnabled('debug')) {
            const summary = { operationName: labels.operation_name, operationType: labels.operation_type, errors: errors?.length ?? 0 };
            log.debug({ ...summary, durationMs: Math.round(seconds * 1e4) / 10 }, 'graphql operation');
          }
          for (const error of errors ?? []) {
            const code = error.extensions?.code;
            metrics.graphqlErrors.inc({ code: typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR' });
          }
        },
      };
    },
  };
}
