import { GraphQLError } from 'graphql';

export interface QuotaSettings {
  perConnection: number;
  perClient: number;
  total: number;
}

/** A subscription's place in the quota, given back once (later calls do nothing). */
export type Lease = () => void;

/**
 * How many subscriptions the router holds open: per graphql-ws connection, per client address (over every
 * connection and both transports) and in all. A subscription over a limit is refused with RATE_LIMITED.
 */
export class SubscriptionQuota {
  private readonly byClient = new Map<string, number>();
  private total = 0;

  constructor(private readonly settings: QuotaSettings) {}

  get open(): number {
    return this.total;
  }

  /** Takes a place for a client that already holds `onConnection` on this connection, or says why not. */
  acquire(client: string, onConnection: number): Lease | GraphQLError {
    const { perConnection, perClient, total } = this.settings;
    const held = this.byClient.get(client) ?? 0;
    if (onConnection >= perConnection) return limited(`At most ${perConnection} subscriptions per connection`);
    if (held >= perClient) return limited(`At most ${perClient} subscriptions per client`);
    if (this.total >= total) return limited('The router holds as many subscriptions as it can; try again later');
    this.byClient.set(client, held + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byClient.get(client) ?? 1) - 1;
      if (left > 0) this.byClient.set(client, left);
      else this.byClient.delete(client);
    };
  }
}

function limited(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'RATE_LIMITED' } });
}
