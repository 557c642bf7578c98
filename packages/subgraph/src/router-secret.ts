import { CLIENT_IP_HEADER, ROUTER_SECRET_HEADER, errorBody, readSettings, secretMatches, serviceSettings } from '@shop/service';
import type { FastifyReply, FastifyRequest } from 'fastify';

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
 * The address of the client behind a request. A subgraph takes the router's `x-client-ip` header only from a
 * caller that holds the router's secret (ROUTER_SECRET, compared in constant time): the router sets it from
 * the client's socket, or from X-Forwarded-For when its TRUST_PROXY names the proxies in front of it. Anyone
 * else, and every caller when no ROUTER_SECRET is set, is known by the socket's address, so a client cannot
 * choose the address its rate limits count against.
 */
export function clientAddress(request: FastifyRequest, routerSecret = readSettings(serviceSettings).ROUTER_SECRET): string {
  const forwarded = request.headers[CLIENT_IP_HEADER];
  const fromRouter = routerSecret !== undefined && secretMatches(request.headers[ROUTER_SECRET_HEADER], routerSecret);
  return fromRouter && typeof forwarded === 'string' && forwarded.length > 0 ? forwarded.slice(0, 64) : request.ip;
}
