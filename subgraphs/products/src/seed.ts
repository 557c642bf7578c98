import type { ProductsDatabase } from './db/products-repository.js';
import { countAllProducts } from './db/products-repository.js';
import { products } from './db/schema.js';
import { settings } from './config.js';
import { SHOP_CURRENCY } from './currency.js';
import { appendProductEvents, productEvents } from './events.js';

const CATALOGUE: Record<string, string[]> = {
  books: [
    'The Pragmatic Programmer',
    'Designing Data-Intensive Applications',
    'Refactoring',
    'Clean Architecture',
    'Database Internals',
    'Site Reliability Engineering',
  ],
  kitchen: [
    'Cast Iron Skillet',
    'Chef Knife 20cm',
    'Pour-Over Coffee Kettle',
    'Bamboo Cutting Board',
    'Espresso Cups (set of 4)',
    'Stand Mixer',
  ],
  outdoors: ['Trail Running Shoes', 'Two-Person Tent', 'Insulated Water Bottle', 'Headlamp 400lm', 'Down Sleeping Bag', 'Trekking Poles'],
  electronics: ['Mechanical Keyboard', 'Noise-Cancelling Headphones', 'USB-C Hub', '27" 4K Monitor', 'Wireless Mouse', 'Portable SSD 1TB'],
  clothing: ['Merino Wool Sweater', 'Rain Jacket', 'Organic Cotton T-Shirt', 'Denim Jeans', 'Wool Socks (3 pairs)', 'Canvas Sneakers'],
  toys: ['Wooden Train Set', 'Building Bricks 500pc', 'Puzzle 1000pc', 'Plush Bear', 'Kite', 'Board Game: Strategy Classic'],
};

/** `SEED_DEMO=true` (set by `npm start`): a demo catalogue of a few dozen products, on an empty database only. */
export async function seedDemoCatalogue(db: ProductsDatabase): Promise<void> {
  if (!settings().SEED_DEMO || (await countAllProducts(db)) > 0) return;
  const rows = Object.entries(CATALOGUE).flatMap(([category, names], c) =>
    names.map((name, i) => ({
      sku: `${category.slice(0, 3).toUpperCase()}-${String(i + 1).padStart(3, '0')}`,
      name,
      description: `${name}: a demo ${category} product.`,
      category,
      priceAmount: 499 + ((c * 7 + i * 13) % 20) * 500,
      priceCurrency: SHOP_CURRENCY,
      stock: i === 5 ? 0 : 10 + ((c + i) % 5) * 10,
      // Spread over time so that NEWEST has a stable, visible order.
      createdAt: new Date(Date.UTC(2026, 0, 1) + (c * 6 + i) * 3_600_000),
    })),
  );
  await db.transaction(async (tx) => {
    const created = await tx.insert(products).values(rows).onConflictDoNothing().returning();
    await appendProductEvents(tx, created.map(productEvents.created));
  });
}
