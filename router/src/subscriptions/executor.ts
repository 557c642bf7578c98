import { randomUUID } from 'node:crypto';
import { operationFromDocument } from '@apollo/federation-internals';
import { buildOperationContext, executeQueryPlan, type ApolloGateway, type GraphQLDataSource } from '@apollo/gateway';
import type { FetchNode, QueryPlan, QueryPlanner } from '@apollo/query-planner';
import type { Logger } from '@shop/service';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, type DocumentNode, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { RouterContext } from '../gateway.js';
import { gatewayInternals, type GatewayInternals } from '../patches/gateway-internals.js';
import type { UpstreamPool } from './upstream.js';

/** One client subscription, validated (see validate.ts). */
export interface SubscriptionRequest {
  /** The query text as the client sent it: with the operation name and variables, what identifies a shared stream. */
  query: string;
  document: DocumentNode;
  operationName?: string;
  variables: Record<string, unknown>;
  context: RouterContext;
  /** The downstream connection (a client's WebSocket, one multipart request): subgraph connections are per group. */
  group: string;
}

/** Where a subscription's results go: each completed event, masked, then one `complete`. */
export interface ResultSink {
  next(result: FormattedExecutionResult): void;
  complete(): void;
}

/** Formats and masks one error as Apollo Server's formatError does for queries. */
export type ErrorFormatter = (error: GraphQLError) => GraphQLFormattedError;

interface Prepared {
  internals: GatewayInternals;
  /** The primary fetch: the root field on the owning subgraph, which the router opens over graphql-ws. */
  primary: FetchNode;
  /** The primary fetch followed by the rest of the plan: executed once per event, the primary answered by the event. */
  eventPlan: QueryPlan;
  operationContext: ReturnType<typeof buildOperationContext>;
}

/** Internals per loaded supergraph (the gateway replaces its planner when the supergraph changes). */
const internalsByPlanner = new WeakMap<QueryPlanner, GatewayInternals>();

/**
 * One open subscription to a subgraph, and the clients reading it: several for a shared anonymous stream, else
 * one. Events are completed in arrival order, one at a time, and each completed result goes to every reader.
 */
class Stream {
  readonly sinks = new Set<ResultSink>();
  private queue: Promise<void> = Promise.resolve();
  private ended = false;
  stopUpstream: () => void = () => {};
  /** Run once when the stream ends, however it ends. */
  readonly endHooks: (() => void)[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly internalError: () => FormattedExecutionResult,
  ) {}

  get open(): boolean {
    return !this.ended;
  }

  /** Queues `work` after the events before it; its result goes to every reader; `last` completes the stream after it. */
  push(work: (() => Promise<FormattedExecutionResult | null> | FormattedExecutionResult | null) | null, last = false): Promise<void> {
    this.queue = this.queue.then(async () => {
      if (this.ended) return;
      let result: FormattedExecutionResult | null;
      try {
        result = work ? await work() : null;
      } catch (error) {
        this.logger.error({ err: error }, 'completing a subscription event failed');
        result = this.internalError();
      }
      if (result && !this.ended) for (const sink of this.sinks) sink.next(result);
      if (last) this.end();
    });
    return this.queue;
  }

  /** Completes every reader and closes the subgraph subscription. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopUpstream();
    this.runEndHooks();
    const sinks = [...this.sinks];
    this.sinks.clear();
    for (const sink of sinks) sink.complete();
  }

  /** A reader left (the client completed, or went away); the last one closes the subgraph subscription. */
  leave(sink: ResultSink): void {
    if (!this.sinks.delete(sink) || this.sinks.size > 0 || this.ended) return;
    this.ended = true;
    this.stopUpstream();
    this.runEndHooks();
  }

  private runEndHooks(): void {
    for (const hook of this.endHooks.splice(0)) hook();
  }
}

