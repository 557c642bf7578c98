import { createHash } from 'node:crypto';
import postgres from 'postgres';
// The users subgraph's own hashing, so seeded accounts log in exactly as registered ones do.
import { hashPassword } from '../subgraphs/users/src/passwords.js';
import { SUBGRAPH_NAMES, type SubgraphName } from '@shop/service/services';

export { SUBGRAPH_NAMES as SUBGRAPHS, type SubgraphName as Subgraph };

/** Every seeded customer shares this password: argon2 is slow on purpose, so it is hashed once. */
export const BENCH_PASSWORD = 'bench-password-1';
export const CURRENCY = 'USD';

export interface DatasetSize {
  products: number;
  customers: number;
  orders: number;
}

export const DEFAULT_SIZE: DatasetSize = { products: 3_000, customers: 500, orders: 30_000 };

export interface SeededCustomer {
  id: string;
  email: string;
  name: string;
}
export interface SeededProduct {
  id: string;
  category: string;
  inStock: boolean;
}
export interface SeededOrder {
  id: string;
  buyerIndex: number;
}

export interface Dataset {
  customers: SeededCustomer[];
  products: SeededProduct[];
  orders: SeededOrder[];
  categories: string[];
  orderLines: number;
}

/** A database URL for one subgraph on the given server. */
export function databaseUrl(serverUrl: string, subgraph: SubgraphName): string {
  const url = new URL(serverUrl);
  url.pathname = `/shop_bench_${subgraph}`;
  return url.toString();
}

/** Drops the previous run's databases and creates empty ones; the subgraphs apply their migrations on start. */
export async function createDatabases(serverUrl: string): Promise<Record<SubgraphName, string>> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    for (const subgraph of SUBGRAPH_NAMES) {
      await admin.unsafe(`drop database if exists shop_bench_${subgraph} with (force)`);
      await admin.unsafe(`create database shop_bench_${subgraph}`);
    }
  } finally {
    await admin.end();
  }
  return Object.fromEntries(SUBGRAPH_NAMES.map((s) => [s, databaseUrl(serverUrl, s)])) as Record<SubgraphName, string>;
}

/** mulberry32: the same seed gives the same dataset, so runs on different days compare like with like. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const uuid = () => {
    const bytes = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) bytes[i] = int(0, 255);
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  return { next, int, uuid, pick: <T>(items: readonly T[]) => items[int(0, items.length - 1)]! };
}

const CATEGORIES: Record<string, string[]> = {
  books: ['Handbook', 'Novel', 'Atlas', 'Cookbook', 'Anthology', 'Field Guide'],
  kitchen: ['Skillet', 'Knife', 'Kettle', 'Cutting Board', 'Mixer', 'Colander'],
  outdoors: ['Tent', 'Headlamp', 'Sleeping Bag', 'Trekking Poles', 'Backpack', 'Stove'],
  electronics: ['Keyboard', 'Headphones', 'USB-C Hub', 'Monitor', 'Mouse', 'SSD'],
  clothing: ['Sweater', 'Rain Jacket', 'T-Shirt', 'Jeans', 'Socks', 'Sneakers'],
  toys: ['Train Set', 'Bricks', 'Puzzle', 'Plush Bear', 'Kite', 'Board Game'],
  garden: ['Trowel', 'Hose', 'Planter', 'Pruners', 'Seed Kit', 'Wheelbarrow'],
  sports: ['Football', 'Racket', 'Yoga Mat', 'Dumbbells', 'Jump Rope', 'Helmet'],
  office: ['Desk Lamp', 'Notebook', 'Fountain Pen', 'Chair', 'Stapler', 'Whiteboard'],
  beauty: ['Face Cream', 'Shampoo', 'Brush Set', 'Perfume', 'Lip Balm', 'Soap'],
  music: ['Guitar Strings', 'Ukulele', 'Metronome', 'Drum Sticks', 'Capo', 'Keyboard Stand'],
  pets: ['Dog Bed', 'Cat Tree', 'Leash', 'Aquarium', 'Bird Feeder', 'Chew Toy'],
};
const ADJECTIVES = [
  'Classic',
  'Compact',
  'Deluxe',
  'Eco',
  'Essential',
  'Heavy-Duty',
  'Lightweight',
  'Modern',
  'Premium',
  'Rustic',
  'Smart',
  'Vintage',
];

/** Rows per INSERT: postgres.js binds every value, and a statement takes at most 65,535 parameters. */
async function insertInBatches(
  sql: postgres.Sql,
  table: string,
  rows: Record<string, unknown>[],
  label: string,
  progress: (line: string, done?: boolean) => void,
) {
  const columns = Object.keys(rows[0]!);
  const batch = Math.floor(60_000 / columns.length);
  for (let start = 0; start < rows.length; start += batch) {
    const slice = rows.slice(start, start + batch);
    await sql`insert into ${sql(table)} ${sql(slice as never, columns)}`;
    const done = Math.min(start + batch, rows.length);
    progress(`  ${label}: ${done.toLocaleString('en')}/${rows.length.toLocaleString('en')}`, done === rows.length);
  }
}

/** Progress on one line on a terminal, one line per step elsewhere (CI logs). */
function progressPrinter() {
  const tty = process.stdout.isTTY;
  return (line: string, done = false) => {
    if (tty) process.stdout.write(`\r${line.padEnd(60)}${done ? '\n' : ''}`);
    else if (done) console.log(line);
  };
}

