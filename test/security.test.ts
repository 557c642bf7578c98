import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ServiceProcess, startStack, type ServiceName, freePort, freePorts } from '../scripts/stack.js';
import {
  adminToken,
  codes,
  contractOperation,
  createProduct,
  forgedAdminToken,
  metric,
  placeOrder,
  post,
  registerCustomer,
  run,
  stockOf,
  unsignedAdminToken,
  type GraphQLResponse,
} from './client.js';
import { TEST_ADMIN } from './fixtures.js';

/**
 * The hardened edge (issue 6), through the router. The first half runs on the shared test stack (development
 * settings); the second starts a stack of its own in production mode, with ROUTER_SECRET, a short
 * SUBGRAPH_TIMEOUT_MS and small rate limits, to kill and hang subgraphs and to brute-force logins.
 */

const routerUrl = () => inject('routerUrl');
const serviceUrl = (name: string) => `${inject('serviceUrls')[name]}/graphql`;

/** Anything a client must never see: stack traces, SQL, internal addresses, connection errors. */
const INTERNALS =
  /ECONNREFUSED|ETIMEDOUT|fetch failed|127\.0\.0\.1|localhost|:\d{4,5}\/graphql|stacktrace|\bat .+\.(ts|js):\d+|\bselect\b.+\bfrom\b|\binsert into\b|TimeoutError|aborted/i;

async function raw(url: string, init: RequestInit = {}): Promise<{ status: number; body: any; text: string; headers: Headers }> {
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
async function subgraphRequests(): Promise<number> {
  return (await metric('users', 'graphql_requests_total')) + (await metric('orders', 'graphql_requests_total'));
}

async function expectRefusedAtRouter(send: () => Promise<GraphQLResponse>, code: string): Promise<GraphQLResponse> {
  const before = await subgraphRequests();
  const response = await send();
  expect(response.status).toBe(400);
  expect(codes(response)).toEqual([code]);
  expect(response.data).toBeUndefined();
  expect(await subgraphRequests()).toBe(before);
  return response;
}

const registerField = (email: string) => `register(input: { email: "${email}", password: "long enough", name: "Bomb" }) { token }`;

async function cannotLogIn(email: string, password = 'long enough', url = routerUrl()) {
  const login = await post({ query: contractOperation('Login'), variables: { input: { email, password } } }, undefined, url);
  expect(codes(login)).toEqual(['INVALID_CREDENTIALS']);
}

describe('operation limits, enforced at the router before any subgraph is called', () => {
  it('refuses a depth bomb with MAX_DEPTH_LIMIT and HTTP 400', async () => {
    let selection = 'id';
    for (let level = 0; level < 6; level += 1) selection = `orders { edges { node { buyer { ${selection} } } } }`;
    const response = await expectRefusedAtRouter(() => post({ query: `{ me { ${selection} } }` }), 'MAX_DEPTH_LIMIT');
    expect(response.errors![0]!.message).toMatch(/depth limit of 10/);
  });

  it('refuses an alias flood with MAX_ALIASES_LIMIT, and its mutation does not run', async () => {
    const email = `alias-${randomUUID()}@test.shop`;
    const aliases = Array.from({ length: 16 }, (_, i) => `t${i}: token`).join(' ');
    const query = `mutation { register(input: { email: "${email}", password: "long enough", name: "Bomb" }) { ${aliases} } }`;
    const response = await expectRefusedAtRouter(() => post({ query }), 'MAX_ALIASES_LIMIT');
    expect(response.errors![0]!.message).toMatch(/Aliases limit of 15/);
    await cannotLogIn(email);
  });

  it('refuses too many root fields with MAX_ROOT_FIELDS_LIMIT, and none of them runs', async () => {
    const emails = Array.from({ length: 11 }, () => `root-${randomUUID()}@test.shop`);
    const fields = emails.map((email, i) => `r${i}: ${registerField(email)}`).join('\n');
    await expectRefusedAtRouter(() => post({ query: `mutation { ${fields} }` }), 'MAX_ROOT_FIELDS_LIMIT');
    await cannotLogIn(emails[0]!);
  });

  it('refuses a directive flood with MAX_DIRECTIVES_LIMIT', async () => {
    const fields = Array.from({ length: 51 }, () => '__typename @include(if: true)').join(' ');
    await expectRefusedAtRouter(() => post({ query: `{ ${fields} }` }), 'MAX_DIRECTIVES_LIMIT');
  });

  it('refuses a document of more than 1000 tokens while parsing it', async () => {
    const fields = Array.from({ length: 1_100 }, () => 'id').join(' ');
    const response = await expectRefusedAtRouter(() => post({ query: `{ me { ${fields} } }` }), 'GRAPHQL_PARSE_FAILED');
    expect(response.errors![0]!.message).toMatch(/1000 tokens/);
  });

  it('refuses a cost bomb (nested lists sized by `first`) with COST_ESTIMATED_TOO_EXPENSIVE', async () => {
    const bomb = '{ me { orders(first: 100) { edges { node { buyer { orders(first: 100) { edges { node { id } } } } } } } } }';
    const response = await expectRefusedAtRouter(() => post({ query: bomb }), 'COST_ESTIMATED_TOO_EXPENSIVE');
    expect(response.errors![0]!.extensions).toMatchObject({ maxCost: 5000, cost: expect.any(Number) });
    expect(response.errors![0]!.extensions!.cost as number).toBeGreaterThan(5000);
    // The same shape with small pages is an ordinary query.
    const { token } = await registerCustomer();
    const small = await post({ query: bomb.replaceAll('first: 100', 'first: 5') }, token);
    expect(small.errors).toBeUndefined();
  });

  it('sizes lists by a `first` given in variables too, capped at 100', async () => {
    const query =
      'query($n: Int) { me { orders(first: $n) { edges { node { buyer { orders(first: $n) { edges { node { id } } } } } } } } }';
    const { token } = await registerCustomer();
    // The router remembers a document's cost per page size: the same text with other sizes is judged afresh.
    expect((await post({ query, variables: { n: 5 } }, token)).errors).toBeUndefined();
    await expectRefusedAtRouter(() => post({ query, variables: { n: 1_000_000 } }, token), 'COST_ESTIMATED_TOO_EXPENSIVE');
    expect((await post({ query, variables: { n: 5 } }, token)).errors).toBeUndefined();
    // And variables are still checked against their declarations on every request.
    await expectRefusedAtRouter(() => post({ query, variables: { n: 'five' } }, token), 'BAD_USER_INPUT');
  });

  it('lets the heaviest contract operations and the Sandbox introspection query through', async () => {
    const { token } = await registerCustomer();
    const history = await run('OrderHistory', { first: 100 }, token);
    expect(history.errors).toBeUndefined();
    expect((await run('SalesReport', { first: 100 }, await adminToken())).errors).toBeUndefined();
    const introspection = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    });
    const response = await post({ query: introspection });
    expect(response.errors).toBeUndefined();
    expect(response.data.__schema.types.length).toBeGreaterThan(10);
  });
});

