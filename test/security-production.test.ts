import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceProcess, startStack, type ServiceName, freePort, freePorts } from '../scripts/stack.js';
import { codes, contractOperation, eventually, post, registerCustomer } from './client.js';
import { TEST_ADMIN } from './fixtures.js';
import { INTERNALS, cannotLogIn, raw } from './security.js';

/**
 * The hardened edge in production mode, on a stack of this file's own: ROUTER_SECRET, a short
 * SUBGRAPH_TIMEOUT_MS and small rate limits, to kill and hang subgraphs and to brute-force logins.
 */

const ROUTER_SECRET = `router-secret-${randomUUID()}`;
const TIMEOUT_MS = 1_000;
const LIMITS = { loginPerEmail: 3, loginPerIp: 8, registerPerIp: 6 };

let stack: Record<ServiceName, ServiceProcess>;
/** A second router whose orders subgraph is a server that accepts connections and never answers. */
let hangingRouter: ServiceProcess;
let hangingServer: ReturnType<typeof createHttpServer>;
const heldResponses = new Set<ServerResponse>();
let cleanup: (() => Promise<void>) | undefined;
let admin: string;
let buyer: { token: string; id: string; email: string };
let orderId: string;
let registrations = 0;

const own = () => `${stack.router.url}/graphql`;
const sendOwn = (body: unknown, token?: string, headers: Record<string, string> = {}) => post(body, token, own(), headers);
const ownOperation = (name: string, variables: Record<string, unknown>, token?: string, headers: Record<string, string> = {}) =>
  sendOwn({ query: contractOperation(name), operationName: name, variables }, token, headers);

/** Answers the router's readiness probe (`{ __typename }`) and nothing else: every other request hangs. */
function startHangingServer(port: number) {
  const server = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (body.includes('"{ __typename }"')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { __typename: 'Query' } }));
      } else {
        heldResponses.add(response);
      }
    });
  });
  return new Promise<typeof server>((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'shop-security-'));
  const ports = await freePorts();
  const env = {
    NODE_ENV: 'production',
    JWT_SECRET: `security-test-key-${randomUUID()}`,
    ROUTER_SECRET,
    SUBGRAPH_TIMEOUT_MS: String(TIMEOUT_MS),
    CORS_ORIGINS: 'https://shop.example',
    MAX_QUERY_DEPTH: '6',
    RATE_LIMIT_LOGIN_PER_EMAIL: String(LIMITS.loginPerEmail),
    RATE_LIMIT_LOGIN_PER_IP: String(LIMITS.loginPerIp),
    RATE_LIMIT_REGISTER_PER_IP: String(LIMITS.registerPerIp),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    SEED_DEMO: 'false',
  };
  stack = await startStack(env, ports);
  const hangingPort = await freePort();
  hangingServer = await startHangingServer(hangingPort);
  hangingRouter = new ServiceProcess('router', await freePort(), {
    ...env,
    USERS_URL: `${stack.users.url}/graphql`,
    PRODUCTS_URL: `${stack.products.url}/graphql`,
    ORDERS_URL: `http://127.0.0.1:${hangingPort}/graphql`,
    INTROSPECTION: 'true',
  });
  await hangingRouter.start();
  cleanup = async () => {
    for (const response of heldResponses) response.destroy();
    hangingServer.closeAllConnections();
    await new Promise((resolve) => hangingServer.close(resolve));
    await Promise.all([...Object.values(stack), hangingRouter].map((service) => service.stop('SIGTERM')));
    await rm(dataDir, { recursive: true, force: true });
  };

  admin = (await ownOperation('Login', { input: TEST_ADMIN })).data.login.token;
  const email = `buyer-${randomUUID()}@test.shop`;
  const registered = await ownOperation('Register', { input: { email, password: 'long enough', name: 'Buyer' } });
  registrations += 1;
  buyer = { token: registered.data.register.token, id: registered.data.register.user.id, email };
  const input = {
    sku: `SEC-${randomUUID()}`,
    name: 'Secured',
    description: '',
    category: 'secured',
    price: { amount: 250, currency: 'USD' },
    stock: 5,
  };
  const product = (await ownOperation('CreateProduct', { input }, admin)).data.createProduct.product.id;
  const placed = await ownOperation(
    'PlaceOrder',
    { input: { items: [{ productId: product, quantity: 1 }], idempotencyKey: randomUUID() } },
    buyer.token,
  );
  orderId = placed.data.placeOrder.order.id;
}, 240_000);

afterAll(() => cleanup?.(), 60_000);

/** The buyer's account from users and an order from orders: one query over two subgraphs. */
const ACCOUNT_AND_ORDER = 'query($id: ID!) { me { id name } order(id: $id) { id status } }';

