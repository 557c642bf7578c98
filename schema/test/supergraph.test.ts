import { existsSync, readFileSync } from 'node:fs';
import { Kind, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { contractViolations } from '../api-schema.js';
import { contractSchemaOf } from '../check-schema.js';
import { composeSupergraph, CONTRACT_FILE, REALTIME_CONTRACT_FILE, SUPERGRAPH_FILE } from '../subgraphs.js';

/** The shared client contract, `../shared/contract/storefront.graphql` from the repository root. */
const SHARED_CONTRACT_FILE = new URL('../../../shared/contract/storefront.graphql', import.meta.url);
/** The shared realtime contract, `../shared/contract/realtime.graphql`. */
const SHARED_REALTIME_FILE = new URL('../../../shared/contract/realtime.graphql', import.meta.url);

/** Every operation the storefront and admin console send. */
const CONTRACT_OPERATIONS = [
  'Register',
  'Login',
  'Me',
  'Catalogue',
  'ProductPage',
  'ProductBySku',
  'PlaceOrder',
  'PayOrder',
  'CancelOrder',
  'OrderHistory',
  'OrderDetail',
  'CreateProduct',
  'UpdateProduct',
  'RestockProduct',
  'SalesReport',
  'Customers',
];

describe('schema/supergraph.graphql', () => {
  const committed = readFileSync(SUPERGRAPH_FILE, 'utf8');

  it('is exactly what composing the subgraph SDL files produces now (run npm run compose when this fails)', () => {
    const composition = composeSupergraph();
    expect(composition.errors).toBeUndefined();
    expect(composition.supergraphSdl === committed, 'schema/supergraph.graphql is stale: run npm run compose').toBe(true);
  });

  it('validates every contract operation against its API schema', () => {
    expect(contractViolations(contractSchemaOf(committed))).toEqual([]);
  });
});

describe('schema/operations/storefront.graphql', () => {
  const copy = readFileSync(CONTRACT_FILE, 'utf8');

  it('has every operation of the client contract, each once', () => {
    const names = parse(copy)
      .definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION)
      .map((d) => (d.kind === Kind.OPERATION_DEFINITION ? d.name?.value : undefined));
    expect(names).toEqual(CONTRACT_OPERATIONS);
  });

  it('is byte-identical to ../shared/contract/storefront.graphql when that file is there', () => {
    if (existsSync(SHARED_CONTRACT_FILE)) {
      expect(
        readFileSync(SHARED_CONTRACT_FILE).equals(readFileSync(CONTRACT_FILE)),
        'schema/operations/storefront.graphql differs from the shared contract',
      ).toBe(true);
    } else {
      // Without the shared contract to compare with, hold the copy to what it must be on its own: a document of
      // named operations only (no stray fragments or schema definitions) that validates against the supergraph.
      const document = parse(copy);
      expect(document.definitions.every((d) => d.kind === Kind.OPERATION_DEFINITION && d.name)).toBe(true);
      expect(contractViolations(contractSchemaOf(composeSupergraph().supergraphSdl!), copy)).toEqual([]);
    }
  });
});

describe('schema/operations/realtime.graphql', () => {
  const copy = readFileSync(REALTIME_CONTRACT_FILE, 'utf8');

  it('has the two subscriptions of the realtime contract, each once', () => {
    const operations = parse(copy).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    expect(operations.map((d) => [d.operation, d.name?.value])).toEqual([
      ['subscription', 'OrderUpdates'],
      ['subscription', 'StockUpdates'],
    ]);
  });

  it('validates against the API schema of the committed supergraph', () => {
    expect(contractViolations(contractSchemaOf(readFileSync(SUPERGRAPH_FILE, 'utf8')), copy)).toEqual([]);
  });

  it('is byte-identical to ../shared/contract/realtime.graphql when that file is there', () => {
    if (!existsSync(SHARED_REALTIME_FILE)) return;
    expect(
      readFileSync(SHARED_REALTIME_FILE).equals(readFileSync(REALTIME_CONTRACT_FILE)),
      'schema/operations/realtime.graphql differs from the shared contract',
    ).toBe(true);
  });
});
