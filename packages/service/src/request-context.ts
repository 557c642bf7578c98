import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

/** The HTTP request a piece of work belongs to: its id, and fastify's logger bound to that id (`reqId`). */
export interface RequestScope {
  id: string;
  log: Logger;
}

const scope = new AsyncLocalStorage<RequestScope>();

/** Runs a request's handler so that everything it calls (formatError, subgraph fetches) can log under its id. */
export function runInRequestScope<T>(request: RequestScope, work: () => T): T {
  return scope.run(request, work);
}

/** The request being served, if any: error logs use its logger, so every line carries the request id. */
export function currentRequest(): RequestScope | undefined {
  return scope.getStore();
}
