import { describe, expect, inject, it } from 'vitest';
import { codes, post } from './client.js';

describe('the router', () => {
  it('keeps _entities and _service internal', async () => {
    const entities = await post({ query: '{ _entities(representations: [{ __typename: "User", id: "x" }]) { __typename } }' });
    expect(codes(entities)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const service = await post({ query: '{ _service { sdl } }' });
    expect(codes(service)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('hides the internal stock mutations of the products subgraph', async () => {
    const response = await post({ query: 'mutation { releaseStock(orderId: "00000000-0000-0000-0000-000000000000") { state } }' });
    expect(codes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('answers introspection in development, without federation internals', async () => {
    const response = await post({ query: '{ __schema { queryType { fields { name } } } }' });
    const fields = response.data.__schema.queryType.fields.map((f: { name: string }) => f.name);
    expect(fields).toEqual(expect.arrayContaining(['me', 'users', 'products', 'product', 'productBySku', 'order']));
    expect(fields).not.toContain('_entities');
  });

  it('allows CORS from Apollo Sandbox and not from an unknown origin', async () => {
    const preflight = (origin: string) =>
      fetch(inject('routerUrl'), {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
    const sandbox = await preflight('https://studio.apollographql.com');
    expect(sandbox.headers.get('access-control-allow-origin')).toBe('https://studio.apollographql.com');
    const stranger = await preflight('https://evil.example');
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves a landing page to browsers', async () => {
    const response = await fetch(inject('routerUrl'), { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain('Apollo');
  });

  it("echoes a client's request id marked as the client's, and makes one for a request without a plain one", async () => {
    const given = await post({ query: '{ __typename }' }, undefined, undefined, { 'x-request-id': 'test-request-42' });
    expect(given.headers.get('x-request-id')).toBe('client:test-request-42');
    const made = await post({ query: '{ __typename }' });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // An id that could pass for the router's own, or that is not plain text, is never taken as it is.
    const uuid = '9c2b6f2e-5d0a-4c52-9d5e-6f1c1f0e8a11';
    expect((await post({ query: '{ __typename }' }, undefined, undefined, { 'x-request-id': uuid })).headers.get('x-request-id')).toBe(
      `client:${uuid}`,
    );
    const odd = await post({ query: '{ __typename }' }, undefined, undefined, { 'x-request-id': 'a b\u00e9'.repeat(3) });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
