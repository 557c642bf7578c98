import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { createLogger, currentRequest, type Logger } from '@shop/service';
import { BreakerOpenError } from './circuit-breaker.js';
import { settings } from './config.js';
import { Kind, parse, type DocumentNode, type FieldNode, type SelectionSetNode } from 'graphql';

type SubgraphResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

/** How long the router waits for one subgraph fetch, headers and body, before it gives that part up. */
export function subgraphTimeoutMs(): number {
  return settings().SUBGRAPH_TIMEOUT_MS;
}

let fallbackLogger: Logger | undefined;
function log(): Logger {
  return currentRequest()?.log ?? (fallbackLogger ??= createLogger('router'));
}

const responseName = (field: FieldNode) => field.alias?.value ?? field.name.value;

function fieldsOf(selectionSet: SelectionSetNode | undefined): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const selection of selectionSet?.selections ?? []) {
    if (selection.kind === Kind.FIELD && selection.name.value !== '__typename') fields.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) fields.push(...fieldsOf(selection.selectionSet));
  }
  return fields;
}

/**
 * Where in the client's response the failed fetch would have put its data, in the subgraph's terms, which the
 * gateway translates into the client's: each root field of a root fetch, or for an entity fetch the first
 * field it was to add to the first entity (`['_entities', 0, field]` becomes, say, `['me', 'orders']`).
 */
function failedPaths(document: DocumentNode | undefined, query: string | undefined): (string | number)[][] {
  if (!document && query) {
    try {
      document = parse(query);
    } catch {
      return [];
    }
  }
  const operation = document?.definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return [];
  const roots = fieldsOf(operation.selectionSet);
  const entities = roots.find((field) => field.name.value === '_entities');
  if (entities) {
    const first = fieldsOf(entities.selectionSet)[0];
    return first ? [['_entities', 0, responseName(first)]] : [];
  }
  return roots.map((field) => [responseName(field)]);
}

/**
 * What the router makes of a subgraph it could not get an answer from (refused connection, timeout, an HTTP
 * error, a body that is not GraphQL): the whole detail is logged under the request id, and the client gets
 * SERVICE_UNAVAILABLE naming the subgraph, at the paths it was to fill. The gateway still merges what the
 * other subgraphs returned, so the response is partial data with HTTP 200.
 */
export function unavailable(
  service: string,
  url: string,
  error: unknown,
  request: { document?: DocumentNode; query?: string },
  timeoutMs: number,
): SubgraphResponse {
  const timedOut = (error as Error | undefined)?.name === 'TimeoutError';
  if (error instanceof BreakerOpenError) {
    // Not sent: the breaker's opening was logged once, with the refusals behind it; one line per request
    // through an outage would flood the log.
    log().debug({ subgraph: service, url }, 'subgraph request not sent: its circuit breaker is open');
  } else {
    log().error(
      { err: error, subgraph: service, url, ...(timedOut && { timeoutMs }) },
      timedOut ? 'subgraph timed out' : 'subgraph request failed',
    );
  }
  const message = `The ${service} service is unavailable`;
  const extensions = { code: 'SERVICE_UNAVAILABLE', service };
  const paths = failedPaths(request.document, request.query);
  return {
    errors: (paths.length > 0 ? paths : [undefined]).map((path) => ({ message, extensions, ...(path && { path }) })),
  } as unknown as SubgraphResponse;
}