/**
 * Executes subscriptions for the router: plans each with the gateway's own query planner, opens the primary fetch
 * (the root field) on the owning subgraph over graphql-ws, and completes every event through the rest of the plan
 * with the gateway's executeQueryPlan and the router's data sources, so that each event is shaped, deduped and
 * masked exactly as a query's result. A subgraph's refusal (an event with errors and no data) is passed through as
 * it is, then the stream completes.
 *
 * Anonymous subscriptions are shared: clients without a token that send the same operation with the same variables
 * read one subgraph subscription, and each event is completed once for all of them.
 */
export class SubscriptionExecutor {
  private readonly prepared = new WeakMap<DocumentNode, Prepared>();
  private readonly shared = new Map<string, { stream: Stream; planner: QueryPlanner }>();
  private readonly streams = new Set<Stream>();

  constructor(
    private readonly gateway: ApolloGateway,
    private readonly upstream: UpstreamPool,
    private readonly formatError: ErrorFormatter,
    private readonly logger: Logger,
  ) {}

  /** The gateway's planner, schemas and data sources for the supergraph it serves now. */
  internals(): GatewayInternals {
    const planner = (this.gateway as unknown as { queryPlanner?: QueryPlanner }).queryPlanner;
    let internals = planner && internalsByPlanner.get(planner);
    if (!internals) {
      internals = gatewayInternals(this.gateway);
      internalsByPlanner.set(internals.queryPlanner, internals);
    }
    return internals;
  }

  /** Subscriptions open now, shared ones counted once. */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Starts a subscription; returns how to end it early (the client completed or went away). */
  subscribe(request: SubscriptionRequest, sink: ResultSink): () => void {
    let prepared: Prepared;
    try {
      prepared = this.prepare(request.document, request.operationName);
    } catch (error) {
      this.logger.error({ err: error }, 'planning a subscription failed');
      sink.next(this.internalError());
      sink.complete();
      return () => {};
    }
    const shareable = !request.context.authorization;
    const key = shareable ? JSON.stringify([request.query, request.operationName ?? null, request.variables]) : undefined;
    const planner = prepared.internals.queryPlanner;
    const known = key === undefined ? undefined : this.shared.get(key);
    let stream = known?.planner === planner && known.stream.open ? known.stream : undefined;
    if (!stream) {
      stream = this.open(prepared, request, shareable);
      if (key !== undefined) {
        const opened = stream;
        this.shared.set(key, { stream: opened, planner });
        opened.endHooks.push(() => {
          if (this.shared.get(key)?.stream === opened) this.shared.delete(key);
        });
      }
    }
    stream.sinks.add(sink);
    const opened = stream;
    return () => opened.leave(sink);
  }

  /** Completes every open stream (after the events already being completed) and closes the subgraph connections. */
  async drain(): Promise<void> {
    await Promise.all([...this.streams].map((stream) => stream.push(null, true)));
    await this.upstream.close();
  }

  private open(prepared: Prepared, request: SubscriptionRequest, shared: boolean): Stream {
    const { primary, internals } = prepared;
    const context: RouterContext = shared ? { requestId: `subscription:${randomUUID()}` } : request.context;
    const stream = new Stream(this.logger, () => this.internalError());
    this.streams.add(stream);
    stream.endHooks.push(() => this.streams.delete(stream));
    const variables: Record<string, unknown> = {};
    for (const name of primary.variableUsages ?? []) {
      if (Object.hasOwn(request.variables, name)) variables[name] = request.variables[name];
    }
    const url = internals.urls[primary.serviceName] ?? '';
    stream.stopUpstream = this.upstream.subscribe(
      shared ? 'shared' : request.group,
      url,
      { authorization: context.authorization, requestId: context.requestId, clientIp: context.clientIp },
      { query: primary.operation, operationName: primary.operationName, variables },
      {
        next: (event) => {
          if (event.errors?.length && event.data == null) {
            // The subgraph refused (at subscribe, or re-checking for this event): its errors, then nothing else.
            void stream.push(() => ({ ...('data' in event && { data: null }), errors: this.subgraphErrors(event.errors!) }), true);
            return;
          }
          void stream.push(() => this.completeEvent(prepared, request, context, event));
        },
        fail: (reason) => {
          if ('errors' in reason) {
            void stream.push(() => ({ errors: this.subgraphErrors(reason.errors) }), true);
            return;
          }
          this.logger.error({ err: reason.lost, subgraph: primary.serviceName, url }, 'subgraph subscription lost');
          const error = new GraphQLError(`The ${primary.serviceName} service is unavailable`, {
            extensions: { code: 'SERVICE_UNAVAILABLE', service: primary.serviceName },
          });
          void stream.push(() => ({ errors: [this.formatError(error)] }), true);
        },
        complete: () => void stream.push(null, true),
      },
    );
    return stream;
  }

