import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import {
  adminToken,
  codes,
  contractOperation,
  createProduct,
  forgedAdminToken,
  placeOrder,
  post,
  registerCustomer,
  run,
  stockOf,
  unsignedAdminToken,
} from './client.js';
import { cannotLogIn, expectRefusedAtRouter, raw, registerField, routerUrl } from './security.js';

/**
 * The hardened edge on the shared test stack (development settings): transport and CSRF, input bounds, entities
 * reached directly, and login timing.
 */

const serviceUrl = (name: string) => `${inject('serviceUrls')[name]}/graphql`;

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
