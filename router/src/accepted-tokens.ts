import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';

/**
 * Authorization values a subgraph has accepted, each until its token's own expiry. The entity cache answers
 * without asking products, so it must not answer a caller whose token products would refuse: a stock gateway's
 * fetch would fail UNAUTHENTICATED. The router holds no signing key; it learns which tokens are good from the
 * subgraphs' answers (an order history's users fetch comes before its products fetch), and until then such a
 * caller's fetch goes to the subgraph.
 */
export class AcceptedTokens {
  private readonly expiries = new Map<string, number>();

  constructor(private readonly options: { max: number; now?: () => number } = { max: 10_000 }) {}

  /** Whether a cached answer may go to this caller: anonymous, or a token accepted and not yet expired. */
  accepts(authorization: string | undefined): boolean {
    if (authorization === undefined) return true;
    const expiresAt = this.expiries.get(authorization);
    if (expiresAt === undefined) return false;
    if ((this.options.now?.() ?? Date.now()) < expiresAt) return true;
    this.expiries.delete(authorization);
    return false;
  }

  /** Learns from a subgraph's answer to this caller: refused (UNAUTHENTICATED) or accepted. */
  observe(authorization: string | undefined, response: GatewayGraphQLResponse): void {
    if (authorization === undefined) return;
    if (response.errors?.some((error) => error.extensions?.code === 'UNAUTHENTICATED')) {
      this.expiries.delete(authorization);
      return;
    }
    if (this.expiries.has(authorization)) return;
    const expiresAt = bearerExpiry(authorization);
    if (expiresAt === undefined) return;
    if (this.expiries.size >= this.options.max) this.expiries.delete(this.expiries.keys().next().value!);
    this.expiries.set(authorization, expiresAt);
  }
}

/** The `exp` of a bearer JWT, read without verifying it (a subgraph has just verified it), in milliseconds. */
function bearerExpiry(authorization: string): number | undefined {
  const payload = /^Bearer [\w-]+\.([\w-]+)\.[\w-]+$/.exec(authorization)?.[1];
  if (!payload) return undefined;
  try {
    const { exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
