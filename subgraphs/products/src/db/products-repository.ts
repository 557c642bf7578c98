import { and, asc, count, desc, eq, gte, ilike, inArray, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '@shop/kit/db';
import * as tables from './schema.js';
import { products, type ProductRow } from './schema.js';

export type ProductsDatabase = Database<typeof tables>;
export type ProductSort = 'NEWEST' | 'PRICE_ASC' | 'PRICE_DESC' | 'NAME';

export interface CatalogueFilter {
  category?: string | null;
  search?: string | null;
  minPrice?: number | null;
  maxPrice?: number | null;
  inStock?: boolean | null;
}

/** The sort key of a row for each order, the first half of its keyset cursor. */
export const sortKey: Record<ProductSort, (row: ProductRow) => string | number> = {
  NEWEST: (row) => row.createdAt.getTime(),
  PRICE_ASC: (row) => row.priceAmount,
  PRICE_DESC: (row) => row.priceAmount,
  NAME: (row) => row.name,
};

const sortColumn = { NEWEST: products.createdAt, PRICE_ASC: products.priceAmount, PRICE_DESC: products.priceAmount, NAME: products.name };
const descending: Record<ProductSort, boolean> = { NEWEST: true, PRICE_ASC: false, PRICE_DESC: true, NAME: false };

/** `%`, `_` and `\` in search text match themselves, not LIKE patterns. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function filterConditions(filter: CatalogueFilter): SQL | undefined {
  const conditions: (SQL | undefined)[] = [];
  if (filter.category != null) conditions.push(eq(products.category, filter.category));
  if (filter.search != null && filter.search !== '') {
    const pattern = `%${likeLiteral(filter.search)}%`;
    conditions.push(or(ilike(products.name, pattern), ilike(products.description, pattern)));
  }
  if (filter.minPrice != null) conditions.push(gte(products.priceAmount, filter.minPrice));
  if (filter.maxPrice != null) conditions.push(lte(products.priceAmount, filter.maxPrice));
  if (filter.inStock != null) conditions.push(filter.inStock ? sql`${products.stock} > 0` : eq(products.stock, 0));
  return and(...conditions);
}

/** One catalogue page: rows after the cursor's (sort key, id), in the sort's direction. */
export function listProducts(
  db: ProductsDatabase,
  options: { filter: CatalogueFilter; sort: ProductSort; limit: number; after: { key: string | number; id: string } | null },
) {
  const { filter, sort, limit, after } = options;
  const column = sortColumn[sort];
  const down = descending[sort];
  let keyset: SQL | undefined;
  if (after) {
    const key = sort === 'NEWEST' ? new Date(after.key as number).toISOString() : after.key;
    keyset = down ? sql`(${column}, ${products.id}) < (${key}, ${after.id})` : sql`(${column}, ${products.id}) > (${key}, ${after.id})`;
  }
  const direction = down ? desc : asc;
  return db
    .select()
    .from(products)
    .where(and(filterConditions(filter), keyset))
    .orderBy(direction(column), direction(products.id))
    .limit(limit);
}

export async function countProducts(db: ProductsDatabase, filter: CatalogueFilter): Promise<number> {
  const [row] = await db.select({ total: count() }).from(products).where(filterConditions(filter));
  return row?.total ?? 0;
}

export function findProductsByIds(db: ProductsDatabase, ids: readonly string[]): Promise<ProductRow[]> {
  return db.select().from(products).where(inArray(products.id, [...ids]));
}

export async function findProductBySku(db: ProductsDatabase, sku: string): Promise<ProductRow | undefined> {
  const [row] = await db.select().from(products).where(eq(products.sku, sku)).limit(1);
  return row;
}

/** Inserts a product, or returns undefined when the sku is taken. */
export async function insertProduct(db: ProductsDatabase, product: typeof products.$inferInsert): Promise<ProductRow | undefined> {
  const [row] = await db.insert(products).values(product).onConflictDoNothing({ target: products.sku }).returning();
  return row;
}

export async function updateProduct(
  db: ProductsDatabase,
  id: string,
  changes: Partial<Pick<ProductRow, 'name' | 'description' | 'category' | 'priceAmount' | 'priceCurrency'>>,
): Promise<ProductRow | undefined> {
  if (Object.keys(changes).length === 0) {
    const [row] = await findProductsByIds(db, [id]);
    return row;
  }
  const [row] = await db.update(products).set(changes).where(eq(products.id, id)).returning();
  return row;
}

export async function addStock(db: ProductsDatabase, id: string, quantity: number): Promise<ProductRow | undefined> {
  const [row] = await db
    .update(products)
    .set({ stock: sql`${products.stock} + ${quantity}` })
    .where(eq(products.id, id))
    .returning();
  return row;
}

export async function countAllProducts(db: ProductsDatabase): Promise<number> {
  const [row] = await db.select({ total: count() }).from(products);
  return row?.total ?? 0;
}