  private prepare(document: DocumentNode, operationName: string | undefined): Prepared {
    const internals = this.internals();
    const known = this.prepared.get(document);
    if (known?.internals === internals) return known;
    const operation = operationFromDocument(internals.apiSchema, document, { operationName });
    const plan = internals.queryPlanner.buildQueryPlan(operation);
    if (plan.node?.kind !== 'Subscription') throw new Error(`a subscription was planned as ${plan.node?.kind ?? 'nothing'}`);
    const { primary, rest } = plan.node;
    const prepared: Prepared = {
      internals,
      primary,
      eventPlan: { kind: 'QueryPlan', node: rest ? { kind: 'Sequence', nodes: [primary, rest] } : primary },
      operationContext: buildOperationContext({ schema: internals.schema, operationDocument: document, operationName }),
    };
    this.prepared.set(document, prepared);
    return prepared;
  }

  /** Runs the plan for one event, the primary fetch answered by the event itself, and shapes it as a query's result. */
  private async completeEvent(
    prepared: Prepared,
    request: SubscriptionRequest,
    context: RouterContext,
    event: FormattedExecutionResult,
  ): Promise<FormattedExecutionResult> {
    const { internals, primary } = prepared;
    const owner = internals.serviceMap[primary.serviceName];
    const answer = { data: event.data ?? null, ...(event.errors && { errors: event.errors }) };
    const serviceMap: Record<string, GraphQLDataSource> = Object.create(internals.serviceMap);
    serviceMap[primary.serviceName] = {
      process: (options) =>
        options.request.query === primary.operation
          ? Promise.resolve(answer as Awaited<ReturnType<GraphQLDataSource['process']>>)
          : owner!.process(options),
    };
    const requestContext = {
      request: { query: request.query, variables: request.variables, operationName: request.operationName },
      document: request.document,
      operationName: request.operationName ?? null,
      context,
      metrics: {},
      logger: this.logger,
      cache: undefined,
    } as unknown as GatewayGraphQLRequestContext;
    const result = await executeQueryPlan(
      prepared.eventPlan,
      serviceMap,
      requestContext,
      prepared.operationContext,
      internals.supergraphSchema,
      internals.apiSchema,
    );
    return {
      ...(result.errors && { errors: result.errors.map((error) => this.formatError(asGraphQLError(error))) }),
      ...('data' in result && { data: result.data as Record<string, unknown> | null }),
      ...(result.extensions && { extensions: result.extensions }),
    };
  }

  /** A subgraph's errors (JSON), masked as the gateway's downstream errors are. */
  private subgraphErrors(errors: readonly unknown[]): GraphQLFormattedError[] {
    return errors.map((error) => {
      const { message, path, extensions } = (error ?? {}) as GraphQLFormattedError;
      return this.formatError(new GraphQLError(String(message ?? 'Subgraph error'), { path, extensions }));
    });
  }

  private internalError(): FormattedExecutionResult {
    return { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
  }
}

function asGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  const original = error instanceof Error ? error : new Error(String(error));
  return new GraphQLError(original.message, { originalError: original });
}
