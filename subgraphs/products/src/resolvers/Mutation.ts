import { clientError } from '@shop/service';
import { ADMIN_ROLE, SERVICE_ROLE, boundedText, isUuid, positiveInt, requireRole } from '@shop/subgraph';
import { addStock, insertProduct, updateProduct } from '../db/products-repository.js';
import { commitStock, releaseStock, reserveStock } from '../db/reservations-repository.js';
import type { MutationResolvers } from '../generated/resolvers-types.js';
import { validPrice } from '../currency.js';

const MAX_STOCK = 1_000_000;
const MAX_ORDER_LINES = 50;

function productId(id: string): string {
  if (!isUuid(id)) throw clientError('NOT_FOUND', 'No product has this id');
  return id;
}

function found<T>(row: T | undefined): { product: T } {
  if (!row) throw clientError('NOT_FOUND', 'No product has this id');
  return { product: row };
}

function orderId(id: string): string {
  if (!isUuid(id)) throw clientError('BAD_USER_INPUT', 'orderId must be a UUID');
  return id;
}

export const Mutation: MutationResolvers = {
  async createProduct(_parent, { input }, { viewer, db }) {
    requireRole(viewer, ADMIN_ROLE);
    if (!Number.isInteger(input.stock) || input.stock < 0 || input.stock > MAX_STOCK) {
      throw clientError('BAD_USER_INPUT', `stock must be a whole number from 0 to ${MAX_STOCK}`, { field: 'stock' });
    }
    const product = await insertProduct(db, {
      sku: boundedText('sku', input.sku, 1, 64),
      name: boundedText('name', input.name, 1, 200),
      description: boundedText('description', input.description, 0, 5000),
      category: boundedText('category', input.category, 1, 64),
      stock: input.stock,
      ...validPrice(input.price),
    });
    if (!product) throw clientError('BAD_USER_INPUT', 'A product with this sku already exists', { field: 'sku' });
    return { product };
  },

  async updateProduct(_parent, { id, input }, { viewer, db }) {
    requireRole(viewer, ADMIN_ROLE);
    const changes = {
      ...(input.name != null && { name: boundedText('name', input.name, 1, 200) }),
      ...(input.description != null && { description: boundedText('description', input.description, 0, 5000) }),
      ...(input.category != null && { category: boundedText('category', input.category, 1, 64) }),
      ...(input.price != null && validPrice(input.price)),
    };
    return found(await updateProduct(db, productId(id), changes));
  },

  async restockProduct(_parent, { id, quantity }, { viewer, db }) {
    requireRole(viewer, ADMIN_ROLE);
    return found(await addStock(db, productId(id), positiveInt('quantity', quantity, MAX_STOCK)));
  },

  async reserveStock(_parent, { orderId: id, lines }, { viewer, db }) {
    requireRole(viewer, SERVICE_ROLE);
    if (lines.length === 0 || lines.length > MAX_ORDER_LINES) {
      throw clientError('BAD_USER_INPUT', `An order has 1 to ${MAX_ORDER_LINES} lines`);
    }
    const wanted = new Map<string, number>();
    for (const line of lines) {
      if (!isUuid(line.productId)) throw clientError('BAD_USER_INPUT', 'The order names a product that does not exist');
      wanted.set(line.productId, (wanted.get(line.productId) ?? 0) + positiveInt('quantity', line.quantity, 10_000));
    }
    return reserveStock(
      db,
      orderId(id),
      [...wanted].map(([productId, quantity]) => ({ productId, quantity })),
    );
  },

  async releaseStock(_parent, { orderId: id }, { viewer, db }) {
    requireRole(viewer, SERVICE_ROLE);
    return releaseStock(db, orderId(id));
  },

  async commitStock(_parent, { orderId: id }, { viewer, db }) {
    requireRole(viewer, SERVICE_ROLE);
    return commitStock(db, orderId(id));
  },
};
