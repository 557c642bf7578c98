import { CLIENT_IP_HEADER, ROUTER_SECRET_HEADER, errorBody, secretMatches } from '@shop/service';
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
 * The address of the client behind a request. A subgraph takes the router's `x-client-ip` header: with
 * ROUTER_SECRET set, only the router (and services holding the secret) can reach it, so the header is the
 * router's word. Without a secret (development), anyone who can reach a subgraph directly could set it.
 */
export function clientAddress(request: FastifyRequest): string {
  const forwarded = request.headers[CLIENT_IP_HEADER];
  return typeof forwarded === 'string' && forwarded.length > 0 ? forwarded.slice(0, 64) : request.ip;
}