describe('subgraph trust (ROUTER_SECRET)', () => {
  const direct = (service: ServiceName, secret?: string) =>
    raw(`${stack[service].url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(secret !== undefined && { 'x-router-secret': secret }) },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });

  it.each(['users', 'products', 'orders'] as const)(
    'the %s subgraph refuses a request without the secret, or with a wrong one',
    async (service) => {
      for (const secret of [undefined, '', 'guess', `${ROUTER_SECRET}x`]) {
        const response = await direct(service, secret);
        expect(response.status).toBe(403);
        expect(response.body).toEqual({
          errors: [{ message: 'Only the router may call this service', extensions: { code: 'FORBIDDEN' } }],
        });
      }
    },
  );

  it('the subgraphs answer a caller holding the secret, and the router works through them', async () => {
    const response = await direct('users', ROUTER_SECRET);
    expect(response.status).toBe(200);
    expect(response.body.data._service.sdl).toContain('type User');
    const through = await sendOwn({ query: ACCOUNT_AND_ORDER, variables: { id: orderId } }, buyer.token);
    expect(through.errors).toBeUndefined();
    expect(through.data).toEqual({ me: { id: buyer.id, name: 'Buyer' }, order: { id: orderId, status: 'PENDING' } });
  });

  it('refuses _entities to a direct caller, even with a valid admin token', async () => {
    const response = await raw(`${stack.users.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({
        query: `{ _entities(representations: [{ __typename: "User", id: "${buyer.id}" }]) { ... on User { email } } }`,
      }),
    });
    expect(response.status).toBe(403);
    expect(response.text).not.toContain(buyer.email);
  });

  it('warns loudly at production start-up when ROUTER_SECRET is missing, and not when it is set', async () => {
    expect(stack.router.output).not.toContain('ROUTER_SECRET is not set');
    const fake = `http://127.0.0.1:${(hangingServer.address() as { port: number }).port}/graphql`;
    const unsecured = new ServiceProcess('router', await freePort(), {
      NODE_ENV: 'production',
      ROUTER_SECRET: '',
      LOG_LEVEL: 'warn',
      USERS_URL: fake,
      PRODUCTS_URL: fake,
      ORDERS_URL: fake,
    });
    await unsecured.start();
    try {
      expect(unsecured.output).toContain('SECURITY: ROUTER_SECRET is not set');
    } finally {
      await unsecured.stop('SIGTERM');
    }
  });
});

