import { clientError, envInt } from '@shop/service';

/**
 * Counts attempts per key in fixed windows, in this process's memory. One users process needs nothing more;
 * with several replicas each keeps its own counts, so an attacker spread over them gets replicas × the limit:
 * put the counts in a shared store (Redis, or PostgreSQL) before scaling users out.
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
    loginPerEmail: envInt('RATE_LIMIT_LOGIN_PER_EMAIL', 10),
    loginPerIp: envInt('RATE_LIMIT_LOGIN_PER_IP', 50),
    loginWindowSeconds: envInt('RATE_LIMIT_LOGIN_WINDOW_SECONDS', 900),
    registerPerIp: envInt('RATE_LIMIT_REGISTER_PER_IP', 30),
    registerWindowSeconds: envInt('RATE_LIMIT_REGISTER_WINDOW_SECONDS', 3600),
  };
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
  private readonly loginByEmail: FixedWindowLimiter;
  private readonly loginByIp: FixedWindowLimiter;
  private readonly registerByIp: FixedWindowLimiter;

  constructor(limits: AccountLimits = accountLimits()) {
    this.loginByEmail = new FixedWindowLimiter(limits.loginPerEmail, limits.loginWindowSeconds * 1000);
    this.loginByIp = new FixedWindowLimiter(limits.loginPerIp, limits.loginWindowSeconds * 1000);
    this.registerByIp = new FixedWindowLimiter(limits.registerPerIp, limits.registerWindowSeconds * 1000);
  }

  /** Counts a login attempt, or throws RATE_LIMITED (with `retryAfter` in seconds) when either key is spent. */
  loginAttempt(email: string, ip: string): void {
    const account = accountKey(email);
    const wait = Math.max(this.loginByEmail.waitFor(account), this.loginByIp.waitFor(ip));
    if (wait > 0) throw rateLimited(wait);
    this.loginByEmail.hit(account);
    this.loginByIp.hit(ip);
  }

  /** A login that succeeded does not count: the account starts afresh, the address gets its attempt back. */
  loginSucceeded(email: string, ip: string): void {
    this.loginByEmail.reset(accountKey(email));
    this.loginByIp.refund(ip);
  }

  /** Counts a registration attempt, or throws RATE_LIMITED. */
  registerAttempt(ip: string): void {
    const wait = this.registerByIp.waitFor(ip);
    if (wait > 0) throw rateLimited(wait);
    this.registerByIp.hit(ip);
  }
}

/** Emails are unique whatever their case; over-long ones are cut so a key never grows with the input. */
function accountKey(email: string): string {
  return email.trim().toLowerCase().slice(0, 254);
}

/** One guard per process: every request of this users subgraph shares its counts. */
export const accountGuard = new AccountGuard();
