import { describe, expect, it } from 'vitest';
import { AccountGuard, FixedWindowLimiter } from '../src/rate-limit.js';

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

describe('AccountGuard', () => {
  const limits = { loginPerEmail: 2, loginPerIp: 3, loginWindowSeconds: 60, registerPerIp: 1, registerWindowSeconds: 60 };
  const codeOf = (work: () => void) => {
    try {
      work();
      return null;
    } catch (error) {
      return (error as { extensions?: { code?: string } }).extensions?.code;
    }
  };

  it('limits logins per account whatever the letter case, and a success starts the account afresh', () => {
    const guard = new AccountGuard(limits);
    guard.loginAttempt('Ann@Shop.test', 'ip-1');
    guard.loginSucceeded('ann@shop.test', 'ip-1');
    guard.loginAttempt('ann@shop.test', 'ip-2');
    guard.loginAttempt('ANN@shop.test ', 'ip-3');
    expect(codeOf(() => guard.loginAttempt('ann@shop.test', 'ip-4'))).toBe('RATE_LIMITED');
  });

  it('limits logins per address across accounts, and refused attempts are not counted', () => {
    const guard = new AccountGuard(limits);
    for (const email of ['a@x.test', 'b@x.test', 'c@x.test']) guard.loginAttempt(email, 'ip');
    expect(codeOf(() => guard.loginAttempt('d@x.test', 'ip'))).toBe('RATE_LIMITED');
    expect(codeOf(() => guard.loginAttempt('d@x.test', 'another-ip'))).toBeNull();
  });

  it('limits registrations per address with a retryAfter', () => {
    const guard = new AccountGuard(limits);
    guard.registerAttempt('ip');
    let error: unknown;
    try {
      guard.registerAttempt('ip');
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ extensions: { code: 'RATE_LIMITED', retryAfter: 60 } });
  });
});
