import { Redis } from 'ioredis';

/**
 * A connection to the Redis (REDIS_URL) where a service's replicas share state they can do without for a
 * while: the users' rate-limit counts, the router's entity cache. A command fails fast rather than waiting
 * while Redis is down, so the caller falls back to what it does alone; `down` is called once when Redis stops
 * answering and `up` once when it answers again, so an outage is logged, not every request in it.
 */
export class SharedRedis {
  readonly client: Redis;
  private failing = false;

  constructor(
    url: string,
    private readonly health: { down(error: Error): void; up(): void },
  ) {
    this.client = new Redis(url, {
      // A request waits for Redis at most this long, then its caller falls back.
      commandTimeout: 1_000,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    this.client.on('error', (error: Error) => this.failed(error));
    this.client.on('ready', () => this.answered());
  }

  /** Connects now; a Redis that cannot be reached is reported, and the client keeps trying by itself. */
  async open(): Promise<void> {
    try {
      await this.client.connect();
      await this.client.ping();
    } catch (error) {
      this.failed(error as Error);
    }
  }

  /** `work` on Redis, or `fallback` when it fails or Redis is not connected. */
  async run<T>(work: (client: Redis) => Promise<T>, fallback: () => T | Promise<T>): Promise<T> {
    // While the client is not connected (it reconnects by itself), fall back at once rather than wait for a
    // command to time out on every request.
    if (this.client.status !== 'ready') {
      this.failed(new Error(`Redis connection is ${this.client.status}`));
      return fallback();
    }
    try {
      const result = await work(this.client);
      this.answered();
      return result;
    } catch (error) {
      this.failed(error as Error);
      return fallback();
    }
  }

  close(): void {
    this.client.disconnect();
  }

  private failed(error: Error): void {
    if (this.failing) return;
    this.failing = true;
    this.health.down(error);
  }

  private answered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.health.up();
  }
}
