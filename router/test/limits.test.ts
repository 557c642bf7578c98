import { readFileSync } from 'node:fs';
import { Supergraph, printSchema } from '@apollo/federation-internals';
import {
  Kind,
  buildSchema,
  getIntrospectionQuery,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type GraphQLError,
  type OperationDefinitionNode,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { costLimitPlugin, estimateCost, limitRules, type OperationLimits } from '../src/limits.js';

// The operation limits against the real API schema: the cost estimate, the validation rules, and the cost
// plugin's per-document cache. Nothing here reaches a subgraph; test/limits.test.ts sends the same attacks
// through the real router.

const root = new URL('../../', import.meta.url);
// Built with this module's graphql-js from the API schema's SDL: federation-internals' own GraphQLSchema
// comes from the CommonJS copy of graphql-js, which vitest does not give this file.
const schema = buildSchema(printSchema(Supergraph.build(readFileSync(new URL('schema/supergraph.graphql', root), 'utf8')).apiSchema()));
const contract = parse(readFileSync(new URL('schema/operations/storefront.graphql', root), 'utf8'));

/** The defaults of docs/security.md, spelled out so that no environment variable changes them under the test. */
const limits: OperationLimits = { depth: 10, aliases: 15, rootFields: 10, tokens: 1_000, directives: 50, cost: 5_000, listSize: 10 };

function cost(query: string, variables: Record<string, unknown> = {}, operationName?: string): number {
  const document = parse(query);
  return estimateCost(schema, getOperationAST(document, operationName)!, document, variables, limits.listSize);
}

function limitErrors(query: string): { code: unknown; message: string }[] {
  return validate(schema, parse(query), [...specifiedRules, ...limitRules(limits)]).map((error) => ({
    code: error.extensions.code,
    message: error.message,
  }));
}

/** Nested orders pages: `first` objects at each of two levels, plus the user and the connection objects. */
const nested = (first: string, directives = '') =>
  `me { orders(first: ${first}) ${directives} { edges { node { buyer { orders(first: ${first}) { edges { node { id } } } } } } } }`;
const NESTED_100 = 1 + 1 + 100 * (1 + 1 + 1 + (1 + 100 * (1 + 1)));
const NESTED_20 = 1 + 1 + 20 * (1 + 1 + 1 + (1 + 20 * (1 + 1)));

/** Fragments spreading fragments `fanout` times over `levels` levels, around a fragment with `leaf` in it. */
function fragmentBomb(levels: number, fanout: number, leaf: string, spreadDirectives = ''): string {
  let document = `query Bomb { me { ...F${levels} } } fragment F0 on User { ${leaf} }`;
  for (let level = 1; level <= levels; level += 1) {
    document += ` fragment F${level} on User { ${Array.from({ length: fanout }, () => `...F${level - 1} ${spreadDirectives}`).join(' ')} }`;
  }
  return document;
}

describe('the cost estimate', () => {
  it('gives the contract operations their costs, OrderHistory at 100 a page the heaviest', () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const variables: Record<string, Record<string, unknown>> = {
      Register: { input: { email: 'a@test.shop', password: 'long enough', name: 'A' } },
      Login: { input: { email: 'a@test.shop', password: 'long enough' } },
      Catalogue: { first: 100 },
      ProductPage: { id },
      ProductBySku: { sku: 'SKU' },
      PlaceOrder: { input: { items: [{ productId: id, quantity: 1 }], idempotencyKey: 'key' } },
      PayOrder: { input: { orderId: id, paymentToken: 'tok_visa' } },
      CancelOrder: { id },
      OrderHistory: { first: 100 },
      OrderDetail: { id },
      CreateProduct: { input: { sku: 'S', name: 'N', description: 'D', price: { amount: 1, currency: 'USD' }, stock: 1, category: 'c' } },
      UpdateProduct: { id, input: {} },
      RestockProduct: { id, quantity: 1 },
      SalesReport: { first: 100 },
      Customers: { first: 100 },
    };
    const costs = Object.fromEntries(
      contract.definitions
        .filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)
        .map((operation) => [
          operation.name!.value,
          estimateCost(schema, operation, contract, variables[operation.name!.value] ?? {}, limits.listSize),
        ]),
    );
    expect(costs).toEqual({
      Register: 12,
      Login: 12,
      Me: 1,
      Catalogue: 401,
      ProductPage: 2,
      ProductBySku: 1,
      PlaceOrder: 35,
      PayOrder: 12,
      CancelOrder: 12,
      OrderHistory: 3502,
      OrderDetail: 24,
      CreateProduct: 13,
      UpdateProduct: 13,
      RestockProduct: 12,
      SalesReport: 401,
      Customers: 1201,
    });
    expect(cost(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true }))).toBe(0);
  });

  it('reads `first` as the subgraphs do: null or absent is 20, a default applies only when the variable is absent', () => {
    expect(cost(`{ ${nested('100')} }`)).toBe(NESTED_100);
    expect(cost(`{ ${nested('20')} }`)).toBe(NESTED_20);
    expect(cost(`{ ${nested('null')} }`)).toBe(NESTED_20);
    expect(cost(`{ me { orders { edges { node { buyer { orders { edges { node { id } } } } } } } } }`)).toBe(NESTED_20);
    const withoutDefault = `query($n: Int) { ${nested('$n')} }`;
    expect(cost(withoutDefault, {})).toBe(NESTED_20);
    expect(cost(withoutDefault, { n: null })).toBe(NESTED_20);
    expect(cost(withoutDefault, { n: 100 })).toBe(NESTED_100);
    expect(cost(withoutDefault, { n: 1_000_000 })).toBe(NESTED_100);
    const withDefault = `query($n: Int = 100) { ${nested('$n')} }`;
    expect(cost(withDefault, {})).toBe(NESTED_100);
    expect(cost(withDefault, { n: null })).toBe(NESTED_20);
    expect(cost(withDefault, { n: 5 })).toBe(cost(`{ ${nested('5')} }`));
    // A negative `first` is refused by the subgraph: nothing below it is fetched.
    expect(cost(`{ ${nested('-1')} }`)).toBe(2);
  });

  it('leaves out what @skip and @include leave out, on fields, inline fragments and fragment spreads', () => {
    const onField = `query($s: Boolean!, $i: Boolean = true) { ${nested('100', '@skip(if: $s) @include(if: $i)')} }`;
    expect(cost(onField, { s: true })).toBe(1);
    expect(cost(onField, { s: false })).toBe(NESTED_100);
    expect(cost(onField, { s: false, i: false })).toBe(1);
    const inline = `query($s: Boolean = true) { ... @skip(if: $s) { ${nested('100')} } }`;
    expect(cost(inline, {})).toBe(0);
    expect(cost(inline, { s: false })).toBe(NESTED_100);
    const spread = `query($i: Boolean!) { ...Bomb @include(if: $i) } fragment Bomb on Query { ${nested('100')} }`;
    expect(cost(spread, { i: false })).toBe(0);
    expect(cost(spread, { i: true })).toBe(NESTED_100);
    expect(cost(`{ ${nested('100', '@include(if: false)')} }`)).toBe(1);
  });

  it('refuses null for a defaulted @skip variable with BAD_USER_INPUT, as execution would', () => {
    expect(() => cost(`query($s: Boolean = true) { ${nested('100', '@skip(if: $s)')} }`, { s: null })).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    );
    expect(() => cost(`query($n: Int) { ${nested('$n')} }`, { n: 'many' })).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    );
  });

  it('counts a fragment at every spread, and a fragment bomb in linear time', () => {
    const once = cost(`{ me { ...Orders } } fragment Orders on User { orders(first: 10) { edges { node { id } } } }`);
    const twice = cost(
      `{ me { ...Orders ... on User { ...Orders } } } fragment Orders on User { orders(first: 10) { edges { node { id } } } }`,
    );
    expect(twice - 1).toBe(2 * (once - 1));
    // 100^4 spreads of a fragment that costs 1: walking each one would never finish.
    expect(cost(fragmentBomb(4, 100, 'orders(first: 1) { totalCount }'))).toBe(1 + 100 ** 4);
    expect(cost(fragmentBomb(4, 100, 'id name'))).toBe(1);
  });
});

