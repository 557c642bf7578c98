import { expect, inject } from 'vitest';
import { codes, contractOperation, metric, post, type GraphQLResponse } from './client.js';

/** Helpers of the security tests (security-*.test.ts), which check the hardened edge through the router. */

export const routerUrl = () => inject('routerUrl');

/** Anything a client must never see: stack traces, SQL, internal addresses, connection errors. */
export const INTERNALS =
  /ECONNREFUSED|ETIMEDOUT|fetch failed|127\.0\.0\.1|localhost|:\d{4,5}\/graphql|stacktrace|\bat .+\.(ts|js):\d+|\bselect\b.+\bfrom\b|\binsert into\b|TimeoutError|aborted/i;

export async function raw(url: string, init: RequestInit = {}): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text, headers: response.headers };
}

/** GraphQL requests the users and orders subgraphs have answered: a refusal at the router must not move it. */
export async function subgraphRequests(): Promise<number> {
  return (await metric('users', 'graphql_requests_total')) + (await metric('orders', 'graphql_requests_total'));
}

export async function expectRefusedAtRouter(send: () => Promise<GraphQLResponse>, code: string): Promise<GraphQLResponse> {
  const before = await subgraphRequests();
  const response = await send();
  expect(response.status).toBe(400);
  expect(codes(response)).toEqual([code]);
  expect(response.data).toBeUndefined();
  expect(await subgraphRequests()).toBe(before);
  return response;
}

export const registerField = (email: string) => `register(input: { email: "${email}", password: "long enough", name: "Bomb" }) { token }`;

export async function cannotLogIn(email: string, password = 'long enough', url = routerUrl()) {
  const login = await post({ query: contractOperation('Login'), variables: { input: { email, password } } }, undefined, url);
  expect(codes(login)).toEqual(['INVALID_CREDENTIALS']);
}
