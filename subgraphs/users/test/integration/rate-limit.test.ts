import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { AccountGuard, FixedWindowLimiter, MemoryCounters, RedisCounters, type Counters } from '../../src/rate-limit.js';

/** The Redis the shared counters are tested on: REDIS_URL, else the machine's own (CI starts it, see .ci/run). */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const opened: Counters[] = [];
async function redisCounters(prefix: string, url = REDIS_URL): Promise<RedisCounters> {
  const counters = new RedisCounters(url, prefix);
  await counters.open();
  opened.push(counters);
  return counters;
}
afterAll(() => Promise.all(opened.map((counters) => counters.close())));

describe('FixedWindowLimiter', () => {
  it('lets `limit` attempts through per window, then says how long to wait', () => {
    const limiter = new FixedWindowLimiter(2, 60_000);
    const start = 1_000_000;
    expect(limiter.waitFor('k', start)).toBe(0);
    limiter.hit('k', start);
    limiter.hit('k', start);
    expect(limiter.waitFor('k', start + 1_000)).toBe(59);
    expect(limiter.waitFor('other', start)).toBe(0);
    expect(limiter.waitFor('k', start + 60_000)).toBe(0);
    limiter.hit('k', start + 60_000);
    expect(limiter.waitFor('k', start + 60_000)).toBe(0);
  });

  it('takes attempts back and forgets keys', () => {
    const limiter = new FixedWindowLimiter(1, 60_000);
    limiter.hit('k');
    expect(limiter.waitFor('k')).toBeGreaterThan(0);
    limiter.refund('k');
    expect(limiter.waitFor('k')).toBe(0);
    limiter.hit('k');
    limiter.reset('k');
    expect(limiter.waitFor('k')).toBe(0);
  });

  it('keeps at most maxKeys windows', () => {
    const limiter = new FixedWindowLimiter(1, 60_000, 3);
    for (const key of ['a', 'b', 'c', 'd', 'e']) limiter.hit(key);
    expect(['a', 'b', 'c', 'd', 'e'].filter((key) => limiter.waitFor(key) > 0)).toHaveLength(3);
    expect(limiter.waitFor('e')).toBeGreaterThan(0);
  });
});

const limits = { loginPerEmail: 2, loginPerIp: 3, loginWindowSeconds: 60, registerPerIp: 1, registerWindowSeconds: 60 };
const codeOf = async (work: () => Promise<void>) => {
  try {
    await work();
    return null;
  } catch (error) {
    return (error as { extensions?: { code?: string } }).extensions?.code;
  }
};

describe.each([
  ['in memory', async () => new MemoryCounters()],
  ['in Redis', async () => redisCounters(`test:${randomUUID()}:`)],
])('AccountGuard, counting %s', (_where, makeCounters) => {
  it('limits logins per account whatever the letter case, and a success starts the account afresh', async () => {
    const guard = new AccountGuard(await makeCounters(), limits);
    await guard.loginAttempt('Ann@Shop.test', 'ip-1');
    await guard.loginSucceeded('ann@shop.test', 'ip-1');
    await guard.loginAttempt('ann@shop.test', 'ip-2');
    await guard.loginAttempt('ANN@shop.test ', 'ip-3');
    expect(await codeOf(() => guard.loginAttempt('ann@shop.test', 'ip-4'))).toBe('RATE_LIMITED');
  });

  it('limits logins per address across accounts, and refused attempts are not counted', async () => {
    const guard = new AccountGuard(await makeCounters(), limits);
    for (const email of ['a@x.test', 'b@x.test', 'c@x.test']) await guard.loginAttempt(email, 'ip');
    expect(await codeOf(() => guard.loginAttempt('d@x.test', 'ip'))).toBe('RATE_LIMITED');
    // d's refused attempt counted nowhere: from another address, d still has both attempts.
    await guard.loginAttempt('d@x.test', 'another-ip');
    await guard.loginAttempt('d@x.test', 'another-ip');
    expect(await codeOf(() => guard.loginAttempt('d@x.test', 'another-ip'))).toBe('RATE_LIMITED');
  });

  it('gives the address its attempt back after a successful login', async () => {
    const guard = new AccountGuard(await makeCounters(), limits);
    for (const email of ['a@x.test', 'b@x.test', 'c@x.test']) await guard.loginAttempt(email, 'ip');
    await guard.loginSucceeded('c@x.test', 'ip');
    await guard.loginAttempt('e@x.test', 'ip');
    expect(await codeOf(() => guard.loginAttempt('f@x.test', 'ip'))).toBe('RATE_LIMITED');
  });

  it('limits registrations per address with a retryAfter', async () => {
    const guard = new AccountGuard(await makeCounters(), limits);
    await guard.registerAttempt('ip');
    let error: unknown;
    try {
      await guard.registerAttempt('ip');
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ extensions: { code: 'RATE_LIMITED', retryAfter: 60 } });
  });
});

describe('RedisCounters', () => {
  it('shares the counts between replicas, atomically: concurrent attempts never pass the limit', async () => {
    const prefix = `test:${randomUUID()}:`;
    const replicas = [await redisCounters(prefix), await redisCounters(prefix)];
    const rule = { counter: 'login-ip', key: '203.0.113.1', limit: 5, windowMs: 60_000 };
    const waits = await Promise.all(Array.from({ length: 40 }, (_, i) => replicas[i % 2]!.attempt([rule])));
    expect(waits.filter((wait) => wait === 0)).toHaveLength(5);
    expect(waits.filter((wait) => wait > 0).every((wait) => wait >= 59 && wait <= 60)).toBe(true);
  });

  it('gives the key an expiry with its first attempt: the window ends by itself', async () => {
    const counters = await redisCounters(`test:${randomUUID()}:`);
    const rule = { counter: 'register-ip', key: 'ip', limit: 1, windowMs: 300 };
    expect(await counters.attempt([rule])).toBe(0);
    expect(await counters.attempt([rule])).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await counters.attempt([rule])).toBe(0);
  });

  it('counts in the replica alone while Redis does not answer, rather than failing logins', async () => {
    // A port that accepts nothing: connections are refused.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const guard = new AccountGuard(await redisCounters('test:', `redis://127.0.0.1:${port}`), limits);
    await guard.registerAttempt('ip');
    expect(await codeOf(() => guard.registerAttempt('ip'))).toBe('RATE_LIMITED');
  });
});
