import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, ServiceProcess } from '../scripts/stack.js';
import { codes, post, registerCustomer, type GraphQLResponse } from './client.js';

/**
 * Trusted documents on the real router. A router of this file's own runs with PERSISTED_QUERIES=safelist against
 * the shared stack's subgraphs; the shared router runs in the default mode, allow.
 */
const manifest = JSON.parse(readFileSync(new URL('../schema/persisted-query-manifest.json', import.meta.url), 'utf8')) as {
  operations: { id: string; name: string; body: string }[];
};
const operation = (name: string) => manifest.operations.find((entry) => entry.name === name)!;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const byId = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

let safelist: ServiceProcess;
const safelistUrl = () => `${safelist.url}/graphql`;

beforeAll(async () => {
  const urls = inject('serviceUrls');
  safelist = new ServiceProcess('router', await freePort(), {
    ...(JSON.parse(inject('stackEnv')) as Record<string, string>),
    PERSISTED_QUERIES: 'safelist',
    USERS_URL: `${urls.users}/graphql`,
    PRODUCTS_URL: `${urls.products}/graphql`,
    ORDERS_URL: `${urls.orders}/graphql`,
  });
  await safelist.start();
});

afterAll(async () => {
  await safelist?.stop();
});

function expectRefused(response: GraphQLResponse) {
  expect(response.status).toBe(400);
  expect(codes(response)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
  expect(response.data).toBeUndefined();
}

describe('PERSISTED_QUERIES=safelist', () => {
  it('runs a query by its manifest id, over POST and GET', async () => {
    const sent = await post(
      { operationName: 'Catalogue', variables: { first: 2 }, extensions: byId(operation('Catalogue').id) },
      undefined,
      safelistUrl(),
    );
    expect(sent.errors).toBeUndefined();
    expect(sent.data.products).toMatchObject({ edges: expect.any(Array), totalCount: expect.any(Number) });

    const search = new URLSearchParams({
      operationName: 'Catalogue',
      variables: JSON.stringify({ first: 1 }),
      extensions: JSON.stringify(byId(operation('Catalogue').id)),
    });
    const response = await fetch(`${safelistUrl()}?${search}`, { headers: { 'apollo-require-preflight': 'true' } });
    const body = (await response.json()) as { data: { products: { edges: unknown[] } } };
    expect(response.status).toBe(200);
    expect(body.data.products).toMatchObject({ edges: expect.any(Array), totalCount: expect.any(Number) });
  });

  it('runs a mutation by its manifest id, with the token it is sent with', async () => {
    const customer = await registerCustomer('Safelisted Buyer');
    const login = await post(
      {
        operationName: 'Login',
        variables: { input: { email: customer.email, password: customer.password } },
        extensions: byId(operation('Login').id),
      },
      undefined,
      safelistUrl(),
    );
    expect(login.errors).toBeUndefined();
    const me = await post({ operationName: 'Me', extensions: byId(operation('Me').id) }, login.data.login.token, safelistUrl());
    expect(me.data.me.email).toBe(customer.email);
  });

  it("runs a full document that is the manifest's text", async () => {
    const { body } = operation('Catalogue');
    const response = await post({ query: body, operationName: 'Catalogue', variables: { first: 1 } }, undefined, safelistUrl());
    expect(response.errors).toBeUndefined();
    expect(response.data.products).toMatchObject({ edges: expect.any(Array), totalCount: expect.any(Number) });
  });

  it('refuses any other document with PERSISTED_QUERY_NOT_IN_LIST, also over GET and inside a batch', async () => {
    expectRefused(await post({ query: '{ __typename }' }, undefined, safelistUrl()));
    // A contract operation without the __typename fields Apollo Client adds is a different document.
    expectRefused(await post({ query: '{ products(first: 1) { totalCount } }' }, undefined, safelistUrl()));
    expectRefused(await post({ query: '{ __schema { types { name } } }' }, undefined, safelistUrl()));
    expectRefused(await post([{ query: operation('Catalogue').body }, { query: '{ __typename }' }], undefined, safelistUrl()));
    const response = await fetch(`${safelistUrl()}?${new URLSearchParams({ query: '{ __typename }' })}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } }] });
  });

  it('refuses an id that is not in the manifest, and never registers one (no APQ)', async () => {
    expectRefused(await post({ extensions: byId(randomBytes(32).toString('hex')) }, undefined, safelistUrl()));
    const query = `query Unlisted${randomUUID().slice(0, 8)} { __typename }`;
    expectRefused(await post({ query, extensions: byId(sha256(query)) }, undefined, safelistUrl()));
    expectRefused(await post({ extensions: byId(sha256(query)) }, undefined, safelistUrl()));
  });
});

describe('PERSISTED_QUERIES=allow (the default)', () => {
  it('runs full documents, manifest ids and their text', async () => {
    expect((await post({ query: '{ __typename }' })).data).toEqual({ __typename: 'Query' });
    const byManifestId = await post({ operationName: 'Catalogue', variables: { first: 1 }, extensions: byId(operation('Catalogue').id) });
    expect(byManifestId.errors).toBeUndefined();
    expect(byManifestId.data.products).toMatchObject({ edges: expect.any(Array), totalCount: expect.any(Number) });
  });

  it('keeps automatic persisted queries: an unknown hash is registered by sending its document once', async () => {
    const query = `query Apq${randomUUID().slice(0, 8)} { __typename }`;
    const hash = sha256(query);
    expect(codes(await post({ extensions: byId(hash) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect((await post({ query, extensions: byId(hash) })).data).toEqual({ __typename: 'Query' });
    expect((await post({ extensions: byId(hash) })).data).toEqual({ __typename: 'Query' });
  });

  it('still checks that a registered document matches its hash', async () => {
    const response = await post({ query: '{ __typename }', extensions: byId(randomBytes(32).toString('hex')) });
    expect(response.status).toBe(400);
    expect(response.data).toBeUndefined();
  });
});
