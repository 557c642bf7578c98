import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { createGraphQLService } from '../src/http.js';

// The graphql instance @apollo/server loads (CommonJS): vitest would give this file the ES module one.
const { buildSchema } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/**
 * On SIGTERM a service first announces its shutdown (SHUTDOWN_NOTICE_MS): its port stays open, and new requests
 * get 503 with `connection: close`. The router reads that as a restart and keeps retrying queries through it,
 * where refused connections alone would soon count as an outage (router/src/circuit-breaker.ts).
 */
describe('the shutdown notice', async () => {
  const service = await createGraphQLService({
    name: 'notice-test',
    schema: buildSchema('type Query { hello: String }'),
    context: async () => ({}),
    readiness: async () => ({ always: true }),
  });
  const address = await service.app.listen({ port: 0, host: '127.0.0.1' });
  await service.ops.listen({ port: 0, host: '127.0.0.1' });
  const opsPort = (service.ops.server.address() as { port: number }).port;
  afterAll(async () => {
    await service.app.close();
    await service.ops.close();
  });
  const ask = () =>
    fetch(`${address}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });

  it('answers normally, then 503 with connection: close once announced, and /ready turns 503', async () => {
    expect((await ask()).status).toBe(200);
    service.announceShutdown();
    const refused = await ask();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('connection')).toBe('close');
    expect(await refused.json()).toEqual({ errors: [{ message: 'The service is shutting down', extensions: { code: 'SHUTTING_DOWN' } }] });
    expect((await fetch(`http://127.0.0.1:${opsPort}/ready`)).status).toBe(503);
  });
});
