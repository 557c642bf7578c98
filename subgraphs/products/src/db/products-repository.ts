import { and, asc, count, desc, eq, gte, ilike, lte, or, sql, type SQL } from 'drizzle-orm';
import { preparedPerDatabase, preparedPerShape, type Database } from '@shop/subgraph';
import { appendProductEvents, productEvents } from '../events.js';
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

/** Which filters a catalogue request uses: one prepared statement per combination (and sort, and cursor). */
function filterShape(filter: CatalogueFilter) {
  return {
    category: filter.category != null,
    search: filter.search != null && filter.search !== '',
    minPrice: filter.minPrice != null,
    maxPrice: filter.maxPrice != null,
    inStock: filter.inStock ?? null,
  };
}
type FilterShape = ReturnType<typeof filterShape>;

function filterConditions(shape: FilterShape): SQL | undefined {
  const conditions: (SQL | undefined)[] = [];
  if (shape.category) conditions.push(eq(products.category, sql.placeholder('category')));
  if (shape.search)
    conditions.push(or(ilike(products.name, sql.placeholder('pattern')), ilike(products.description, sql.placeholder('pattern'))));
  if (shape.minPrice) conditions.push(gte(products.priceAmount, sql.placeholder('minPrice')));
  if (shape.maxPrice) conditions.push(lte(products.priceAmount, sql.placeholder('maxPrice')));
  if (shape.inStock !== null) conditions.push(shape.inStock ? sql`${products.stock} > 0` : eq(products.stock, 0));
  return and(...conditions);
}

function filterValues(filter: CatalogueFilter) {
  return {
    category: filter.category,
    pattern: filter.search ? `%${likeLiteral(filter.search)}%` : undefined,
    minPrice: filter.minPrice,
    maxPrice: filter.maxPrice,
  };
}

const pageStatement = preparedPerShape(
  (db: ProductsDatabase, { filter, sort, keyset }: { filter: FilterShape; sort: ProductSort; keyset: boolean }) => {
    const column = sortColumn[sort];
    const direction = descending[sort] ? desc : asc;
    const after = sql`(${column}, ${products.id})`;
    const cursor = sql`(${sql.placeholder('afterKey')}, ${sql.placeholder('afterId')}::uuid)`;
    return db
      .select()
      .from(products)
      .where(and(filterConditions(filter), keyset ? (descending[sort] ? sql`${after} < ${cursor}` : sql`${after} > ${cursor}`) : undefined))
      .orderBy(direction(column), direction(products.id))
      .limit(sql.placeholder('limit'))
      .prepare('catalogue_page');
  },
);

/** One catalogue page: rows after the cursor's (sort key, id), in the sort's direction. */
export function listProducts(
  db: ProductsDatabase,
  options: { filter: CatalogueFilter; sort: ProductSort; limit: number; after: { key: string | number; id: string } | null },
): Promise<ProductRow[]> {
  const { filter, sort, limit, after } = options;
  const statement = pageStatement(db, { filter: filterShape(filter), sort, keyset: after !== null });
  const afterKey = after && (sort === 'NEWEST' ? new Date(after.key as number).toISOString() : after.key);
  return statement.execute({ ...filterValues(filter), limit, afterKey, afterId: after?.id });
}

const countStatement = preparedPerShape((db: ProductsDatabase, filter: FilterShape) =>
  db.select({ total: count() }).from(products).where(filterConditions(filter)).prepare('catalogue_count'),
);

export async function countProducts(db: ProductsDatabase, filter: CatalogueFilter): Promise<number> {
  const [row] = await countStatement(db, filterShape(filter)).execute(filterValues(filter));
  return row?.total ?? 0;
}

const productsByIds = preparedPerDatabase((db: ProductsDatabase) =>
  db
    .select()
    .from(products)
    .where(sql`${products.id} = any(${sql.placeholder('ids')})`)
    .prepare('products_by_ids'),
);

export function findProductsByIds(db: ProductsDatabase, ids: readonly string[]): Promise<ProductRow[]> {
  return productsByIds(db).execute({ ids: [...ids] });
}

export async function findProductBySku(db: ProductsDatabase, sku: string): Promise<ProductRow | undefined> {
  const [row] = await db.select().from(products).where(eq(products.sku, sku)).limit(1);
  return row;
}

/** Inserts a product and its created event, or returns undefined when the sku is taken. */
export function insertProduct(db: ProductsDatabase, product: typeof products.$inferInsert): Promise<ProductRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(products).values(product).onConflictDoNothing({ target: products.sku }).returning();
    if (row) await appendProductEvents(tx, [productEvents.created(row)]);
    return row;
  });
}

/** Changes a product, with an updated event naming what changed (none when nothing did). */
export async function updateProduct(
  db: ProductsDatabase,
  id: string,
  changes: Partial<Pick<ProductRow, 'name' | 'description' | 'category' | 'priceAmount' | 'priceCurrency'>>,
): Promise<ProductRow | undefined> {
  if (Object.keys(changes).length === 0) {
    const [row] = await findProductsByIds(db, [id]);
    return row;
  }
  return db.transaction(async (tx) => {
    // Locked, so the event compares with the row this update replaces.
    const [before] = await tx.select().from(products).where(eq(products.id, id)).for('update');
    if (!before) return undefined;
    const [row] = await tx.update(products).set(changes).where(eq(products.id, id)).returning();
    await appendProductEvents(tx, productEvents.updated(before, row!));
    return row;
  });
}

/** Adds stock, with its stock_changed event. */
export function addStock(db: ProductsDatabase, id: string, quantity: number): Promise<ProductRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(products)
      .set({ stock: sql`${products.stock} + ${quantity}` })
      .where(eq(products.id, id))
      .returning();
    if (row) await appendProductEvents(tx, [productEvents.stockChanged(row.id, row.stock, quantity)]);
    return row;
  });
}

export async function countAllProducts(db: ProductsDatabase): Promise<number> {
  const [row] = await db.select({ total: count() }).from(products);
  return row?.total ?? 0;
}
