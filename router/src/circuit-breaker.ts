import { createLogger, currentRequest, metrics, type Logger } from '@shop/service';
import { settings } from './config.js';

/**
 * Per-subgraph circuit breaking for subgraphs that refuse connections.
 *
 * A subgraph that cannot be reached is either restarting (a redeploy) or down (an outage). Queries are retried
 * while it restarts (subgraph-http.ts withRetries), which costs an outage every request's whole retry time.
 * The breaker tells the two apart:
 *
 * - closed: requests go through. Connection failures are retried while they are recent ("refused just now"):
 *   for `SUBGRAPH_BREAKER_WINDOW_MS` after the first one, or for `SUBGRAPH_RETRY_BUDGET_MS` when the subgraph
 *   said shortly before that it was shutting down (an answer with `connection: close` while it drains, or a 503),
 *   which is what a planned redeploy looks like.
 * - open: the refusals lasted longer than that. Requests fail at once, without a connection attempt, and the
 *   client gets SERVICE_UNAVAILABLE for that subgraph's part of the response.
 * - half-open: while open, one request every `SUBGRAPH_BREAKER_PROBE_MS` is let through as a probe, sent once.
 *   If the subgraph answers it (whatever the answer), the breaker closes; if not, it stays open.
 *
 * Only connection failures count: a subgraph that accepts the connection but is slow or answers an error is
 * reachable, and is bounded by SUBGRAPH_TIMEOUT_MS instead.
 */

export interface BreakerOptions {
  /** How long refusals are retried before the breaker opens. */
  windowMs: number;
  /** How long refusals are retried after the subgraph said it was shutting down (a redeploy). */
  redeployMs: number;
  /** While open, how often one request is let through as a probe. */
  probeIntervalMs: number;
}

export function breakerOptions(): BreakerOptions {
  const current = settings();
  return {
    windowMs: current.SUBGRAPH_BREAKER_WINDOW_MS,
    redeployMs: current.SUBGRAPH_RETRY_BUDGET_MS,
    probeIntervalMs: current.SUBGRAPH_BREAKER_PROBE_MS,
  };
}

/** The breaker is open: the request was not sent. Not a connection failure, so it is never retried. */
export class BreakerOpenError extends Error {
  readonly code = 'ESUBGRAPHBREAKEROPEN';
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** What `admit` grants: a normal attempt (retried on connection failures while the breaker allows), or the probe. */
export type Admission = 'normal' | 'probe';

export class CircuitBreaker {
  /** When the current run of connection failures began; undefined while the subgraph answers. */
  private failingSince: number | undefined;
  /** When the subgraph last said it was shutting down. */
  private closingAt: number | undefined;
  private openedAt: number | undefined;
  private lastProbeAt = 0;
  private probing = false;

  constructor(
    readonly subgraph: string,
    private readonly options: BreakerOptions = breakerOptions(),
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (this.openedAt === undefined) return 'closed';
    return this.probing ? 'half-open' : 'open';
  }

  /**
   * Called before each attempt. Throws BreakerOpenError when the breaker is open and it is not time for a probe;
   * otherwise says whether this attempt is the probe.
   */
  admit(): Admission {
    const now = this.now();
    if (this.openedAt === undefined && this.failingSince !== undefined && now - this.failingSince >= this.tolerance(now)) {
      this.open(now);
    }
    if (this.openedAt === undefined) return 'normal';
    if (!this.probing && now - this.lastProbeAt >= this.options.probeIntervalMs) {
      this.probing = true;
      this.lastProbeAt = now;
      return 'probe';
    }
    metrics.subgraphBreakerRejections.inc({ subgraph: this.subgraph });
    throw new BreakerOpenError(`${this.subgraph} has refused connections since ${new Date(this.failingSince ?? now).toISOString()}`);
  }

  /** The subgraph answered (any HTTP answer): it is reachable. `closing`: the answer said it is shutting down. */
  answered(admission: Admission, closing: boolean): void {
    const now = this.now();
    if (admission === 'probe') this.probing = false;
    // Back after refusals: an earlier shutdown notice is spent, so a later outage gets the short window again.
    if (this.failingSince !== undefined && !closing) this.closingAt = undefined;
    if (closing) this.closingAt = now;
    this.failingSince = undefined;
    if (this.openedAt !== undefined) {
      log().info({ subgraph: this.subgraph, openMs: now - this.openedAt }, 'subgraph circuit breaker closed: the subgraph answers again');
      this.openedAt = undefined;
      metrics.subgraphBreakerOpen.set({ subgraph: this.subgraph }, 0);
    }
  }

  /** The attempt could not reach the subgraph (refused, reset, or a 503 while it shuts down). */
  unreachable(admission: Admission, closing: boolean): void {
    const now = this.now();
    if (closing) this.closingAt = now;
    this.failingSince ??= now;
    if (admission === 'probe') {
      this.probing = false;
      this.lastProbeAt = now;
    } else if (this.openedAt === undefined && now - this.failingSince >= this.tolerance(now)) {
      this.open(now);
    }
  }

  /** A probe that ended in neither (a timeout, say) gives its turn back. */
  released(admission: Admission): void {
    if (admission === 'probe') this.probing = false;
  }

  /**
   * After an attempt failed to connect: how long to wait before the next one (at most `delay`, the backoff's
   * step, and never past the end of the window), or undefined when the breaker is open and retrying is over.
   */
  retryDelay(delay: number): number | undefined {
    if (this.openedAt !== undefined) return undefined;
    if (this.failingSince === undefined) return delay;
    const now = this.now();
    // Waking when the window ends: the next admit then opens the breaker, rather than a backoff step later.
    return Math.max(0, Math.min(delay, this.failingSince + this.tolerance(now) - now));
  }

  /** How long refusals are tolerated: longer when the subgraph said it was shutting down (a redeploy). */
  private tolerance(now: number): number {
    const redeploying = this.closingAt !== undefined && now - this.closingAt <= this.options.redeployMs;
    return redeploying ? Math.max(this.options.redeployMs, this.options.windowMs) : this.options.windowMs;
  }

  private open(now: number): void {
    this.openedAt = now;
    // The first probe goes out one interval after the breaker opens.
    this.lastProbeAt = now;
    metrics.subgraphBreakerOpen.set({ subgraph: this.subgraph }, 1);
    log().warn(
      { subgraph: this.subgraph, refusingMs: now - (this.failingSince ?? now), probeIntervalMs: this.options.probeIntervalMs },
      'subgraph circuit breaker opened: its requests fail at once until a probe gets through',
    );
  }
}

let fallbackLogger: Logger | undefined;
function log(): Logger {
  return currentRequest()?.log ?? (fallbackLogger ??= createLogger('router'));
}

/** One breaker per subgraph name for the process, kept across supergraph reloads. */
const breakers = new Map<string, CircuitBreaker>();

export function breakerFor(subgraph: string): CircuitBreaker {
  let breaker = breakers.get(subgraph);
  if (!breaker) breakers.set(subgraph, (breaker = new CircuitBreaker(subgraph)));
  return breaker;
}
