import { describe, expect, it } from 'vitest';
import { BreakerOpenError, CircuitBreaker } from '../src/circuit-breaker.js';
import { withRetries } from '../src/subgraph-http.js';

const OPTIONS = { windowMs: 2_000, redeployMs: 10_000, probeIntervalMs: 1_000 };

function breakerAt(start = 1_000_000) {
  const clock = { now: start };
  const breaker = new CircuitBreaker('products', OPTIONS, () => clock.now);
  return { breaker, clock };
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

describe('CircuitBreaker', () => {
  it('retries refusals within the window, then opens and fails at once', () => {
    const { breaker, clock } = breakerAt();
    expect(breaker.admit()).toBe('normal');
    breaker.unreachable('normal', false);
    expect(breaker.retryDelay(400)).toBe(400);
    clock.now += 1_900;
    expect(breaker.retryDelay(400)).toBe(100);
    clock.now += 100;
    expect(() => breaker.admit()).toThrow(BreakerOpenError);
    expect(breaker.state).toBe('open');
    expect(breaker.retryDelay(50)).toBeUndefined();
  });

  it('lets one probe through per interval; a probe that gets an answer closes it', () => {
    const { breaker, clock } = breakerAt();
    breaker.unreachable(breaker.admit(), false);
    clock.now += 1_500;
    breaker.unreachable(breaker.admit(), false);
    clock.now += 500;
    expect(() => breaker.admit()).toThrow(BreakerOpenError);
    expect(breaker.state).toBe('open');
    clock.now += 999;
    expect(() => breaker.admit()).toThrow(BreakerOpenError);
    clock.now += 1;
    expect(breaker.admit()).toBe('probe');
    expect(breaker.state).toBe('half-open');
    // Only one probe at a time.
    expect(() => breaker.admit()).toThrow(BreakerOpenError);
    breaker.unreachable('probe', false);
    expect(breaker.state).toBe('open');
    expect(() => breaker.admit()).toThrow(BreakerOpenError);
    clock.now += 1_000;
    expect(breaker.admit()).toBe('probe');
    breaker.answered('probe', false);
    expect(breaker.state).toBe('closed');
    expect(breaker.admit()).toBe('normal');
  });

  it('gives a subgraph that said it was shutting down the redeploy budget before opening', () => {
    const { breaker, clock } = breakerAt();
    // An in-flight answer while it drains carries `connection: close`; then the port refuses.
    breaker.answered(breaker.admit(), true);
    clock.now += 10;
    breaker.unreachable(breaker.admit(), false);
    clock.now += 5_000;
    expect(breaker.admit()).toBe('normal');
    breaker.unreachable('normal', false);
    expect(breaker.retryDelay(1_000)).toBe(1_000);
    // Back after the restart: the notice is spent, so a later outage gets the short window.
    breaker.answered(breaker.admit(), false);
    clock.now += 1_000;
    breaker.unreachable(breaker.admit(), false);
    clock.now += 2_000;
    expect(() => breaker.admit()).toThrow(BreakerOpenError);
  });

  it('a 503 while shutting down also counts as the notice', () => {
    const { breaker, clock } = breakerAt();
    breaker.unreachable(breaker.admit(), true);
    clock.now += 9_000;
    expect(breaker.admit()).toBe('normal');
    clock.now += 1_001;
    breaker.unreachable('normal', false);
    expect(breaker.state).toBe('open');
  });

  it('a probe that times out neither closes it nor counts as a refusal: the next probe comes an interval later', () => {
    const { breaker, clock } = breakerAt();
    breaker.unreachable(breaker.admit(), false);
    clock.now += 2_000;
    expect(() => breaker.admit()).toThrow(BreakerOpenError);
    clock.now += 1_000;
    breaker.released(breaker.admit());
    expect(breaker.state).toBe('open');
    expect(() => breaker.admit()).toThrow(BreakerOpenError);
    clock.now += 1_000;
    expect(breaker.admit()).toBe('probe');
  });
});

describe('withRetries with a breaker', () => {
  it('stops retrying when the breaker opens, well before the retry budget', async () => {
    const breaker = new CircuitBreaker('products', { windowMs: 300, redeployMs: 10_000, probeIntervalMs: 1_000 });
    let attempts = 0;
    const send = async () => {
      const admission = breaker.admit();
      attempts += 1;
      breaker.unreachable(admission, false);
      throw refused();
    };
    const started = Date.now();
    await expect(withRetries(send, true, 10_000, (delay) => breaker.retryDelay(delay))).rejects.toThrow(/ECONNREFUSED|refused connections/);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(attempts).toBeGreaterThan(1);
    expect(breaker.state).toBe('open');
    // Now it fails at once, without an attempt.
    const before = attempts;
    await expect(withRetries(send, true, 10_000, (delay) => breaker.retryDelay(delay))).rejects.toBeInstanceOf(BreakerOpenError);
    expect(attempts).toBe(before);
  });

  it('never retries a mutation, but still fails it at once while open', async () => {
    let attempts = 0;
    const send = async () => {
      attempts += 1;
      throw refused();
    };
    await expect(withRetries(send, false, 10_000)).rejects.toThrow(/ECONNREFUSED/);
    expect(attempts).toBe(1);
  });
});