describe('the alias and directive limits count what the operation expands to', () => {
  const fiveAliases = Array.from({ length: 5 }, (_, i) => `a${i}: id`).join(' ');

  it('counts the directives of every fragment spread, repeated or not', () => {
    const spreads = Array.from({ length: 51 }, () => '...Me @include(if: true)').join(' ');
    expect(limitErrors(`{ me { ${spreads} } } fragment Me on User { id }`)).toEqual([
      { code: 'MAX_DIRECTIVES_LIMIT', message: 'Directives limit of 50 exceeded, found 51.' },
    ]);
    const inside = Array.from({ length: 26 }, () => 'id @include(if: true)').join(' ');
    expect(limitErrors(`{ me { ...Me @skip(if: false) ...Me @skip(if: false) } } fragment Me on User { ${inside} }`)).toEqual([
      { code: 'MAX_DIRECTIVES_LIMIT', message: 'Directives limit of 50 exceeded, found 54.' },
    ]);
    const inline = Array.from({ length: 51 }, () => '... @include(if: true) { id }').join(' ');
    expect(limitErrors(`{ me { ${inline} } }`)).toEqual([
      { code: 'MAX_DIRECTIVES_LIMIT', message: 'Directives limit of 50 exceeded, found 51.' },
    ]);
    expect(
      limitErrors(`{ me { ${Array.from({ length: 50 }, () => '...Me @include(if: true)').join(' ')} } } fragment Me on User { id }`),
    ).toEqual([]);
  });

  it('counts the aliases of a fragment at every spread, through fragments of fragments', () => {
    expect(limitErrors(`{ me { ...Five ...Five ...Five ...Five } } fragment Five on User { ${fiveAliases} }`)).toEqual([
      { code: 'MAX_ALIASES_LIMIT', message: 'Aliases limit of 15 exceeded, found 20.' },
    ]);
    expect(
      limitErrors(
        `{ me { ...Ten ...Ten } } fragment Ten on User { ...Five ... on User { ...Five } } fragment Five on User { ${fiveAliases} }`,
      ),
    ).toEqual([{ code: 'MAX_ALIASES_LIMIT', message: 'Aliases limit of 15 exceeded, found 20.' }]);
    expect(limitErrors(`{ me { ...Five ...Five ...Five } } fragment Five on User { ${fiveAliases} }`)).toEqual([]);
    // Each operation of a document is counted on its own.
    expect(
      limitErrors(`query A { me { ...Five } } query B { me { ...Five ...Five ...Five ...Five } } fragment Five on User { ${fiveAliases} }`),
    ).toEqual([{ code: 'MAX_ALIASES_LIMIT', message: 'Aliases limit of 15 exceeded, found 20.' }]);
  });

  it('counts a fragment bomb exactly, in linear time', () => {
    expect(limitErrors(fragmentBomb(3, 100, 'a: id'))).toContainEqual({
      code: 'MAX_ALIASES_LIMIT',
      message: `Aliases limit of 15 exceeded, found ${100 ** 3}.`,
    });
    expect(limitErrors(fragmentBomb(3, 100, 'id @include(if: true)'))).toContainEqual({
      code: 'MAX_DIRECTIVES_LIMIT',
      message: `Directives limit of 50 exceeded, found ${100 ** 3}.`,
    });
  });

  it('does not recurse forever on cyclic fragments, which graphql-js refuses', () => {
    const errors = limitErrors(`{ me { ...A } } fragment A on User { a: id ...B } fragment B on User { b: id ...A }`);
    expect(errors.map((error) => error.code)).not.toContain('MAX_ALIASES_LIMIT');
    expect(errors.some((error) => /Cannot spread fragment "A" within itself/.test(error.message))).toBe(true);
  });

  it('lets every contract operation and the Sandbox introspection query through', () => {
    expect(validate(schema, contract, [...specifiedRules, ...limitRules(limits)])).toEqual([]);
    const introspection = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    });
    expect(limitErrors(introspection)).toEqual([]);
  });
});

