import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Reservations on the products subgraph's own embedded database: an order that no Int total can hold, or whose
 * products are priced in more than one currency, is refused inside the reservation's transaction and holds nothing.
 */
let server: Awaited<ReturnType<typeof import('../../src/server.js').buildServer>>;
let dataDir: string;
let repository: typeof import('../../src/db/reservations-repository.js');
let schema: typeof import('../../src/db/schema.js');

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'products-reservations-'));
  process.env.DATA_DIR = dataDir;
  delete process.env.PRODUCTS_DATABASE_URL;
  const { buildServer } = await import('../../src/server.js');
  server = await buildServer();
  repository = await import('../../src/db/reservations-repository.js');
  schema = await import('../../src/db/schema.js');
}, 60_000);

afterAll(async () => {
  await server?.app.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function product(priceAmount: number, priceCurrency = 'USD', stock = 1_000) {
  const [row] = await server.database.db
    .insert(schema.products)
    .values({ sku: `R-${randomUUID()}`, name: 'Reserved', description: '', category: 'r', priceAmount, priceCurrency, stock })
    .returning();
  return row!;
}

async function stockOf(id: string) {
  const [row] = await server.database.db.select().from(schema.products).where(eq(schema.products.id, id));
  return row!.stock;
}

async function refusal(promise: Promise<unknown>) {
  return promise.then(
    () => undefined,
    (error: { extensions?: Record<string, unknown> }) => error.extensions,
  );
}

describe('reserveStock', () => {
  it('refuses a total beyond 2^31-1 minor units and holds nothing', async () => {
    const a = await product(3_000_000);
    const orderId = randomUUID();
    expect(await refusal(repository.reserveStock(server.database.db, orderId, [{ productId: a.id, quantity: 1_000 }]))).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'TOTAL_TOO_LARGE',
    });
    expect(await stockOf(a.id)).toBe(1_000);
    // Nothing recorded either: the same order may still be reserved (smaller) or released.
    expect(await server.database.db.select().from(schema.stockReservations).where(eq(schema.stockReservations.orderId, orderId))).toEqual(
      [],
    );
  });

  it('refuses lines in two currencies and holds nothing', async () => {
    const dollars = await product(100, 'USD');
    const euros = await product(100, 'EUR');
    const lines = [
      { productId: dollars.id, quantity: 1 },
      { productId: euros.id, quantity: 1 },
    ];
    expect(await refusal(repository.reserveStock(server.database.db, randomUUID(), lines))).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'MIXED_CURRENCIES',
    });
    expect([await stockOf(dollars.id), await stockOf(euros.id)]).toEqual([1_000, 1_000]);
  });

  it('accepts a total of exactly 2^31-1, and lists it as held until it is released', async () => {
    // Exactly the limit, over two lines: 1,000 units of one price and one unit of another.
    const a = await product(7 * 151, 'USD');
    const b = await product(2 ** 31 - 1 - 7 * 151 * 1_000, 'USD');
    const orderId = randomUUID();
    const reservation = await repository.reserveStock(server.database.db, orderId, [
      { productId: a.id, quantity: 1_000 },
      { productId: b.id, quantity: 1 },
    ]);
    expect(reservation.state).toBe('RESERVED');
    const held = async () => {
      const all: string[] = [];
      for (let after: string | null = null; ;) {
        const page = await repository.listHeldReservations(server.database.db, after, 2);
        all.push(...page.map((r) => r.orderId));
        if (page.length < 2) return all;
        after = page.at(-1)!.orderId;
      }
    };
    expect(await held()).toContain(orderId);
    await repository.releaseStock(server.database.db, orderId);
    expect(await held()).not.toContain(orderId);
    expect(await stockOf(a.id)).toBe(1_000);
  });
});
