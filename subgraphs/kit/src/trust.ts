import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

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

/**
 * A fastify `onRequest` hook for a subgraph's /graphql: with ROUTER_SECRET set, a request without the router's
 * secret header is refused before its body is even read, so `_entities` and `_service` answer only the router.
 */
export function requireRouterSecret(secret: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (secretMatches(request.headers[ROUTER_SECRET_HEADER], secret)) return;
    request.log.warn({ ip: request.ip, url: request.url }, 'refused a request without the router secret');
    return reply.code(403).send(errorBody('FORBIDDEN', 'Only the router may call this service'));
  };
}

/**
 * The address of the client behind a request. A subgraph takes the router's `x-client-ip` header: with
 * ROUTER_SECRET set, only the router (and services holding the secret) can reach it, so the header is the
 * router's word. Without a secret (development), anyone who can reach a subgraph directly could set it.
 */
export function clientAddress(request: FastifyRequest): string {
  const forwarded = request.headers[CLIENT_IP_HEADER];
  return typeof forwarded === 'string' && forwarded.length > 0 ? forwarded.slice(0, 64) : request.ip;
}

/**
 * fastify's `trustProxy` from `TRUST_PROXY`: unset or `false` (the default) takes the socket's address and
 * ignores X-Forwarded-For; `true` trusts every proxy, a number trusts that many hops, anything else is a
 * comma-separated list of proxy addresses or CIDR ranges.
 */
export function trustProxySetting(raw = process.env.TRUST_PROXY): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    return (_address, hop) => hop < hops;
  }
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}
