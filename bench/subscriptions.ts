/**
 * `npm run bench -- --subscriptions`: subscriptions through one router (issue 14). The real stack (three subgraphs
 * and the router as processes, embedded PGlite), then:
 * - 10,000 clients (one WebSocket each, graphql-ws protocol) subscribe to StockUpdates for one product;
 * - the router's RSS is read before and after, and reported per 1,000 subscriptions;
 * - the product is restocked twice a second through the router; each event's fan-out latency is the time from
 *   the restock's answer (its commit is done by then) to the event at each client, and also from the restock's
 *   send, an upper bound; p50 and p99 over every client and event. Target: p99 under 250 ms.
 *
 *   npm run bench -- --subscriptions [--clients 10000] [--changes 20]
 *
 * The clients run in this one process: on a two-core machine their own work (10,000 sockets, 10,000 JSON parses a
 * change) is part of what is measured. Results go to stdout and bench/results/<time>-subscriptions.json.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { freePorts, startStack } from '../scripts/stack.js';

const ADMIN = { email: 'admin@bench.shop', password: 'admin-bench-password' };
const STOCK_UPDATES =
  'subscription StockUpdates($ids: [ID!]!) { productUpdated(ids: $ids) { id stock inStock price { amount currency } } }';

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function graphql(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<any> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** One client: a WebSocket speaking graphql-transport-ws by hand (the bench's clients must be light). */
function subscriber(wsUrl: string, productId: string, onStock: (stock: number, at: number) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    let subscribed = false;
    socket.on('message', (raw) => {
      const text = String(raw);
      // Events are read without JSON.parse: ten thousand clients share this process, and their own cost is
      // measured with the router's.
      if (subscribed) {
        const at = text.indexOf('"stock":');
        if (at > -1 && text.includes('"type":"next"')) onStock(parseInt(text.slice(at + 8), 10), performance.now());
        else if (text.includes('"type":"ping"')) socket.send('{"type":"pong"}');
        return;
      }
      const message = JSON.parse(text);
      if (message.type === 'connection_ack') {
        subscribed = true;
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: STOCK_UPDATES, variables: { ids: [productId] } } }));
        resolve(socket);
      } else if (message.type === 'next') {
        const stock = message.payload?.data?.productUpdated?.stock;
        if (typeof stock === 'number') onStock(stock, performance.now());
      } else if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
    });
    socket.on('error', reject);
  });
}

