import { AsyncLocalStorage } from 'node:async_hooks';
import { metrics, readSettings, serviceSettings } from '@shop/service';
import type { Logger as DrizzleLogger } from 'drizzle-orm';

const background = new AsyncLocalStorage<true>();

/** Runs work that no client request asked for (recovery sweeps, say), so its statements are counted apart. */
export function runInBackground<T>(work: () => Promise<T>): Promise<T> {
  return background.run(true, work);
}

/** Counts every statement by service and origin, so tests and benchmarks can see batching work. */
export function statementCounter(service: string): DrizzleLogger {
  const forRequests = metrics.dbQueries.labels(service, 'request');
  const forBackground = metrics.dbQueries.labels(service, 'background');
  return { logQuery: () => (background.getStore() ? forBackground : forRequests).inc() };
}

/** Ends a statement's measurements; given the error when it failed. */
export type StatementEnd = (error?: unknown) => void;

/** Opens a span for a statement, or returns undefined when there is nothing to attach it to. */
export type StatementSpans = (text: string) => StatementEnd | undefined;

/**
 * What the database is doing, for /metrics and for traces: each statement's duration (and its span), and the
 * pool's state. A statement outside a transaction holds a connection while it runs and a transaction holds one
 * from BEGIN to COMMIT; whatever finds every connection held waits. Counted here because neither driver tells.
 */
export class DatabaseProbe {
  private holding = 0;
  private readonly duration;
  private readonly busy;
  private readonly available;
  private readonly waiting;

  constructor(
    service: string,
    private readonly poolSize: number,
    private readonly spans?: StatementSpans,
  ) {
    this.duration = metrics.dbQueryDuration.labels(service);
    this.busy = metrics.dbPoolConnections.labels(service, 'busy');
    this.available = metrics.dbPoolConnections.labels(service, 'available');
    this.waiting = metrics.dbPoolWaiting.labels(service);
    metrics.dbPoolMaxConnections.labels(service).set(poolSize);
    this.update();
  }

  /** A statement is handed to the driver; call what this returns when it settles. */
  statement(text: string, inTransaction: boolean): StatementEnd {
    const started = performance.now();
    // Durations are the latency clients see; background work (the outbox relay, recovery) holds connections
    // all the same, but is not timed.
    const timed = !background.getStore();
    if (!inTransaction) this.hold(1);
    const endSpan = this.spans?.(text);
    let ended = false;
    return (error) => {
      if (ended) return;
      ended = true;
      if (timed) this.duration.observe((performance.now() - started) / 1000);
      if (!inTransaction) this.hold(-1);
      endSpan?.(error);
    };
  }

  /** Runs a statement that a promise stands for. */
  async timed<T>(text: string, inTransaction: boolean, run: () => Promise<T>): Promise<T> {
    const end = this.statement(text, inTransaction);
    try {
      const result = await run();
      end();
      return result;
    } catch (error) {
      end(error);
      throw error;
    }
  }

  /** Runs a transaction, which holds one connection until it settles. */
  async transaction<T>(run: () => Promise<T>): Promise<T> {
    this.hold(1);
    try {
      return await run();
    } finally {
      this.hold(-1);
    }
  }

  private hold(delta: number) {
    this.holding += delta;
    this.update();
  }

  private update() {
    const busy = Math.min(this.holding, this.poolSize);
    this.busy.set(busy);
    this.available.set(this.poolSize - busy);
    this.waiting.set(this.holding - busy);
  }
}

/**
 * A span per statement, when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT, see @shop/service/tracing): a child of the
 * resolver or request that ran it. Statements of background work with no span around them are not traced.
 * The text is drizzle's, with `$1` placeholders: parameter values never reach a span.
 */
export async function statementSpans(attributes: Record<string, string | number>): Promise<StatementSpans | undefined> {
  if (!readSettings(serviceSettings).OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const { SpanKind, SpanStatusCode, trace } = await import('@opentelemetry/api');
  const tracer = trace.getTracer('@shop/subgraph/db');
  return (text) => {
    if (!trace.getActiveSpan()) return undefined;
    const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
    const span = tracer.startSpan(`${operation} ${attributes['db.namespace']}`, {
      kind: SpanKind.CLIENT,
      attributes: { ...attributes, 'db.operation.name': operation, 'db.query.text': text },
    });
    return (error) => {
      if (error !== undefined) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
      }
      span.end();
    };
  };
}

/** Span attributes naming the server and database of a URL (never its credentials). */
export function serverOf(url: string, service: string): Record<string, string | number> {
  try {
    const { hostname, port, pathname } = new URL(url);
    return { 'db.namespace': decodeURIComponent(pathname.slice(1)), 'server.address': hostname, 'server.port': Number(port || 5432) };
  } catch {
    return { 'db.namespace': service }; // several hosts, which postgres.js accepts and URL does not
  }
}
