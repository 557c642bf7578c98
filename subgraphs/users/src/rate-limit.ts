import { clientError, createLogger, currentRequest, type Logger } from '@shop/service';
import { SharedRedis } from '@shop/service/redis';
import { settings } from './config.js';

/**
 * Counts attempts per key in fixed windows, in this process's memory: the default, and enough for one users
 * process. With several replicas each would keep its own counts, so an attacker spread over them would get
 * replicas × the limit: set REDIS_URL and the replicas share their counts (RedisCounters below).
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    /** Past this many keys, expired windows are swept, then the oldest dropped, so memory stays bounded. */
    private readonly maxKeys = 100_000,
  ) {}

  /** Seconds until the key may try again; 0 when it may try now. */
  waitFor(key: string, now = Date.now()): number {
    const window = this.windows.get(key);
    if (!window || window.resetAt <= now || window.count < this.limit) return 0;
    return Math.max(1, Math.ceil((window.resetAt - now) / 1000));
  }

  /** Counts one attempt (the caller has checked `waitFor`). */
  hit(key: string, now = Date.now()): void {
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      this.windows.delete(key);
      if (this.windows.size >= this.maxKeys) this.sweep(now);
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
  }

  /** Takes one attempt back. */
  refund(key: string): void {
    const window = this.windows.get(key);
    if (window && window.count > 0) window.count -= 1;
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    // Still full: drop the oldest windows (a Map iterates in insertion order).
    for (const key of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break;
      this.windows.delete(key);
    }
  }
}

/** One limit an attempt counts against: `limit` attempts per `windowMs` for `key` in the counter `counter`. */
export interface LimitRule {
  counter: string;
  key: string;
  limit: number;
  windowMs: number;
}

/** Where attempts are counted. */
export interface Counters {
  /**
   * Counts one attempt against every rule, or against none when one of them is spent. Resolves to the seconds to
   * wait: 0 when the attempt was counted. Checking and counting are one atomic step, across replicas too.
   */
  attempt(rules: LimitRule[]): Promise<number>;
  /** Takes one attempt back. */
  refund(counter: string, key: string): Promise<void>;
  /** Forgets a key. */
  reset(counter: string, key: string): Promise<void>;
  /** Connects to the store, if it is elsewhere. */
  open(): Promise<void>;
  close(): Promise<void>;
}

/** Counts in this process's memory (the default). */
export class MemoryCounters implements Counters {
  private readonly limiters = new Map<string, FixedWindowLimiter>();

  private limiter(counter: string, limit = 1, windowMs = 1): FixedWindowLimiter {
    let limiter = this.limiters.get(counter);
    if (!limiter) this.limiters.set(counter, (limiter = new FixedWindowLimiter(limit, windowMs)));
    return limiter;
  }

  async attempt(rules: LimitRule[]): Promise<number> {
    const wait = Math.max(0, ...rules.map((rule) => this.limiter(rule.counter, rule.limit, rule.windowMs).waitFor(rule.key)));
    if (wait === 0) for (const rule of rules) this.limiter(rule.counter).hit(rule.key);
    return wait;
  }

  async refund(counter: string, key: string): Promise<void> {
    this.limiters.get(counter)?.refund(key);
  }

