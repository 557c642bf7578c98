import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { codes, createProduct, run, type TestProduct } from './client.js';

type Page = {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { cursor: string; node: TestProduct & { inStock: boolean } }[];
};
const names = (page: Page) => page.edges.map((edge) => edge.node.name);

async function catalogue(variables: Record<string, unknown>): Promise<Page> {
  const response = await run('Catalogue', variables);
  expect(response.errors).toBeUndefined();
  return response.data.products as Page;
}

describe('Catalogue', () => {
  const category = `garden-${randomUUID()}`;
  let products: TestProduct[];

  beforeAll(async () => {
    // Created one after another, so NEWEST is the reverse of this list.
    products = [];
    for (const [name, price, stock, description] of [
      ['Watering Can', 1500, 4, 'Galvanised steel, 5 litres'],
      ['Apple Tree', 4500, 0, 'A young tree that gives red apples'],
      ['Hose 20% longer', 3000, 7, 'Garden hose'],
      ['Bird House', 2500, 2, 'Cedar wood, for 100_percent happy birds'],
      ['Compost Bin', 6000, 9, 'Turns kitchen waste into soil'],
    ] as const) {
      products.push(await createProduct({ name, price, stock, description, category }));
    }
  });

  it('lists a category newest first by default, with its total', async () => {
    const page = await catalogue({ filter: { category } });
    expect(page.totalCount).toBe(5);
    expect(names(page)).toEqual(['Compost Bin', 'Bird House', 'Hose 20% longer', 'Apple Tree', 'Watering Can']);
    expect(page.edges[0]!.node).toMatchObject({ sku: products[4]!.sku, price: { amount: 6000, currency: 'USD' }, inStock: true, category });
  });

  it.each([
    ['PRICE_ASC', ['Watering Can', 'Bird House', 'Hose 20% longer', 'Apple Tree', 'Compost Bin']],
    ['PRICE_DESC', ['Compost Bin', 'Apple Tree', 'Hose 20% longer', 'Bird House', 'Watering Can']],
    ['NAME', ['Apple Tree', 'Bird House', 'Compost Bin', 'Hose 20% longer', 'Watering Can']],
    ['NEWEST', ['Compost Bin', 'Bird House', 'Hose 20% longer', 'Apple Tree', 'Watering Can']],
  ])('sorts by %s and pages through it with cursors', async (sort, expected) => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let pageNumber = 0; pageNumber < 3; pageNumber += 1) {
      const page: Page = await catalogue({ filter: { category }, sort, first: 2, after });
      seen.push(...names(page));
      expect(page.totalCount).toBe(5);
      expect(page.pageInfo.hasNextPage).toBe(pageNumber < 2);
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)!.cursor);
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);
  });

  it('searches name and description ignoring case', async () => {
    expect(names(await catalogue({ filter: { category, search: 'APPLE' } }))).toEqual(['Apple Tree']);
    expect(names(await catalogue({ filter: { category, search: 'kitchen waste' } }))).toEqual(['Compost Bin']);
  });

  it('treats % and _ in search text literally', async () => {
    expect(names(await catalogue({ filter: { category, search: '20%' } }))).toEqual(['Hose 20% longer']);
    expect(names(await catalogue({ filter: { category, search: '100_percent' } }))).toEqual(['Bird House']);
    expect(names(await catalogue({ filter: { category, search: '%' } }))).toEqual(['Hose 20% longer']);
    expect(names(await catalogue({ filter: { category, search: "'; drop table products; --" } }))).toEqual([]);
  });

  it('filters by price range in minor units, inclusive, and by stock', async () => {
    expect(names(await catalogue({ filter: { category, minPrice: 2500, maxPrice: 4500 }, sort: 'PRICE_ASC' }))).toEqual([
      'Bird House',
      'Hose 20% longer',
      'Apple Tree',
    ]);
    expect(names(await catalogue({ filter: { category, inStock: false } }))).toEqual(['Apple Tree']);
    expect((await catalogue({ filter: { category, inStock: true } })).totalCount).toBe(4);
  });

  it('refuses a cursor from another sort order and a garbage cursor', async () => {
    const page = await catalogue({ filter: { category }, sort: 'NAME', first: 1 });
    expect(codes(await run('Catalogue', { filter: { category }, sort: 'PRICE_ASC', after: page.pageInfo.endCursor }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes(await run('Catalogue', { after: 'not a cursor' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('gives 20 items by default and at most 100', async () => {
    const bulk = `bulk-${randomUUID()}`;
    await Promise.all(Array.from({ length: 105 }, (_, i) => createProduct({ category: bulk, name: `Bulk ${i}` })));
    const byDefault = await catalogue({ filter: { category: bulk } });
    expect(byDefault.edges).toHaveLength(20);
    expect(byDefault.totalCount).toBe(105);
    const capped = await catalogue({ filter: { category: bulk }, first: 1000 });
    expect(capped.edges).toHaveLength(100);
    expect(capped.pageInfo.hasNextPage).toBe(true);
  });
});

describe('ProductPage and ProductBySku', () => {
  it('returns every field of a product', async () => {
    const product = await createProduct({ name: 'Lamp', description: 'Warm light', price: 2999, stock: 3, category: 'home' });
    const response = await run('ProductPage', { id: product.id });
    expect(response.data.product).toEqual({
      id: product.id,
      sku: product.sku,
      name: 'Lamp',
      description: 'Warm light',
      category: 'home',
      stock: 3,
      inStock: true,
      price: { amount: 2999, currency: 'USD' },
    });
    expect((await run('ProductBySku', { sku: product.sku })).data.productBySku).toEqual({ id: product.id, sku: product.sku, name: 'Lamp' });
  });

  it('is null for an unknown id or sku', async () => {
    expect((await run('ProductPage', { id: randomUUID() })).data).toEqual({ product: null });
    expect((await run('ProductPage', { id: 'not-a-uuid' })).data).toEqual({ product: null });
    expect((await run('ProductBySku', { sku: 'NO-SUCH-SKU' })).data).toEqual({ productBySku: null });
  });
});
