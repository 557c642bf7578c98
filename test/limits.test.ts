import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { codes, createProduct, metric, post, registerCustomer, type GraphQLResponse } from './client.js';

/**
 * The operation limits (issue 12, item 1), through the real router on the shared stack: the cost of an
 * operation follows the variables of every request, not the first request that sent its text, and the alias
 * and directive limits count every fragment spread. Each test sends a document no other test sends, because
 * the router remembers what it worked out per document.
 */

/** GraphQL requests the subgraphs have answered: a refusal at the router must not move it. */
/** Fetches the router made to any subgraph (the subgraphs' own counts include orders' recovery calls to products). */
async function subgraphRequests(): Promise<number> {
  return metric('router', 'router_subgraph_fetch_duration_seconds_count');
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

async function expectAnswered(response: GraphQLResponse): Promise<GraphQLResponse> {
  expect(response.errors).toBeUndefined();
  expect(response.status).toBe(200);
  return response;
}

/** Two levels of `orders(first: …)`: about 20,400 at 100 a page, against a limit of 5,000. */
const nestedOrders = (first: string, directives = '') =>
  `me { orders(first: ${first}) ${directives} { edges { node { buyer { orders(first: ${first}) { edges { node { id } } } } } } } }`;
const COST_AT_100 = 20_402;

async function expectTooExpensive(query: string, variables: Record<string, unknown>, token: string, cost = COST_AT_100) {
  const response = await expectRefusedAtRouter(() => post({ query, variables }, token), 'COST_ESTIMATED_TOO_EXPENSIVE');
  expect(response.errors![0]!.extensions).toMatchObject({ cost, maxCost: 5000 });
}

describe('the cost limit follows the variables of every request', () => {
  it('refuses the nested orders once @skip no longer skips them (issue 12 repro)', async () => {
    const { token } = await registerCustomer();
    const query =
      'query Q($s: Boolean!) { me { orders(first: 100) @skip(if: $s) { edges { node { buyer { orders(first: 100) { edges { node { id } } } } } } } } }';
    expect((await expectAnswered(await post({ query, variables: { s: true } }, token))).data).toEqual({ me: {} });
    await expectTooExpensive(query, { s: false }, token);
    await expectAnswered(await post({ query, variables: { s: true } }, token));
  });

  it('takes the default of an absent `first` variable, and 20 for null (issue 12 repro)', async () => {
    const { token } = await registerCustomer();
    const query = `query Q($n: Int = 100) { ${nestedOrders('$n')} }`;
    expect((await expectAnswered(await post({ query, variables: { n: null } }, token))).data).toEqual({ me: { orders: { edges: [] } } });
    await expectTooExpensive(query, {}, token);
  });

  it('follows @include, a defaulted @skip, and directives on inline fragments and fragment spreads', async () => {
    const { token } = await registerCustomer();
    const tag = randomUUID().slice(0, 8);
    const cases: [query: string, cheap: Record<string, unknown>, expensive: Record<string, unknown>, cost?: number][] = [
      [`query Include_${tag}($i: Boolean!) { ${nestedOrders('100', '@include(if: $i)')} }`, { i: false }, { i: true }],
      [`query DefaultSkip_${tag}($s: Boolean = true) { ${nestedOrders('100', '@skip(if: $s)')} }`, {}, { s: false }],
      [`query Inline_${tag}($s: Boolean!) { ... @skip(if: $s) { ${nestedOrders('100')} } }`, { s: true }, { s: false }],
      // The depth limit counts a spread as a level, so this pair of pages is a level shallower.
      [
        `query Spread_${tag}($i: Boolean!) { ...Orders @include(if: $i) } fragment Orders on Query { me { orders(first: 100) { edges { node { buyer { orders(first: 100) { pageInfo { hasNextPage } } } } } } } }`,
        { i: false },
        { i: true },
        1 + 1 + 100 * (1 + 1 + 1 + (1 + 100 * 1)),
      ],
    ];
    for (const [query, cheap, expensive, cost] of cases) {
      await expectAnswered(await post({ query, variables: cheap }, token));
      await expectTooExpensive(query, expensive, token, cost);
    }
  });

  it('pages by 20 when `first` is null and by the default when it is absent, as the estimate assumes', async () => {
    const category = `limits-${randomUUID()}`;
    for (let i = 0; i < 21; i += 1) await createProduct({ category });
    const query =
      'query Page($n: Int = 100, $category: String) { products(first: $n, filter: { category: $category }) { edges { node { id } } } }';
    const pageOf = async (variables: Record<string, unknown>) =>
      ((await expectAnswered(await post({ query, variables }))).data.products.edges as unknown[]).length;
    expect(await pageOf({ n: null, category })).toBe(20);
    expect(await pageOf({ category })).toBe(21);
    expect(await pageOf({ n: 3, category })).toBe(3);
  });
});

describe('the alias and directive limits count every fragment spread', () => {
  /** Fragments spreading fragments `fanout` times over `levels` levels (within the depth and token limits). */
  function fragmentBomb(levels: number, fanout: number, leaf: string): string {
    let document = `query Bomb_${randomUUID().slice(0, 8)} { me { ...F${levels} } } fragment F0 on User { ${leaf} }`;
    for (let level = 1; level <= levels; level += 1) {
      document += ` fragment F${level} on User { ${Array.from({ length: fanout }, () => `...F${level - 1}`).join(' ')} }`;
    }
    return document;
  }

  it('refuses 51 directives on spreads of one fragment with MAX_DIRECTIVES_LIMIT', async () => {
    const spreads = Array.from({ length: 51 }, () => '...Me @include(if: true)').join(' ');
    const response = await expectRefusedAtRouter(
      () => post({ query: `{ me { ${spreads} } } fragment Me on User { id }` }),
      'MAX_DIRECTIVES_LIMIT',
    );
    expect(response.errors![0]!.message).toBe('Directives limit of 50 exceeded, found 51.');
  });

  it('refuses aliases hidden in a fragment spread four times with MAX_ALIASES_LIMIT', async () => {
    const five = Array.from({ length: 5 }, (_, i) => `a${i}: id`).join(' ');
    const response = await expectRefusedAtRouter(
      () => post({ query: `{ me { ...Five ...Five ...Five ...Five } } fragment Five on User { ${five} }` }),
      'MAX_ALIASES_LIMIT',
    );
    expect(response.errors![0]!.message).toBe('Aliases limit of 15 exceeded, found 20.');
  });

  it('counts a fragment bomb in full, and refuses it by the limit it breaks', async () => {
    const aliases = await expectRefusedAtRouter(() => post({ query: fragmentBomb(3, 100, 'a: id') }), 'MAX_ALIASES_LIMIT');
    expect(aliases.errors![0]!.message).toBe(`Aliases limit of 15 exceeded, found ${100 ** 3}.`);
    const directives = await expectRefusedAtRouter(
      () => post({ query: fragmentBomb(3, 100, 'id @include(if: true)') }),
      'MAX_DIRECTIVES_LIMIT',
    );
    expect(directives.errors![0]!.message).toBe(`Directives limit of 50 exceeded, found ${100 ** 3}.`);
    const cost = await expectRefusedAtRouter(
      () => post({ query: fragmentBomb(2, 100, 'orders(first: 1) { totalCount }') }),
      'COST_ESTIMATED_TOO_EXPENSIVE',
    );
    expect(cost.errors![0]!.extensions).toMatchObject({ cost: 1 + 100 ** 2, maxCost: 5000 });
  });

  it('answers a fragment bomb that breaks no limit: its repeated fields are one field', async () => {
    const { token, user } = await registerCustomer();
    const response = await expectAnswered(await post({ query: fragmentBomb(3, 100, 'id name') }, token));
    expect(response.data).toEqual({ me: { id: user.id, name: user.name } });
  });
});