  async reset(counter: string, key: string): Promise<void> {
    this.limiters.get(counter)?.reset(key);
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {}
}

/**
 * Checks every key of an attempt and counts it in all of them, or in none, in one step on the Redis server, so
 * replicas racing on the same key never let more than the limit through. A window starts with the first
 * attempt: INCR makes the key, PEXPIRE gives it the window's length, and Redis deletes it when the window ends.
 * KEYS: one per rule; ARGV: the limit and the window (ms) of each rule, in turn. Returns the milliseconds to
 * wait, or 0 when the attempt was counted.
 */
const ATTEMPT_SCRIPT = `
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i - 1])
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= limit then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then
      ttl = tonumber(ARGV[2 * i])
      redis.call('PEXPIRE', key, ttl)
    end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[2 * i]) end
end
return 0
`;

/** Takes one attempt back, never below zero, keeping the window's expiry. */
const REFUND_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return 0
`;

let fallbackLogger: Logger | undefined;
function log(): Logger {
  return currentRequest()?.log ?? (fallbackLogger ??= createLogger('users'));
}

/**
 * Counts in Redis (REDIS_URL), shared by every users replica. Should Redis not answer, each replica counts in
 * its own memory meanwhile and logs an error, so logins go on being limited, per replica, rather than fail.
 */
export class RedisCounters implements Counters {
  private readonly redis: SharedRedis;
  private readonly fallback = new MemoryCounters();

  constructor(
    url: string,
    /** Prefix of every key, so that one Redis can serve several shops. */
    private readonly prefix = 'shop:users:rate:',
  ) {
    this.redis = new SharedRedis(url, {
      down: (error) => log().error({ err: error }, 'rate limits: Redis does not answer; counting in this replica only until it does'),
      up: () => log().info('rate limits: Redis answers again; counting in Redis'),
    });
  }

  /** Connects now; a Redis that cannot be reached is logged, and the limits are kept per replica until it can. */
  open(): Promise<void> {
    return this.redis.open();
  }

  private key(counter: string, key: string): string {
    return `${this.prefix}${counter}:${key}`;
  }

  attempt(rules: LimitRule[]): Promise<number> {
    return this.redis.run(
      async (redis) => {
        const keys = rules.map((rule) => this.key(rule.counter, rule.key));
        const args = rules.flatMap((rule) => [rule.limit, rule.windowMs]);
        const waitMs = Number(await redis.eval(ATTEMPT_SCRIPT, keys.length, ...keys, ...args));
        return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : 0;
      },
      () => this.fallback.attempt(rules),
    );
  }

  refund(counter: string, key: string): Promise<void> {
    return this.redis.run(
      async (redis) => void (await redis.eval(REFUND_SCRIPT, 1, this.key(counter, key))),
      () => this.fallback.refund(counter, key),
    );
  }

  reset(counter: string, key: string): Promise<void> {
    return this.redis.run(
      async (redis) => void (await redis.del(this.key(counter, key))),
      () => this.fallback.reset(counter, key),
    );
  }

  async close(): Promise<void> {
    this.redis.close();
  }
}

export interface AccountLimits {
  /** Failed logins per account (email) per window: `RATE_LIMIT_LOGIN_PER_EMAIL`, default 10. */
  loginPerEmail: number;
  /** Failed logins per client address per window: `RATE_LIMIT_LOGIN_PER_IP`, default 50. */
  loginPerIp: number;
  /** `RATE_LIMIT_LOGIN_WINDOW_SECONDS`, default 900 (15 minutes). */
  loginWindowSeconds: number;
  /** Registrations (successful or not) per client address per window: `RATE_LIMIT_REGISTER_PER_IP`, default 30. */
  registerPerIp: number;
  /** `RATE_LIMIT_REGISTER_WINDOW_SECONDS`, default 3600 (an hour). */
  registerWindowSeconds: number;
}

export function accountLimits(): AccountLimits {
  return {
    loginPerEmail: settings().RATE_LIMIT_LOGIN_PER_EMAIL,
    loginPerIp: settings().RATE_LIMIT_LOGIN_PER_IP,
    loginWindowSeconds: settings().RATE_LIMIT_LOGIN_WINDOW_SECONDS,
    registerPerIp: settings().RATE_LIMIT_REGISTER_PER_IP,
    registerWindowSeconds: settings().RATE_LIMIT_REGISTER_WINDOW_SECONDS,
  };
}

/** Counts in Redis when REDIS_URL is set, else in this process's memory. */
export function countersFromSettings(): Counters {
  const url = settings().REDIS_URL;
  return url ? new RedisCounters(url) : new MemoryCounters();
}

function rateLimited(retryAfter: number) {
  return clientError('RATE_LIMITED', `Too many attempts; try again in ${retryAfter} seconds`, { retryAfter });
}

/**
 * The users subgraph's brakes on guessing: login is limited per account and per client address, register per
 * client address (it must say EMAIL_TAKEN, so probing for accounts through it is slowed the same way). A refused
 * attempt is refused before any lookup or hash, in the same way whether or not the account exists.
 */
export class AccountGuard {
  constructor(
    private readonly counters: Counters = new MemoryCounters(),
    private readonly limits: AccountLimits = accountLimits(),
  ) {}

  /** Counts a login attempt, or throws RATE_LIMITED (with `retryAfter` in seconds) when either key is spent. */
  async loginAttempt(email: string, ip: string): Promise<void> {
    const windowMs = this.limits.loginWindowSeconds * 1000;
    const wait = await this.counters.attempt([
      { counter: 'login-email', key: accountKey(email), limit: this.limits.loginPerEmail, windowMs },
      { counter: 'login-ip', key: ip, limit: this.limits.loginPerIp, windowMs },
    ]);
    if (wait > 0) throw rateLimited(wait);
  }

  /** A login that succeeded does not count: the account starts afresh, the address gets its attempt back. */
  async loginSucceeded(email: string, ip: string): Promise<void> {
    await Promise.all([this.counters.reset('login-email', accountKey(email)), this.counters.refund('login-ip', ip)]);
  }

  /** Counts a registration attempt, or throws RATE_LIMITED. */
  async registerAttempt(ip: string): Promise<void> {
    const windowMs = this.limits.registerWindowSeconds * 1000;
    const wait = await this.counters.attempt([{ counter: 'register-ip', key: ip, limit: this.limits.registerPerIp, windowMs }]);
    if (wait > 0) throw rateLimited(wait);
  }

  open(): Promise<void> {
    return this.counters.open();
  }

  close(): Promise<void> {
    return this.counters.close();
  }
}

/** Emails are unique whatever their case; over-long ones are cut so a key never grows with the input. */
function accountKey(email: string): string {
  return email.trim().toLowerCase().slice(0, 254);
}

let guard: AccountGuard | undefined;

/** One guard per process, made on first use: every request of this users process shares its counts. */
export function accountGuard(): AccountGuard {
  return (guard ??= new AccountGuard(countersFromSettings()));
}

/** Disconnects the shared counters, if the guard was made. */
export async function closeAccountGuard(): Promise<void> {
  await guard?.close();
}
