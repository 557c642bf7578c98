import { EventEmitter, on } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGraphQLService, type GraphQLService } from '@shop/service';
import { GraphQLError, parse, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

/**
 * Small subgraphs for the router's subscription tests: real Apollo Servers (the shop's own createGraphQLService)
 * with graphql-ws servers on the same ports, speaking the realtime protocol of docs/realtime.md.
 * - orders: `Subscription.orderUpdated(id)` (the order as it is now, then one event per status change, complete
 *   after PAID or CANCELLED; UNAUTHENTICATED, FORBIDDEN, NOT_FOUND refusals, re-checked on every event), and
 *   `Query.orderUpdated(id)` answering the same data, for the differential against a stock gateway.
 * - products: `Subscription.productUpdated(ids)` (anonymous; BAD_USER_INPUT outside 1..100 ids) and Product.
 * - users: User.name.
 */

export const ROUTER_SECRET = 'test-router-secret';

const federation = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])`;

const SDL = {
  orders: `${federation}
    type Query { orderUpdated(id: ID!): Order! }
    type Subscription { orderUpdated(id: ID!): Order! }
    type Order @key(fields: "id") { id: ID! status: String! paidAt: String total: Money! items: [Item!]! buyer: User! }
    type Money { amount: Int! currency: String! }
    type Item { quantity: Int! product: Product! }
    type User @key(fields: "id", resolvable: false) { id: ID! }
    type Product @key(fields: "id", resolvable: false) { id: ID! }`,
  products: `${federation}
    type Query { product(id: ID!): Product productUpdated(ids: [ID!]!): Product! }
    type Subscription { productUpdated(ids: [ID!]!): Product! }
    type Product @key(fields: "id") { id: ID! name: String! stock: Int! inStock: Boolean! }`,
  users: `${federation}
    type Query { user(id: ID!): User }
    type User @key(fields: "id") { id: ID! name: String! }`,
};

export interface Order {
  id: string;
  status: string;
  paidAt: string | null;
  total: { amount: number; currency: string };
  buyer: string;
  items: { quantity: number; product: string }[];
}

/** The data every subgraph answers from, and the bus its subscriptions listen to. */
export class ShopData {
  readonly bus = new EventEmitter().setMaxListeners(0);
  readonly orders = new Map<string, Order>();
  readonly products = new Map<string, { id: string; name: string; stock: number }>();
  readonly users = new Map<string, { id: string; name: string }>([
    ['alice', { id: 'alice', name: 'Alice' }],
    ['bob', { id: 'bob', name: 'Bob' }],
    ['admin', { id: 'admin', name: 'Admin' }],
  ]);
  /** Users whose resolver fails: with a plain Error (masked), or with a client code (passed through). */
  readonly failingUsers = new Map<string, Error>();
  /** Tokens the subgraph no longer accepts: the next event of their subscriptions is refused. */
  readonly revoked = new Set<string>();

  constructor() {
    for (const [id, name, stock] of [
      ['p1', 'Socks', 10],
      ['p2', 'Hat', 3],
      ['p3', 'Scarf', 0],
    ] as const) {
      this.products.set(id, { id, name, stock });
    }
    this.addOrder({
      id: 'o1',
      buyer: 'alice',
      items: [
        { quantity: 2, product: 'p1' },
        { quantity: 1, product: 'p2' },
      ],
    });
    this.addOrder({ id: 'o2', buyer: 'bob', items: [{ quantity: 1, product: 'p3' }] });
  }

  addOrder(order: Pick<Order, 'id' | 'buyer' | 'items'> & Partial<Order>): Order {
    const full: Order = { status: 'PENDING', paidAt: null, total: { amount: 1_500, currency: 'EUR' }, ...order };
    this.orders.set(full.id, full);
    return full;
  }

  setStatus(id: string, status: string): void {
    const order = this.orders.get(id)!;
    order.status = status;
    if (status === 'PAID') order.paidAt = '2026-11-30T12:00:00.000Z';
    this.bus.emit(`order:${id}`);
  }

  setStock(id: string, stock: number): void {
    this.products.get(id)!.stock = stock;
    this.bus.emit('product', id);
  }
}

const FINAL = new Set(['PAID', 'CANCELLED']);
const userOf = (authorization: unknown) => (typeof authorization === 'string' ? authorization.replace(/^Bearer /, '') : undefined);

function refusal(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

function ordersResolvers(data: ShopData) {
  const orderView = (order: Order) => ({
    ...order,
    buyer: { id: order.buyer },
    items: order.items.map((i) => ({ ...i, product: { id: i.product } })),
  });
  /** Who may watch the order now; undefined when allowed. */
  const refused = (id: string, token: string | undefined): GraphQLError | undefined => {
    const user = userOf(token);
    if (!user || (token && data.revoked.has(token))) return refusal('UNAUTHENTICATED', 'Log in to watch an order');
    const order = data.orders.get(id);
    if (!order) return refusal('NOT_FOUND', `No order ${id}`);
    if (order.buyer !== user && user !== 'admin') return refusal('FORBIDDEN', 'Not your order');
    return undefined;
  };
  return {
    Query: {
      orderUpdated: (_: unknown, { id }: { id: string }) => {
        const order = data.orders.get(id);
        if (!order) throw refusal('NOT_FOUND', `No order ${id}`);
        return orderView(order);
      },
    },
    Subscription: {
      orderUpdated: {
        subscribe: async function* (_: unknown, { id }: { id: string }, context: { authorization?: string }) {
          const refusedNow = refused(id, context.authorization);
          if (refusedNow) throw refusedNow;
          const changes = on(data.bus, `order:${id}`);
          try {
            yield { order: id };
            if (FINAL.has(data.orders.get(id)!.status)) return;
            for await (const _change of changes) {
              const refusedLater = refused(id, context.authorization);
              yield refusedLater ? { refused: refusedLater } : { order: id };
              if (refusedLater || FINAL.has(data.orders.get(id)!.status)) return;
            }
          } finally {
            await changes.return?.();
          }
        },
        resolve: (payload: { order?: string; refused?: GraphQLError }) => {
          if (payload.refused) throw payload.refused;
          return orderView(data.orders.get(payload.order!)!);
        },
      },
    },
    Order: { __resolveReference: (ref: { id: string }) => (data.orders.has(ref.id) ? orderView(data.orders.get(ref.id)!) : null) },
  };
}

function productsResolvers(data: ShopData, counters: { productSubscriptions: number }) {
  const view = (id: string) => {
    const product = data.products.get(id);
    return product ? { ...product, inStock: product.stock > 0 } : null;
  };
  const checkIds = (ids: string[]) => {
    if (ids.length < 1 || ids.length > 100) throw refusal('BAD_USER_INPUT', 'Watch 1 to 100 products');
  };
  return {
    Query: {
      product: (_: unknown, { id }: { id: string }) => view(id),
      productUpdated: (_: unknown, { ids }: { ids: string[] }) => {
        checkIds(ids);
        return view(ids[0]!);
      },
    },
    Subscription: {
      productUpdated: {
        subscribe: (_: unknown, { ids }: { ids: string[] }) => {
          checkIds(ids);
          return productChanges(data, ids, counters);
        },
        resolve: (payload: { id: string }) => view(payload.id),
      },
    },
    Product: { __resolveReference: (ref: { id: string }) => view(ref.id) },
  };
}

/**
 * The changes of some products, as an iterator whose return() ends it at once (an async generator waiting for the
 * next change would only see its return() after that change), so the count of open subscriptions is exact.
 */
function productChanges(data: ShopData, ids: string[], counters: { productSubscriptions: number }): AsyncIterableIterator<{ id: string }> {
  const queue: string[] = [];
  let waiting: ((result: IteratorResult<{ id: string }>) => void) | undefined;
  let done = false;
  const listener = (id: string) => {
    if (!ids.includes(id)) return;
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value: { id }, done: false });
    } else queue.push(id);
  };
  data.bus.on('product', listener);
  counters.productSubscriptions++;
  const iterator: AsyncIterableIterator<{ id: string }> = {
    [Symbol.asyncIterator]: () => iterator,
    next: async () => {
      if (queue.length > 0) return { value: { id: queue.shift()! }, done: false };
      if (done) return { value: undefined, done: true };
      return new Promise((resolve) => (waiting = resolve));
    },
    return: async () => {
      if (!done) {
        done = true;
        counters.productSubscriptions--;
        data.bus.off('product', listener);
        waiting?.({ value: undefined, done: true });
      }
      return { value: undefined, done: true };
    },
  };
  return iterator;
}

function usersResolvers(data: ShopData) {
  const user = (id: string) => {
    const failure = data.failingUsers.get(id);
    if (failure) throw failure;
    return data.users.get(id) ?? null;
  };
  return {
    Query: { user: (_: unknown, { id }: { id: string }) => user(id) },
    User: { __resolveReference: (ref: { id: string }) => user(ref.id) },
  };
}

/** What a subgraph saw of the router's graphql-ws connections. */
export interface SubgraphLog {
  connectionParams: Record<string, unknown>[];
  pings: number;
  productSubscriptions: number;
}

export interface TestSubgraph {
  name: keyof typeof SDL;
  url: string;
  port: number;
  service: GraphQLService<object>;
  close(): Promise<void>;
}

/** Starts one subgraph on `port` (0: any free one) on 127.0.0.1. */
export async function startSubgraph(name: keyof typeof SDL, data: ShopData, log: SubgraphLog, port = 0): Promise<TestSubgraph> {
  const resolvers = name === 'orders' ? ordersResolvers(data) : name === 'products' ? productsResolvers(data, log) : usersResolvers(data);
  const schema: GraphQLSchema = buildSubgraphSchema([{ typeDefs: parse(SDL[name]), resolvers: resolvers as never }]);
  const service = await createGraphQLService<object>({
    name: `test-${name}`,
    schema,
    trustCallerRequestIds: true,
    context: async () => ({}),
    readiness: async () => ({}),
  });
  const wss = new WebSocketServer({ noServer: true });
  service.app.server.on('upgrade', (request, socket, head) =>
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)),
  );
  const server = useServer<Record<string, unknown> | undefined>(
    {
      schema,
      onConnect(ctx) {
        const params = ctx.connectionParams ?? {};
        log.connectionParams.push(params);
        return params['x-router-secret'] === ROUTER_SECRET; // else 4403
      },
      onPing() {
        log.pings++;
      },
      context: (ctx) => ({ authorization: ctx.connectionParams?.authorization }),
    },
    wss,
    0,
  );
  service.app.addHook('preClose', async () => server.dispose());
  await service.app.listen({ port, host: '127.0.0.1' });
  const address = service.app.server.address() as { port: number };
  return {
    name,
    url: `http://127.0.0.1:${address.port}/graphql`,
    port: address.port,
    service,
    close: async () => {
      await service.app.close();
      await service.ops.close();
    },
  };
}

/** The supergraph of the three test subgraphs, written to a file the router can serve. */
export function writeSupergraph(subgraphs: TestSubgraph[]): { sdl: string; path: string } {
  const result = composeServices(subgraphs.map(({ name, url }) => ({ name, url, typeDefs: parse(SDL[name]) })));
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join('\n'));
  const path = join(mkdtempSync(join(tmpdir(), 'router-subscriptions-')), 'supergraph.graphql');
  writeFileSync(path, result.supergraphSdl);
  return { sdl: result.supergraphSdl, path };
}

/** Router settings for the tests: short keep-alives and idle time, small quotas. */
export const ROUTER_ENV = {
  LOG_LEVEL: 'silent',
  ROUTER_SECRET,
  SUBSCRIPTION_KEEPALIVE_MS: '300',
  SUBSCRIPTION_IDLE_CLOSE_MS: '1000',
  SUBSCRIPTION_RESUBSCRIBE_BUDGET_MS: '4000',
  SUBSCRIPTIONS_PER_CONNECTION: '4',
  SUBSCRIPTIONS_PER_CLIENT: '6',
  MAX_QUERY_ALIASES: '3',
  MAX_QUERY_COST: '20',
};
