import { createHash, timingSafeEqual } from 'node:crypto';

/** The header the router (and the orders subgraph, calling products) proves itself with. */
export const ROUTER_SECRET_HEADER = 'x-router-secret';
/** The original client's address, as the router saw it; subgraphs use it for per-address rate limits. */
export const CLIENT_IP_HEADER = 'x-client-ip';

/** Compares a presented secret with the real one in constant time, whatever their lengths. */
export function secretMatches(presented: string | string[] | undefined, secret: string): boolean {
  if (typeof presented !== 'string') return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(secret));
}

/** A GraphQL-style error body, for refusals made before Apollo Server sees the request. */
export function errorBody(code: string, message: string) {
  return { errors: [{ message, extensions: { code } }] };
}