describe('production settings', () => {
  it('refuses introspection and drops "did you mean" hints', async () => {
    const introspection = await sendOwn({ query: '{ __schema { queryType { name } } }' });
    expect(introspection.status).toBe(400);
    expect(codes(introspection)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const typo = await sendOwn({ query: '{ me { nme } }' });
    expect(typo.errors![0]!.message).toBe('Cannot query field "nme" on type "User".');
    const badEnum = await sendOwn({ query: '{ products(sort: PRICE) { totalCount } }' });
    expect(badEnum.errors![0]!.message).not.toMatch(/Did you mean/);
  });

  it('answers introspection in production when INTROSPECTION=true', async () => {
    const response = await post({ query: '{ __schema { queryType { name } } }' }, undefined, `${hangingRouter.url}/graphql`);
    expect(response.data.__schema.queryType.name).toBe('Query');
    const typo = await post({ query: '{ me { nme } }' }, undefined, `${hangingRouter.url}/graphql`);
    expect(typo.errors![0]!.message).toMatch(/Did you mean "name"\?/);
  });

  it('allows CORS for Apollo Sandbox and the origins in CORS_ORIGINS, and nothing else', async () => {
    const preflight = (origin: string) =>
      fetch(own(), {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
    expect((await preflight('https://shop.example')).headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect((await preflight('https://studio.apollographql.com')).headers.get('access-control-allow-origin')).toBe(
      'https://studio.apollographql.com',
    );
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight('https://shop.example.evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('takes its limits from the environment (MAX_QUERY_DEPTH=6 here, 10 by default)', async () => {
    const query = '{ me { orders { edges { node { items { product { id } } } } } } }';
    const here = await sendOwn({ query }, buyer.token);
    expect(codes(here)).toEqual(['MAX_DEPTH_LIMIT']);
    expect(here.errors![0]!.message).toMatch(/depth limit of 6/);
    const { token } = await registerCustomer();
    expect((await post({ query }, token)).errors).toBeUndefined();
  });
});

describe('a subgraph that fails', () => {
  it('killed: the client gets the other subgraphs’ data and SERVICE_UNAVAILABLE naming it, HTTP 200; the router recovers by itself', async () => {
    await stack.orders.stop('SIGKILL');
    try {
      const response = await sendOwn({ query: ACCOUNT_AND_ORDER, variables: { id: orderId } }, buyer.token);
      expect(response.status).toBe(200);
      expect(response.data).toEqual({ me: { id: buyer.id, name: 'Buyer' }, order: null });
      expect(response.errors).toEqual([
        { message: 'The orders service is unavailable', path: ['order'], extensions: { code: 'SERVICE_UNAVAILABLE', service: 'orders' } },
      ]);
      expect(JSON.stringify(response.errors)).not.toMatch(INTERNALS);

      // A field the orders subgraph adds to another subgraph's entity fails alone too.
      const sales = await sendOwn({ query: '{ products(first: 1) { edges { node { id name sales { unitsSold } } } } }' }, admin);
      expect(sales.status).toBe(200);
      expect(sales.data.products.edges[0].node).toMatchObject({ name: 'Secured', sales: null });
      expect(sales.errors).toEqual([
        expect.objectContaining({
          path: ['products', 'edges', 0, 'node', 'sales'],
          extensions: { code: 'SERVICE_UNAVAILABLE', service: 'orders' },
        }),
      ]);

      // The router itself stays up, and says which subgraph it misses.
      expect((await raw(`${stack.router.opsUrl}/health`)).status).toBe(200);
      const ready = await raw(`${stack.router.opsUrl}/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body.checks.users).toBe(true);
    } finally {
      await stack.orders.start();
    }
    const recovered = await sendOwn({ query: ACCOUNT_AND_ORDER, variables: { id: orderId } }, buyer.token);
    expect(recovered.errors).toBeUndefined();
    expect(recovered.data.order).toEqual({ id: orderId, status: 'PENDING' });
  });

  it(`hangs: the fetch is given up after SUBGRAPH_TIMEOUT_MS (${TIMEOUT_MS} ms) with the same partial answer`, async () => {
    const started = performance.now();
    const response = await post({ query: ACCOUNT_AND_ORDER, variables: { id: orderId } }, buyer.token, `${hangingRouter.url}/graphql`);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 3_000);
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ me: { id: buyer.id, name: 'Buyer' }, order: null });
    expect(response.errors).toEqual([
      { message: 'The orders service is unavailable', path: ['order'], extensions: { code: 'SERVICE_UNAVAILABLE', service: 'orders' } },
    ]);
    expect(JSON.stringify(response)).not.toMatch(INTERNALS);
    // The full detail is in the router's log, under the request id (the log reaches the pipe after the answer).
    expect(response.headers.get('x-request-id')).toBeTruthy();
    await eventually(async () => {
      expect(hangingRouter.output).toMatch(/"reqId":"[0-9a-f-]{36}".*"subgraph":"orders".*subgraph timed out/);
      expect(hangingRouter.output).toContain(response.headers.get('x-request-id'));
    }, 10_000);
  });
});

describe('abuse of accounts (RATE_LIMITED)', () => {
  it('limits registrations per client address, and a refused one creates nothing', async () => {
    while (registrations < LIMITS.registerPerIp) {
      const response = await ownOperation('Register', {
        input: { email: `reg-${randomUUID()}@test.shop`, password: 'long enough', name: 'R' },
      });
      expect(response.errors).toBeUndefined();
      registrations += 1;
    }
    const email = `over-${randomUUID()}@test.shop`;
    const refused = await ownOperation('Register', { input: { email, password: 'long enough', name: 'R' } });
    expect(codes(refused)).toEqual(['RATE_LIMITED']);
    expect(refused.errors![0]!.extensions!.retryAfter).toBeGreaterThan(0);
    // A taken email is refused the same way: probing for accounts through register is slowed too.
    expect(codes(await ownOperation('Register', { input: { email: buyer.email, password: 'long enough', name: 'R' } }))).toEqual([
      'RATE_LIMITED',
    ]);
    await cannotLogIn(email, 'long enough', own());
  });

  it('limits failed logins per account, then per client address; forged address headers do not help', async () => {
    // One failed login so far (the check above). Per account: three failures, then refused, right password or not.
    const login = (email: string, password: string, headers: Record<string, string> = {}) =>
      ownOperation('Login', { input: { email, password } }, undefined, headers);
    for (let i = 0; i < LIMITS.loginPerEmail; i += 1)
      expect(codes(await login(buyer.email, 'wrong password'))).toEqual(['INVALID_CREDENTIALS']);
    const locked = await login(buyer.email, 'long enough');
    expect(codes(locked)).toEqual(['RATE_LIMITED']);
    expect(locked.data).toBeNull();
    expect(locked.errors![0]!.extensions!.retryAfter).toBeGreaterThan(0);
    expect(locked.errors![0]!.message).toMatch(/try again in \d+ seconds/);
    expect(codes(await login(buyer.email.toUpperCase(), 'long enough'))).toEqual(['RATE_LIMITED']);

    // Per address: 1 + 3 failures so far; four more on unknown accounts reach the limit of eight.
    for (let i = 0; i < LIMITS.loginPerIp - 1 - LIMITS.loginPerEmail; i += 1) {
      expect(codes(await login(`unknown-${randomUUID()}@test.shop`, 'wrong password'))).toEqual(['INVALID_CREDENTIALS']);
    }
    expect(codes(await login(`fresh-${randomUUID()}@test.shop`, 'wrong password'))).toEqual(['RATE_LIMITED']);
    // The router takes the address from the socket (TRUST_PROXY is unset) and sets x-client-ip itself.
    const spoofed = { 'x-forwarded-for': '203.0.113.7', 'x-client-ip': '203.0.113.8', 'x-real-ip': '203.0.113.9' };
    expect(codes(await login(`fresh-${randomUUID()}@test.shop`, 'wrong password', spoofed))).toEqual(['RATE_LIMITED']);
    // Even the right password of an untouched account waits: the address is spent.
    expect(codes(await login(TEST_ADMIN.email, TEST_ADMIN.password))).toEqual(['RATE_LIMITED']);
  });
});