export async function benchSubscriptions(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { subscriptions: { type: 'boolean' }, clients: { type: 'string' }, changes: { type: 'string' } },
    strict: false,
  });
  const clients = Number(values.clients ?? 10_000);
  const changes = Number(values.changes ?? 20);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'shop-bench-subscriptions-'));
  const env = {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
    SEED_DEMO: 'false',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    ROUTER_SECRET: randomUUID(),
    SUBSCRIPTIONS_PER_CLIENT: String(clients + 100),
    SUBSCRIPTIONS_MAX: String(clients + 100),
    RATE_LIMIT_LOGIN_PER_IP: '100000',
  };
  console.log(`subscriptions bench: ${clients.toLocaleString('en')} clients, ${changes} changes at 2 a second`);
  const stack = await startStack(env, await freePorts());
  const sockets: WebSocket[] = [];
  try {
    const url = `${stack.router.url}/graphql`;
    const wsUrl = url.replace(/^http/, 'ws');
    const admin = (await graphql(url, 'mutation($input: LoginInput!) { login(input: $input) { token } }', { input: ADMIN })).login.token;
    const input = {
      sku: `BENCH-${randomUUID()}`,
      name: 'Watched',
      description: '',
      category: 'bench',
      price: { amount: 100, currency: 'USD' },
      stock: 1_000,
    };
    const product = (
      await graphql(url, 'mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } } }', { input }, admin)
    ).createProduct.product.id as string;
    const restock = 'mutation($id: ID!, $quantity: Int!) { restockProduct(id: $id, quantity: $quantity) { product { id stock } } }';

    const routerPid = stack.router.child!.pid!;
    // A few requests and subscriptions first, so that the RSS before counts a warm router.
    for (let i = 0; i < 20; i++) await graphql(url, restock, { id: product, quantity: 1 }, admin);
    await sleep(1_000);
    const rssBefore = rssOf(routerPid);

    /** For each stock level a change set: when its restock was sent and answered, and when each client saw it. */
    const changesByStock = new Map<number, { sentAt: number; answeredAt: number; seen: number[] }>();
    const onStock = (stock: number, at: number) => changesByStock.get(stock)?.seen.push(at);
    const opening = performance.now();
    for (let i = 0; i < clients; i += 200) {
      const batch = Array.from({ length: Math.min(200, clients - i) }, () => subscriber(wsUrl, product, onStock));
      sockets.push(...(await Promise.all(batch)));
    }
    const openedMs = performance.now() - opening;
    // Every subscribe has reached the router and the shared subgraph subscription is open.
    await sleep(2_000);
    const rssAfter = rssOf(routerPid);
    console.log(`opened ${sockets.length.toLocaleString('en')} subscriptions in ${(openedMs / 1000).toFixed(1)} s`);

    let stock = (await graphql(url, 'query($id: ID!) { product(id: $id) { stock } }', { id: product })).product.stock as number;
    for (let change = 0; change < changes; change++) {
      stock += 1;
      const entry = { sentAt: performance.now(), answeredAt: 0, seen: [] as number[] };
      changesByStock.set(stock, entry);
      const answered = graphql(url, restock, { id: product, quantity: 1 }, admin).then(() => (entry.answeredAt = performance.now()));
      await Promise.all([answered, sleep(500)]);
    }
    await sleep(3_000);

    const fromAnswer: number[] = [];
    const fromSend: number[] = [];
    let delivered = 0;
    for (const entry of changesByStock.values()) {
      delivered += entry.seen.length;
      for (const at of entry.seen) {
        fromAnswer.push(Math.max(0, at - entry.answeredAt));
        fromSend.push(at - entry.sentAt);
      }
    }
    fromAnswer.sort((a, b) => a - b);
    fromSend.sort((a, b) => a - b);
    const expected = changes * clients;
    const report = {
      mode: 'subscriptions',
      at: new Date().toISOString(),
      clients,
      changes,
      delivered,
      expected,
      routerRssMb: { before: mb(rssBefore), after: mb(rssAfter), per1000Subscriptions: mb(((rssAfter - rssBefore) / clients) * 1_000) },
      fanOutMs: {
        fromCommit: { p50: Math.round(percentile(fromAnswer, 50)), p99: Math.round(percentile(fromAnswer, 99)) },
        fromSend: { p50: Math.round(percentile(fromSend, 50)), p99: Math.round(percentile(fromSend, 99)) },
      },
      openSeconds: Math.round(openedMs / 100) / 10,
    };
    console.log(
      [
        `events delivered: ${delivered.toLocaleString('en')} of ${expected.toLocaleString('en')}`,
        `router RSS: ${report.routerRssMb.before} MB before, ${report.routerRssMb.after} MB with ${clients.toLocaleString('en')} subscriptions: ${report.routerRssMb.per1000Subscriptions} MB per 1,000`,
        `fan-out latency from the commit (the restock's answer): p50 ${report.fanOutMs.fromCommit.p50} ms, p99 ${report.fanOutMs.fromCommit.p99} ms (target p99 < 250 ms)`,
        `fan-out latency from the restock's send: p50 ${report.fanOutMs.fromSend.p50} ms, p99 ${report.fanOutMs.fromSend.p99} ms`,
      ].join('\n'),
    );
    const results = fileURLToPath(new URL('./results/', import.meta.url));
    mkdirSync(results, { recursive: true });
    writeFileSync(path.join(results, `${report.at.replace(/[:.]/g, '-')}-subscriptions.json`), `${JSON.stringify(report, null, 2)}\n`);
    return delivered === expected && report.fanOutMs.fromCommit.p99 < 250 ? 0 : 1;
  } finally {
    for (const socket of sockets) socket.terminate();
    await Promise.all(Object.values(stack).map((service) => service.stop('SIGTERM')));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
