import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { graphqlClient } from '@shop/subgraph/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The products subgraph in-process, on its own embedded database, asked what the router asks it: `_entities`
 * through fastify's request injection, with no port opened.
 */
let server: Awaited<ReturnType<typeof import('../../src/server.js').buildServer>>;
let dataDir: string;
let adminToken: string;

let graphql: ReturnType<typeof graphqlClient>;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'products-entities-'));
  process.env.DATA_DIR = dataDir;
  delete process.env.PRODUCTS_DATABASE_URL;
  const { buildServer } = await import('../../src/server.js');
  const { signToken } = await import('@shop/subgraph');
  server = await buildServer();
  graphql = graphqlClient(server.app);
  adminToken = await signToken({ id: '00000000-0000-4000-8000-000000000001', role: 'ADMIN' });
}, 60_000);

afterAll(async () => {
  await server?.app.close();
  await rm(dataDir, { recursive: true, force: true });
});

const CREATE = `mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } } }`;
const ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { id name price { amount } stock } } }`;

describe('Product entities', () => {
  it('resolves references by id alone, in order, with null for unknown ids', async () => {
    const ids: string[] = [];
    for (const [name, amount] of [
      ['Red', 100],
      ['Green', 200],
      ['Blue', 300],
    ] as const) {
      const created = await graphql(
        CREATE,
        { input: { sku: `E-${name}`, name, description: '', category: 'paint', price: { amount, currency: 'USD' }, stock: 5 } },
        adminToken,
      );
      ids.push(created.data.createProduct.product.id);
    }
    // A representation carrying a price is ignored: prices come from the catalogue only.
    const representations = [
      { __typename: 'Product', id: ids[2], price: { amount: 1, currency: 'USD' } },
      { __typename: 'Product', id: '00000000-0000-4000-8000-00000000dead' },
      { __typename: 'Product', id: ids[0] },
      { __typename: 'Product', id: 'not-a-uuid' },
    ];
    const result = await graphql(ENTITIES, { representations });
    expect(result.errors).toBeUndefined();
    expect(result.data._entities).toEqual([
      { id: ids[2], name: 'Blue', price: { amount: 300 }, stock: 5 },
      null,
      { id: ids[0], name: 'Red', price: { amount: 100 }, stock: 5 },
      null,
    ]);
  });

  it('keeps the internal stock mutations for the orders service only', async () => {
    const release = `mutation { releaseStock(orderId: "00000000-0000-4000-8000-000000000abc") { state } }`;
    expect((await graphql(release)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await graphql(release, {}, adminToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