/**
 * Bulk-inserts a realistic catalogue, customers and order history straight into the three databases (the
 * subgraphs must have migrated them already). Stock is plenty for PlaceOrder during the run; stock
 * reservations of the seeded orders are not written, as no read path looks at them and no seeded order
 * is ever paid, cancelled or expired during a run (the bench sets ORDER_HOLD_MINUTES far out).
 */
export async function seed(urls: Record<SubgraphName, string>, size: DatasetSize = DEFAULT_SIZE): Promise<Dataset> {
  const progress = progressPrinter();
  const rand = prng(7);
  const now = Date.now();
  const DAY = 86_400_000;

  process.stdout.write('  hashing the shared password (argon2id, once)...');
  const passwordHash = await hashPassword(BENCH_PASSWORD);
  console.log(' done');

  const customers: SeededCustomer[] = [];
  const userRows = [];
  for (let i = 0; i < size.customers; i++) {
    const n = String(i + 1).padStart(4, '0');
    const customer = { id: rand.uuid(), email: `customer-${n}@bench.shop`, name: `Customer ${n}` };
    customers.push(customer);
    userRows.push({
      ...customer,
      role: 'CUSTOMER',
      password_hash: passwordHash,
      created_at: new Date(now - 800 * DAY + i * 60_000),
    });
  }

  const categories = Object.keys(CATEGORIES);
  const products: (SeededProduct & { price: number })[] = [];
  const productRows = [];
  for (let i = 0; i < size.products; i++) {
    const category = categories[i % categories.length]!;
    const noun = rand.pick(CATEGORIES[category]!);
    const name = `${rand.pick(ADJECTIVES)} ${noun} ${String(i + 1).padStart(5, '0')}`;
    // One in twenty is sold out, so `inStock: true` filters something; the rest can take a whole run of orders.
    const stock = i % 20 === 19 ? 0 : 1_000_000;
    const price = rand.int(1, 500) * 100 - 1;
    const product = { id: rand.uuid(), category, inStock: stock > 0, price };
    products.push(product);
    productRows.push({
      id: product.id,
      sku: `BENCH-${String(i + 1).padStart(5, '0')}`,
      name,
      description: `${name}: a ${noun.toLowerCase()} from the ${category} department, seeded for the benchmark.`,
      category,
      price_amount: price,
      price_currency: CURRENCY,
      stock,
      created_at: new Date(now - 730 * DAY + i * 3_600_000 + rand.int(0, 3_599_999)),
    });
  }

  const orders: SeededOrder[] = [];
  const orderRows = [];
  const itemRows: Record<string, unknown>[] = [];
  for (let i = 0; i < size.orders; i++) {
    const buyerIndex = rand.int(0, customers.length - 1);
    const id = rand.uuid();
    const lineCount = rand.int(1, 5);
    const chosen = new Set<number>();
    while (chosen.size < lineCount) chosen.add(rand.int(0, products.length - 1));
    const lines = [...chosen].map((p) => ({ product: products[p]!, quantity: rand.int(1, 3) }));
    const total = lines.reduce((sum, line) => sum + line.product.price * line.quantity, 0);
    // The same fingerprint checkout computes, so a replayed key with this cart would be recognised.
    const sorted = lines
      .map((l) => ({ productId: l.product.id, quantity: l.quantity }))
      .sort((a, b) => (a.productId < b.productId ? -1 : 1));
    const fingerprint = createHash('sha256').update(JSON.stringify(sorted)).digest('base64url');
    const createdAt = new Date(now - 365 * DAY + Math.floor((i / size.orders) * 364 * DAY) + rand.int(0, 600_000));
    const paid = rand.next() < 0.75;
    orders.push({ id, buyerIndex });
    orderRows.push({
      id,
      buyer_id: customers[buyerIndex]!.id,
      idempotency_key: `bench-${i}`,
      cart_fingerprint: fingerprint,
      state: paid ? 'PAID' : 'PENDING',
      total_amount: total,
      currency: CURRENCY,
      stock_settled: true,
      payment_attempts: paid ? 1 : 0,
      charge_id: paid ? `ch_bench_${i}` : null,
      created_at: createdAt,
      updated_at: paid ? new Date(createdAt.getTime() + 60_000) : createdAt,
      paid_at: paid ? new Date(createdAt.getTime() + 60_000) : null,
    });
    lines.forEach((line, position) =>
      itemRows.push({
        order_id: id,
        product_id: line.product.id,
        position,
        quantity: line.quantity,
        unit_price_amount: line.product.price,
        currency: CURRENCY,
      }),
    );
  }

  const connect = (url: string) => postgres(url, { max: 2, onnotice: () => {} });
  const users = connect(urls.users);
  const catalogue = connect(urls.products);
  const history = connect(urls.orders);
  try {
    await insertInBatches(users, 'users', userRows, 'users', progress);
    await insertInBatches(catalogue, 'products', productRows, 'products', progress);
    await insertInBatches(history, 'orders', orderRows, 'orders', progress);
    await insertInBatches(history, 'order_items', itemRows, 'order lines', progress);
    // Fresh statistics, so the planner sees the seeded tables as they are and not as empty ones.
    await Promise.all([users`analyze`, catalogue`analyze`, history`analyze`]);
  } finally {
    await Promise.all([users.end(), catalogue.end(), history.end()]);
  }
  return {
    customers,
    products: products.map(({ id, category, inStock }) => ({ id, category, inStock })),
    orders,
    categories,
    orderLines: itemRows.length,
  };
}
