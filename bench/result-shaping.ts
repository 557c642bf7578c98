/**
 * Microbenchmark of the router's hottest path, on one OrderHistory page of 20 orders of 3 lines each (the same 3
 * products): shaping the merged subgraph data into the client's response and serializing it, with the gateway's
 * own computeResponse and with router/src/result-shaping.ts (also with prototype-named aliases, which take
 * null-prototype objects), and spreading the products fetch's deduped answer back over its 60 positions.
 *   npx tsx bench/result-shaping.ts [rounds]
 */
import { readFileSync } from 'node:fs';
import { Supergraph, operationFromDocument, type Operation } from '@apollo/federation-internals';
import { parse } from 'graphql';
import { dedupeRepresentations, expandEntities } from '../router/src/entity-dedupe.js';
import { gatewayComputeResponse } from '../router/src/patches/gateway-result-shaping.js';
import { compiledComputeResponse, type ComputeResponse } from '../router/src/result-shaping.js';

const ROOT = new URL('../', import.meta.url);
const apiSchema = Supergraph.build(readFileSync(new URL('schema/supergraph.graphql', ROOT), 'utf8')).apiSchema();
const contract = parse(readFileSync(new URL('schema/operations/storefront.graphql', ROOT), 'utf8'));
const history = operationFromDocument(apiSchema, contract, { operationName: 'OrderHistory' });
const aliased = operationFromDocument(
  apiSchema,
  parse(`query {
    me { id constructor: name
      orders(first: 20) { totalCount pageInfo { hasNextPage endCursor }
        edges { node { id status createdAt total { amount currency }
          items { quantity unitPrice { amount currency } product { id sku valueOf: name price { amount currency } } } } } } } }`),
);

const money = (amount: number) => ({ amount, currency: 'USD' });
const product = (n: number, nameKey = 'name') => ({
  __typename: 'Product',
  id: `00000000-0000-0000-0000-00000000000${n}`,
  sku: `SKU-${n}`,
  [nameKey]: `Product ${n}`,
  price: money(1000 + n),
});

/** What the gateway has merged before shaping: subgraph JSON with the keys and __typenames the planner added. */
function mergedData(nameKey: string, productNameKey: string): Record<string, unknown> {
  const order = (n: number) => ({
    __typename: 'Order',
    id: `10000000-0000-0000-0000-0000000000${String(n).padStart(2, '0')}`,
    status: 'PAID',
    createdAt: '2026-11-27T09:15:00.000Z',
    total: money(6000 + n),
    items: [1, 2, 3].map((line) => ({ quantity: line, unitPrice: money(1000 + line), product: product(line, productNameKey) })),
  });
  const me = {
    __typename: 'User',
    id: '20000000-0000-0000-0000-000000000000',
    [nameKey]: 'Ada',
    orders: {
      totalCount: 40,
      pageInfo: { hasNextPage: true, endCursor: 'cursor' },
      edges: Array.from({ length: 20 }, (_, n) => ({ node: order(n) })),
    },
  };
  // The gateway's merged root has a null prototype; what it merged in came from JSON.parse.
  return Object.assign(Object.create(null), JSON.parse(JSON.stringify({ me })));
}

function shaping(shape: ComputeResponse, operation: Operation, input: Record<string, unknown>) {
  return () => JSON.stringify(shape({ operation, variables: { first: 20 }, input, introspectionHandling: () => null }).data);
}

const representations = Array.from({ length: 60 }, (_, i) => ({ __typename: 'Product', id: product((i % 3) + 1).id }));
const deduped = dedupeRepresentations(representations)!;
const productsAnswer = JSON.stringify({ data: { _entities: [1, 2, 3].map((n) => product(n)) } });

const cases: [string, () => unknown][] = [
  ['OrderHistory shaping, gateway computeResponse', shaping(gatewayComputeResponse, history, mergedData('name', 'name'))],
  ['OrderHistory shaping, compiled', shaping(compiledComputeResponse, history, mergedData('name', 'name'))],
  ['prototype-named aliases, gateway computeResponse', shaping(gatewayComputeResponse, aliased, mergedData('constructor', 'valueOf'))],
  ['prototype-named aliases, compiled', shaping(compiledComputeResponse, aliased, mergedData('constructor', 'valueOf'))],
  ['products answer: JSON.parse + expandEntities', () => expandEntities(JSON.parse(productsAnswer), deduped)],
];

/** Median microseconds per run; the cases take turns within each round, so that load hits them all alike. */
function measure(rounds: number, iterations = 1_000): number[] {
  for (const [, run] of cases) for (let i = 0; i < iterations; i++) run();
  const perRound = cases.map((): number[] => []);
  for (let round = 0; round < rounds; round++) {
    cases.forEach(([, run], index) => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) run();
      perRound[index]!.push(Number(process.hrtime.bigint() - started) / 1_000 / iterations);
    });
  }
  return perRound.map((times) => times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!);
}

const rounds = Number(process.argv[2] ?? 21);
measure(rounds).forEach((micros, index) =>
  console.log(`${cases[index]![0].padEnd(50)} ${micros.toFixed(1).padStart(8)} us (median of ${rounds} rounds)`),
);