describe('transport', () => {
  it('answers a 3 MB body with 413 and a JSON error, and runs nothing', async () => {
    const email = `big-${randomUUID()}@test.shop`;
    const body = JSON.stringify({
      query: contractOperation('Register'),
      variables: { input: { email, password: 'long enough', name: 'x'.repeat(3 * 1024 * 1024) } },
    });
    const response = await raw(routerUrl(), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    await cannotLogIn(email);
  });

  it('refuses an array batch with 400 and a clear message', async () => {
    const email = `batch-${randomUUID()}@test.shop`;
    const response = await raw(routerUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { query: contractOperation('Register'), variables: { input: { email, password: 'long enough', name: 'B' } } },
        { query: '{ __typename }' },
      ]),
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0]).toMatchObject({ message: 'Operation batching disabled.', extensions: { code: 'BAD_REQUEST' } });
    await cannotLogIn(email);
  });

  it('refuses a mutation over GET, with or without a CSRF preflight header', async () => {
    const email = `get-${randomUUID()}@test.shop`;
    const url = new URL(routerUrl());
    url.searchParams.set('query', `mutation { ${registerField(email)} }`);
    const preflighted = await raw(url.toString(), { headers: { 'apollo-require-preflight': 'true' } });
    expect(preflighted.status).toBe(405);
    expect(preflighted.body.errors[0].message).toMatch(/GET requests only support query operations/);
    const simple = await raw(url.toString());
    expect(simple.status).toBe(400);
    expect(simple.body.errors[0].message).toMatch(/Cross-Site Request Forgery/);
    await cannotLogIn(email, 'long enough');
  });

  it.each([
    ['text/plain', (body: string) => body],
    ['application/x-www-form-urlencoded', (body: string) => new URLSearchParams({ query: body }).toString()],
    [
      'multipart/form-data; boundary=x',
      (body: string) => `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${body}\r\n--x--`,
    ],
  ])('refuses a %s body with 415 before reading it', async (contentType, encode) => {
    const email = `simple-${randomUUID()}@test.shop`;
    const body = JSON.stringify({ query: `mutation { ${registerField(email)} }` });
    const response = await raw(routerUrl(), { method: 'POST', headers: { 'content-type': contentType }, body: encode(body) });
    expect(response.status).toBe(415);
    expect(response.body.errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    await cannotLogIn(email);
  });

  it('answers malformed JSON with 400 and a GraphQL-style JSON error', async () => {
    const response = await raw(routerUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": "{ me { id } }",',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('allows CORS for Apollo Sandbox only, when CORS_ORIGINS is unset', async () => {
    const preflight = (origin: string) =>
      fetch(routerUrl(), {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    expect((await preflight('https://studio.apollographql.com')).headers.get('access-control-allow-origin')).toBe(
      'https://studio.apollographql.com',
    );
    expect((await preflight('https://shop.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers introspection and suggests field names in development', async () => {
    const response = await post({ query: '{ me { nme } }' });
    expect(response.errors![0]!.message).toMatch(/Did you mean "name"\?/);
    expect((await post({ query: '{ __schema { queryType { name } } }' })).data.__schema.queryType.name).toBe('Query');
  });
});

describe('input', () => {
  it('gives BAD_USER_INPUT (HTTP 400) for variables of the wrong type, before any subgraph is called', async () => {
    await expectRefusedAtRouter(() => run('Catalogue', { first: 'ten' }), 'BAD_USER_INPUT');
    await expectRefusedAtRouter(() => run('Register', { input: { email: 42, password: 'long enough', name: 'N' } }), 'BAD_USER_INPUT');
    const sku = `SKU-${randomUUID()}`;
    const input = { sku, name: 'Typed', description: '', category: 'typed', price: { amount: '10.00', currency: 'USD' }, stock: 1 };
    await expectRefusedAtRouter(() => run('CreateProduct', { input }, undefined), 'BAD_USER_INPUT');
    expect((await run('ProductBySku', { sku })).data.productBySku).toBeNull();
  });

  it('treats SQL-looking and wildcard search text as plain text', async () => {
    const category = `search-${randomUUID()}`;
    await createProduct({ category, name: '100% wool_blend scarf' });
    await createProduct({ category, name: 'Plain scarf' });
    const search = async (text: string) => {
      const response = await run('Catalogue', { filter: { category, search: text }, first: 10 });
      expect(response.errors).toBeUndefined();
      return response.data.products.edges.map((edge: any) => edge.node.name).sort();
    };
    expect(await search("'; drop table products; --")).toEqual([]);
    expect(await search("' or '1'='1")).toEqual([]);
    expect(await search('%')).toEqual(['100% wool_blend scarf']);
    expect(await search('_')).toEqual(['100% wool_blend scarf']);
    expect(await search('scarf')).toEqual(['100% wool_blend scarf', 'Plain scarf']);
  });

  it.each([
    ['a name over 100 characters', { name: 'n'.repeat(101) }],
    ['an email over 254 characters', { email: `${'e'.repeat(250)}@test.shop` }],
  ])('refuses a registration with %s and creates nothing', async (_case, override) => {
    const input = { email: `long-${randomUUID()}@test.shop`, password: 'long enough', name: 'Long', ...override };
    const response = await run('Register', { input });
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    await cannotLogIn(input.email);
  });

  it.each([
    ['a sku over 64 characters', { sku: `SKU-${'s'.repeat(61)}` }],
    ['a name over 200 characters', { name: 'n'.repeat(201) }],
    ['a description over 5000 characters', { description: 'd'.repeat(5001) }],
    ['a category over 64 characters', { category: 'c'.repeat(65) }],
  ])('refuses a product with %s and creates nothing', async (_case, override) => {
    const category = `long-${randomUUID().slice(0, 8)}`;
    const input = {
      sku: `SKU-${randomUUID()}`,
      name: 'Long',
      description: '',
      category,
      price: { amount: 100, currency: 'USD' },
      stock: 1,
      ...override,
    };
    const response = await run('CreateProduct', { input }, await adminToken());
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    expect((await run('Catalogue', { filter: { category: input.category }, first: 1 })).data?.products?.totalCount ?? 0).toBe(0);
  });

  it('refuses search text over 100 characters', async () => {
    expect(codes(await run('Catalogue', { filter: { search: 's'.repeat(101) } }))).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses an order of more than 50 lines, and no stock moves', async () => {
    const { token } = await registerCustomer();
    const product = await createProduct({ stock: 100 });
    const items = Array.from({ length: 51 }, () => ({ productId: product.id, quantity: 1 }));
    expect(codes(await placeOrder(token, items))).toEqual(['BAD_USER_INPUT']);
    expect(await stockOf(product.id)).toBe(100);
    expect((await run('OrderHistory', {}, token)).data.me.orders.totalCount).toBe(0);
  });

  it('refuses a forged admin token, and creates nothing with it', async () => {
    const { user } = await registerCustomer();
    const forged = await forgedAdminToken(user.id);
    const unsigned = unsignedAdminToken(user.id);
    for (const token of [forged, unsigned]) {
      const sku = `FORGED-${randomUUID()}`;
      const input = { sku, name: 'Forged', description: '', category: 'forged', price: { amount: 1, currency: 'USD' }, stock: 1 };
      const response = await run('CreateProduct', { input }, token);
      expect(codes(response)).toEqual(['UNAUTHENTICATED']);
      expect((await run('ProductBySku', { sku })).data.productBySku).toBeNull();
    }
  });
});

describe('entities reached directly (the shared stack has no ROUTER_SECRET)', () => {
  const entities = (service: string, representation: object, selection: string, token?: string) =>
    post(
      { query: `query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`, variables: { r: [representation] } },
      token,
      serviceUrl(service),
    );

  it("checks authorization in __resolveReference: another customer's account and order are FORBIDDEN", async () => {
    const owner = await registerCustomer();
    const stranger = await registerCustomer();
    const product = await createProduct();
    const order = (await placeOrder(owner.token, [{ productId: product.id, quantity: 1 }])).data.placeOrder.order;
    const user = await entities('users', { __typename: 'User', id: owner.user.id }, '... on User { email }', stranger.token);
    expect(codes(user)).toEqual(['FORBIDDEN']);
    const theirs = await entities('orders', { __typename: 'Order', id: order.id }, '... on Order { id }', stranger.token);
    expect(codes(theirs)).toEqual(['FORBIDDEN']);
    const anonymous = await entities('orders', { __typename: 'Order', id: order.id }, '... on Order { id }');
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
  });

  it('never takes a price from a representation', async () => {
    const product = await createProduct({ price: 4321 });
    const response = await entities(
      'products',
      { __typename: 'Product', id: product.id, price: { amount: 1, currency: 'USD' }, priceAmount: 1, stock: 999 },
      '... on Product { price { amount } stock }',
    );
    expect(response.data._entities).toEqual([{ price: { amount: 4321 }, stock: product.stock }]);
  });
});

describe('login timing', () => {
  it('gives the same error in about the same time whether or not the email exists', async () => {
    const { email } = await registerCustomer();
    const attempt = async (address: string) => {
      const started = performance.now();
      const response = await run('Login', { input: { email: address, password: 'not the password' } });
      expect(codes(response)).toEqual(['INVALID_CREDENTIALS']);
      return { elapsed: performance.now() - started, message: response.errors![0]!.message };
    };
    await attempt(`warm-${randomUUID()}@test.shop`); // the decoy hash is made on first use
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const a = await attempt(email);
      const b = await attempt(`nobody-${randomUUID()}@test.shop`);
      expect(a.message).toBe(b.message);
      known.push(a.elapsed);
      unknown.push(b.elapsed);
    }
    const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
    const ratio = median(known) / median(unknown);
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  });
});

// ---------- a stack of this file's own: production mode, ROUTER_SECRET, short timeouts, small rate limits ----------

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
      expect((await raw(`${stack.router.url}/health`)).status).toBe(200);
      const ready = await raw(`${stack.router.url}/ready`);
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
    // The full detail is in the router's log, under the request id.
    expect(hangingRouter.output).toMatch(/"reqId":"[0-9a-f-]{36}".*"subgraph":"orders".*subgraph timed out/);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(hangingRouter.output).toContain(response.headers.get('x-request-id'));
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
