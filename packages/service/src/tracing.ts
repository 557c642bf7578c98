/**
 * OpenTelemetry tracing, for a service whose OTEL_EXPORTER_OTLP_ENDPOINT is set. Each service's src/index.ts
 * imports this module, and only then, before it imports anything else: instrumentation patches modules as they
 * load, and without the variable none of this is loaded at all.
 *
 * A trace follows a client request from the router's HTTP server span, through its query plan (the gateway's
 * own `gateway.*` spans) and its fetches, into each subgraph's HTTP server span and GraphQL execution, down to
 * each SQL statement (`@shop/subgraph` opens those spans). Spans go in batches over OTLP http/protobuf to
 * `${OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`; the exporter reads the standard `OTEL_EXPORTER_OTLP_*` variables
 * (headers, timeout, a traces-only endpoint) itself. `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`
 * override the resource.
 */
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, detectResources, envDetector, hostDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  SamplingDecision,
  type Sampler,
} from '@opentelemetry/sdk-trace-node';

/** Probes and scrapes: frequent, and nothing to follow. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics']);

/**
 * Where the router starts traces: only where it serves a request, not for work outside one (such as parsing
 * the supergraph at start-up). A subgraph starts none at all: probes, the router's readiness checks and the
 * checkout recovery sweep go untraced, and everything inside a traced request is kept.
 */
const requestsOnly: Sampler = {
  shouldSample: (_context, _traceId, _name, kind) => ({
    decision: kind === SpanKind.SERVER ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD,
  }),
  toString: () => 'RequestsOnly',
};

export interface Tracing {
  /** Exports the spans still buffered, then stops. Run it after the last request has finished. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /**
   * Start a trace for a request that arrives without one (no `traceparent`): the router, which clients call.
   * A subgraph only continues traces (the router's, or orders' calls to products), so the router's readiness
   * checks and other untraced callers start none there.
   */
  traceNewRequests?: boolean;
}

/** Starts tracing for this process, as `service` unless OTEL_SERVICE_NAME says otherwise. */
export function startTracing(service: string, options: TracingOptions = {}): Tracing {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': service }))
    .merge(detectResources({ detectors: [envDetector, hostDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    // Spans under a sampled parent, the caller's included, are always kept.
    sampler: new ParentBasedSampler({ root: options.traceNewRequests ? requestsOnly : new AlwaysOffSampler() }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // The global provider, AsyncLocalStorage context, and W3C trace-context propagation on every hop.
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Server spans for requests, and client spans for requests made over node:http while a span is active:
      // never for readiness checks, nor for the exporter's own requests.
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0]!),
        requireParentforOutgoingSpans: true,
      }),
      // fetch(): the gateway's subgraph fetches, and orders calling products.
      new UndiciInstrumentation({ requireParentforSpans: true }),
      // parse, validate, execute, and resolvers that do work (not plain property reads). Argument values
      // stay out of the spans (allowValues is off by default), so no password or token reaches a trace.
      new GraphQLInstrumentation({ ignoreTrivialResolveSpans: true, mergeItems: true }),
    ],
  });
  return {
    // A collector that does not answer must not hold the exit past the drain's deadline.
    shutdown: () => Promise.race([provider.shutdown(), new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())]),
  };
}