describe('the cost limit plugin, with its per-document cache', () => {
  /**
   * Drives the plugin as Apollo Server does: one parsed document per query text, handed to every request that
   * sends that text, with each request's own variables. Gives each request's error codes. (Apollo Server itself
   * cannot run here: under vitest it loads another copy of graphql-js than this file; the router test
   * test/limits.test.ts sends the same requests through the real router.)
   */
  async function codesInTurn(query: string, ...variablesInTurn: Record<string, unknown>[]): Promise<unknown[][]> {
    const plugin = costLimitPlugin(limits);
    const document = parse(query);
    const operation = getOperationAST(document)!;
    const codes: unknown[][] = [];
    for (const variables of variablesInTurn) {
      const listener = await plugin.requestDidStart!({} as never);
      try {
        await listener!.didResolveOperation!({ schema, document, operation, request: { variables } } as never);
        codes.push([]);
      } catch (error) {
        codes.push([(error as GraphQLError).extensions.code]);
      }
    }
    return codes;
  }

  const TOO_EXPENSIVE = ['COST_ESTIMATED_TOO_EXPENSIVE'];

  it('judges a @skip variable afresh (issue 12 repro)', async () => {
    const query = `query Q($s: Boolean!) { ${nested('100', '@skip(if: $s)')} }`;
    expect(await codesInTurn(query, { s: true }, { s: false }, { s: true })).toEqual([[], TOO_EXPENSIVE, []]);
  });

  it('judges a defaulted `first` afresh: absent is its default, null is 20 (issue 12 repro)', async () => {
    const query = `query Q($n: Int = 100) { ${nested('$n')} }`;
    expect(await codesInTurn(query, { n: null }, {}, { n: null })).toEqual([[], TOO_EXPENSIVE, []]);
  });

  it('judges @include variables, defaulted @skip variables and directives on fragments afresh', async () => {
    const include = `query Q($i: Boolean!) { ${nested('100', '@include(if: $i)')} }`;
    expect(await codesInTurn(include, { i: false }, { i: true })).toEqual([[], TOO_EXPENSIVE]);
    const defaulted = `query Q($s: Boolean = true) { ${nested('100', '@skip(if: $s)')} }`;
    expect(await codesInTurn(defaulted, {}, { s: false })).toEqual([[], TOO_EXPENSIVE]);
    const inline = `query Q($s: Boolean!) { ... @skip(if: $s) { ${nested('100')} } }`;
    expect(await codesInTurn(inline, { s: true }, { s: false })).toEqual([[], TOO_EXPENSIVE]);
    const spread = `query Q($s: Boolean!) { ...Bomb @skip(if: $s) } fragment Bomb on Query { ${nested('100')} }`;
    expect(await codesInTurn(spread, { s: true }, { s: false })).toEqual([[], TOO_EXPENSIVE]);
    // A defaulted variable deep inside: absent means its default, null means 20.
    const deep = `query Q($n: Int = 100) { me { orders(first: 20) { edges { node { buyer { orders(first: $n) { edges { node { items { quantity } } } } } } } } } }`;
    expect(await codesInTurn(deep, { n: null }, {})).toEqual([[], TOO_EXPENSIVE]);
  });
});
