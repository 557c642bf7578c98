import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { parse, print, type OperationDefinitionNode } from 'graphql';
import { SignJWT } from 'jose';
import { inject } from 'vitest';

import { sumMetric } from '../scripts/stack.js';
import { TEST_ADMIN } from './fixtures.js';

/** The repository's copy of the client contract: tests send exactly these documents. */
const contract = parse(readFileSync(new URL('../schema/operations/storefront.graphql', import.meta.url), 'utf8'));
const operations = new Map(
  contract.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition').map((d) => [d.name!.value, print(d)]),
);

export function contractOperation(name: string): string {
  const document = operations.get(name);
  if (!document) throw new Error(`The contract has no operation ${name}`);
  return document;
}

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  headers: Headers;
}

export async function post<T = any>(
  body: unknown,
  token?: string,
  url = inject('routerUrl'),
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }), ...headers },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Omit<GraphQLResponse<T>, 'status' | 'headers'>;
  return { ...json, status: response.status, headers: response.headers };
}

/** Sends a contract operation, by name, through the router. */
export function run<T = any>(name: string, variables: Record<string, unknown> = {}, token?: string) {
  return post<T>({ query: contractOperation(name), operationName: name, variables }, token);
}

export function codes(response: GraphQLResponse): unknown[] {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}

/** A fresh customer account, through the contract's Register. */
export async function registerCustomer(name = 'Test Customer') {
  const email = `customer-${randomUUID()}@test.shop`;
  const response = await run('Register', { input: { email, password: 'correct horse battery', name } });
  if (!response.data?.register) throw new Error(`register failed: ${JSON.stringify(response.errors)}`);
  const { token, user } = response.data.register as { token: string; user: { id: string; email: string; name: string; role: string } };
  return { token, user, email, password: 'correct horse battery' };
}

let adminTokenPromise: Promise<string> | undefined;
export function adminToken(): Promise<string> {
  adminTokenPromise ??= run('Login', { input: TEST_ADMIN }).then((response) => {
    if (!response.data?.login) throw new Error(`admin login failed: ${JSON.stringify(response.errors)}`);
    return response.data.login.token as string;
  });
  return adminTokenPromise;
}

export interface TestProduct {
  id: string;
  sku: string;
  name: string;
  price: { amount: number; currency: string };
  stock: number;
  category: string;
}

/** A new product with a unique sku, through the contract's CreateProduct as the admin. */
export async function createProduct(
  overrides: Partial<{ name: string; description: string; category: string; price: number; stock: number; sku: string }> = {},
): Promise<TestProduct> {
  const input = {
    sku: overrides.sku ?? `SKU-${randomUUID()}`,
    name: overrides.name ?? 'Test product',
    description: overrides.description ?? 'A product made by a test',
    category: overrides.category ?? `cat-${randomUUID()}`,
    price: { amount: overrides.price ?? 1000, currency: 'USD' },
    stock: overrides.stock ?? 10,
  };
  const response = await run('CreateProduct', { input }, await adminToken());
  if (!response.data?.createProduct) throw new Error(`createProduct failed: ${JSON.stringify(response.errors)}`);
  return response.data.createProduct.product as TestProduct;
}

export async function placeOrder(token: string, items: { productId: string; quantity: number }[], idempotencyKey: string = randomUUID()) {
  return run('PlaceOrder', { input: { items, idempotencyKey } }, token);
}

export async function stockOf(productId: string): Promise<number> {
  const response = await run('ProductPage', { id: productId });
  return response.data.product.stock as number;
}

/** A counter from a service's /metrics, summed over the series that match the label filter. */
export async function metric(service: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumMetric(await (await fetch(`${inject('opsUrls')[service]}/metrics`)).text(), name, labels);
}

/** An ADMIN token for `userId`, well formed but signed with a key that is not the shop's. */
export function forgedAdminToken(userId: string): Promise<string> {
  return new SignJWT({ role: 'ADMIN' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer('federated-shop')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode('a key that is not the shop key, long enough'));
}

/** An ADMIN token for `userId` with `alg: none` and no signature at all. */
export function unsignedAdminToken(userId: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none' })}.${encode({ sub: userId, role: 'ADMIN', iss: 'federated-shop', exp: 9999999999 })}.`;
}

/** Waits until `check` passes, retrying while the stack catches up; fails with its last error after the deadline. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
