import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PeerProcess } from '../bench/peers/index.js';
import { freePort } from '../scripts/stack.js';
import { adminToken, createProduct, placeOrder, registerCustomer } from './client.js';

// Response names that are also members of Object.prototype must come back exactly as a stock @apollo/gateway
// returns them, at every level: the router's own result shaping once read them from the prototype of its
// response objects (issue 12). The stock gateway runs as a process of its own over the same subgraphs.

const PROTOTYPE_NAMES = [
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
] as const;

let stock: PeerProcess;
let stockUrl: string;
let directory: string;
let customerToken: string;
let productId: string;

beforeAll(async () => {
  const serviceUrls = inject('serviceUrls');
  let supergraph = readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8');
  for (const name of ['users', 'products', 'orders']) {
    supergraph = supergraph.replace(new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]*`), `$1${serviceUrls[name]}/graphql`);
  }
  directory = mkdtempSync(path.join(tmpdir(), 'stock-gateway-'));
  writeFileSync(path.join(directory, 'supergraph.graphql'), supergraph);
  stock = new PeerProcess('apollo', await freePort(), {
    APOLLO_TELEMETRY_DISABLED: '1',
    SUPERGRAPH_FILE: path.join(directory, 'supergraph.graphql'),
  });
  await stock.start();
  stockUrl = `${stock.url}/graphql`;

  const product = await createProduct({ name: 'Prototype lamp', price: 2500, stock: 50 });
  productId = product.id;
  const customer = await registerCustomer('Prototype Tester');
  customerToken = customer.token;
  for (let order = 0; order < 2; order++) {
    const placed = await placeOrder(customerToken, [{ productId, quantity: 1 }]);
    expect(placed.errors).toBeUndefined();
  }
}, 180_000);

afterAll(async () => {
  await stock?.stop();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

/** The JSON body both gateways answer, as text, so that a key order or a dropped key shows. */
async function bothAnswer(query: string, token?: string, variables: Record<string, unknown> = {}) {
  const send = async (url: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: await response.text() };
  };
  const [router, gateway] = await Promise.all([send(inject('routerUrl')), send(stockUrl)]);
  return { router, gateway };
}

async function expectSameAnswer(query: string, token?: string, variables?: Record<string, unknown>) {
  const { router, gateway } = await bothAnswer(query, token, variables);
  expect({ query, ...router }).toEqual({ query, ...gateway });
  return JSON.parse(gateway.body) as { data?: any; errors?: unknown[] };
}

describe('prototype-named response names, through the router and a stock @apollo/gateway', () => {
  it('answers the issue 12 repros as the stock gateway does', async () => {
    const typename = await expectSameAnswer('{ constructor: __typename }');
    expect(typename).toEqual({ data: { constructor: 'Query' } });

    const total = await expectSameAnswer('{ toString: products(first: 1) { totalCount } }');
    expect(total.errors).toBeUndefined();
    expect(total.data.toString.totalCount).toBeGreaterThan(0);

    const entity = await expectSameAnswer(
      `{ me { orders(first: 1) { edges { node { items { product { valueOf: name hasOwnProperty: id } } } } } } }`,
      customerToken,
    );
    expect(entity.data.me.orders.edges[0].node.items[0].product).toEqual({ valueOf: 'Prototype lamp', hasOwnProperty: productId });
  });

  it.each(PROTOTYPE_NAMES)('answers %s as an alias at every level as the stock gateway does', async (name) => {
    // Root fields: a leaf (__typename), an object and a list.
    const root = await expectSameAnswer(`{ ${name}: __typename p: product(id: "${productId}") { ${name}: name } }`);
    expect(root.data[name]).toBe('Query');
    expect(root.data.p[name]).toBe('Prototype lamp');

    // An object under an object, list items, and merged repeated response names.
    const nested = await expectSameAnswer(
      `{ ${name}: products(first: 3) { edges { ${name}: node { ${name}: name ${name}: name id } } ${name}: totalCount } }`,
    );
    // The same response name twice at one level is refused by validation unless the fields merge; on different levels it is fine.
    expect(nested.errors).toBeUndefined();

    // Entity fields from another subgraph, inside a named and an inline fragment, with __typename aliased.
    const entity = await expectSameAnswer(
      `query History($yes: Boolean!) {
        me { ${name}: orders(first: 2) { edges { node { ...Lines } } } }
      }
      fragment Lines on Order {
        ${name}: items {
          product @include(if: $yes) {
            ... on Product { ${name}: name kind: __typename }
            ${name}: name
            id
          }
          ${name}_quantity: quantity
        }
        buyer { ${name}: name }
      }`,
      customerToken,
      { yes: true },
    );
    const order = entity.data.me[name].edges[0].node;
    expect(order[name][0].product).toEqual({ [name]: 'Prototype lamp', kind: 'Product', id: productId });
    expect(order.buyer).toEqual({ [name]: 'Prototype Tester' });
  });

  it('answers prototype-named aliases in the same operation as other fields as the stock gateway does', async () => {
    // All of them at once, on a field owned by another subgraph than the one that returned the entity.
    const aliases = PROTOTYPE_NAMES.slice(0, 10)
      .map((name) => `${name}: name`)
      .join(' ');
    await expectSameAnswer(`{ me { orders(first: 1) { edges { node { items { product { ${aliases} } } } } } } }`, customerToken);
    const admin = await adminToken();
    await expectSameAnswer(`{ product(id: "${productId}") { sales { constructor: unitsSold valueOf: revenue { amount } } } }`, admin);
  });
});
