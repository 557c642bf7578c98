/**
 * Operating the shop: liveness and readiness, Prometheus metrics that move with traffic, request ids in the
 * subgraphs' logs, traces exported over OTLP, and a graceful shutdown under a request in flight.
 *
 * The first part reads the shared stack. The second starts a stack of its own, with tracing on (a small OTLP
 * receiver in this file), debug logs and a slow payment provider, and stops and restarts its services.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ServiceProcess, startStack, sumMetric, type ServiceName, freePort, freePorts } from '../scripts/stack.js';
import { contractOperation, eventually, metric, post, run, type GraphQLResponse } from './client.js';
import { TEST_ADMIN } from './fixtures.js';
import { freshStorage } from './storage.js';
import { SUBGRAPH_NAMES } from '@shop/service/services';

const SUBGRAPHS = SUBGRAPH_NAMES;
const SERVICES = ['router', ...SUBGRAPHS] as const;

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

/** The JSON log lines a service printed (pino, one object a line). */
function logLines(service: ServiceProcess): Record<string, unknown>[] {
  return service.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return []; // the first line of the kept tail can be cut
      }
    });
}

// ---- the shared stack -------------------------------------------------------------------------------------

describe('health and readiness', () => {
  it('answers /health on every service', async () => {
    for (const service of SERVICES) {
      const { status, body } = await getJson(`${inject('opsUrls')[service]}/health`);
      expect({ service, status, body }).toEqual({ service, status: 200, body: { status: 'ok', pid: expect.any(Number) } });
    }
  });

  it('has each subgraph ready once its database answers and its migrations are applied', async () => {
    for (const service of SUBGRAPHS) {
      const { status, body } = await getJson(`${inject('opsUrls')[service]}/ready`);
      expect({ service, status, body }).toEqual({
        service,
        status: 200,
        body: { status: 'ready', checks: { database: true, migrations: true } },
      });
    }
  });

  it('has the router ready once its supergraph is loaded and every subgraph answers', async () => {
    const { status, body } = await getJson(`${inject('opsUrls').router}/ready`);
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ready', checks: { supergraph: true, users: true, products: true, orders: true } });
  });
});

describe('the ops port', () => {
  it('keeps /health, /ready and /metrics off the GraphQL port that clients reach', async () => {
    for (const service of SERVICES) {
      for (const path of ['/health', '/ready', '/metrics']) {
        expect((await fetch(`${inject('serviceUrls')[service]}${path}`)).status, `${service} ${path}`).toBe(404);
      }
    }
  });

  it("reuses the router's readiness answer, so a burst of probes asks each subgraph once at most", async () => {
    const readinessChecks = () => metric('users', 'graphql_requests_total', { operation_name: 'anonymous' });
    const before = await readinessChecks();
    const probes = await Promise.all(Array.from({ length: 20 }, () => fetch(`${inject('opsUrls').router}/ready`)));
    expect(probes.map((probe) => probe.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect((await readinessChecks()) - before).toBeLessThanOrEqual(1);
  });
});

describe('metrics', () => {
  it('serves Prometheus text with the process metrics on every service', async () => {
    for (const service of SERVICES) {
      const response = await fetch(`${inject('opsUrls')[service]}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
        expect(text, `${service} ${name}`).toContain(`\n${name} `);
      }
      expect(text).toContain('# TYPE graphql_request_duration_seconds histogram');
    }
  });

  it('counts operations by name and type, times them, and counts errors by code', async () => {
    const operation = { operation_name: 'Login', operation_type: 'mutation' };
    const read = () =>
      Promise.all([
        metric('router', 'graphql_requests_total', operation),
        metric('router', 'graphql_request_duration_seconds_count', operation),
        metric('router', 'graphql_request_duration_seconds_bucket', { ...operation, le: '+Inf' }),
        metric('router', 'graphql_errors_total', { code: 'INVALID_CREDENTIALS' }),
        metric('users', 'graphql_requests_total', { operation_type: 'mutation' }),
      ]);
    const before = await read();
    const refused = await run('Login', { input: { email: `nobody-${randomUUID()}@test.shop`, password: 'not the password' } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
    const admitted = await run('Login', { input: TEST_ADMIN });
    expect(admitted.data?.login?.token).toBeTruthy();
    const after = await read();
    expect(after.map((value, i) => value - before[i]!)).toEqual([2, 2, 2, 1, 2]);
  });

  it('times the router fetches by subgraph', async () => {
    const read = () =>
      Promise.all(SUBGRAPHS.map((subgraph) => metric('router', 'router_subgraph_fetch_duration_seconds_count', { subgraph })));
    const before = await read();
    const response = await run('Catalogue', { first: 1 });
    expect(response.errors).toBeUndefined();
    const after = await read();
    expect(after[1]! - before[1]!).toBe(1); // products, and no other subgraph
    expect(after[0]! - before[0]! + after[2]! - before[2]!).toBe(0);
    expect(await metric('router', 'router_subgraph_fetch_duration_seconds_sum', { subgraph: 'products' })).toBeGreaterThan(0);
  });

  it('times SQL statements and shows the connection pool on each subgraph', async () => {
    // One scrape for both, so that statements of background work in between cannot fall into one count only.
    const read = async () => {
      const scrape = await (await fetch(`${inject('opsUrls').products}/metrics`)).text();
      return [
        sumMetric(scrape, 'db_query_duration_seconds_count', { service: 'products' }),
        sumMetric(scrape, 'db_queries_total', { service: 'products', origin: 'request' }),
      ];
    };
    const [timedBefore, countedBefore] = await read();
    // A category of its own: with NATS the router answers a catalogue query it has seen from its entity cache.
    await run('Catalogue', { first: 3, filter: { category: randomUUID() } });
    const [timedAfter, countedAfter] = await read();
    // Every statement drizzle counts for a request is also timed (readiness probes and background work are neither).
    expect(timedAfter! - timedBefore!).toBeGreaterThan(0);
    expect(timedAfter! - timedBefore!).toBe(countedAfter! - countedBefore!);

    const poolSize = inject('driver') === 'postgres' ? 10 : 1;
    for (const service of SUBGRAPHS) {
      expect(await metric(service, 'db_pool_max_connections', { service })).toBe(poolSize);
      // One scrape for both: background work (the outbox relay, recovery) can take a connection between two.
      const scrape = await (await fetch(`${inject('opsUrls')[service]}/metrics`)).text();
      const busy = sumMetric(scrape, 'db_pool_connections', { service, state: 'busy' });
      const available = sumMetric(scrape, 'db_pool_connections', { service, state: 'available' });
      expect(busy + available).toBe(poolSize);
      expect(busy).toBeGreaterThanOrEqual(0);
      expect(await metric(service, 'db_pool_waiting', { service })).toBeGreaterThanOrEqual(0);
    }
  });
});

// ---- a subgraph whose database goes away (real PostgreSQL only) -------------------------------------------

describe.skipIf(!process.env.TEST_POSTGRES_URL)('a subgraph whose database stops accepting connections', () => {
  it('is not ready, says why, and is ready again once the database is back', async () => {
    const serverUrl = process.env.TEST_POSTGRES_URL!;
    const database = `shop_ops_products_${Date.now().toString(36)}_${process.pid}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'shop-ops-db-'));
    await admin.unsafe(`create database ${database}`);
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    const products = new ServiceProcess('products', await freePort(), {
      PRODUCTS_DATABASE_URL: url.toString(),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
      SEED_DEMO: 'false',
    });
    try {
      await products.start();
      expect(await getJson(`${products.opsUrl}/ready`)).toEqual({
        status: 200,
        body: { status: 'ready', checks: { database: true, migrations: true } },
      });

      await admin.unsafe(`alter database ${database} allow_connections false`);
      await admin.unsafe(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${database}'`);
      const down = await eventually(async () => {
        const ready = await getJson(`${products.opsUrl}/ready`);
        expect(ready.status).toBe(503);
        return ready.body;
      });
      expect(down.status).toBe('not ready');
      expect(down.checks.database, 'what the database said').toEqual(expect.any(String));
      expect(down.checks.migrations).toEqual(expect.any(String));
      expect((await fetch(`${products.opsUrl}/health`)).status, 'alive all the same').toBe(200);

      await admin.unsafe(`alter database ${database} allow_connections true`);
      await eventually(async () => expect((await getJson(`${products.opsUrl}/ready`)).status).toBe(200));
    } finally {
      expect(await products.stop('SIGTERM')).toBe(0);
      await admin.unsafe(`drop database if exists ${database} with (force)`);
      await admin.end();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

// ---- a stack of its own: traces, logs, a subgraph going away, shutdown ------------------------------------

/** An OTLP/HTTP receiver: keeps every export request's body. */
class OtlpReceiver {
  readonly exports: { path: string; contentType: string; body: Buffer }[] = [];
  private readonly server: Server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.exports.push({ path: request.url ?? '', contentType: request.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The spans exported by `service` (its resource's service.name), as raw protobuf bodies. */
  from(service: string): Buffer[] {
    // KeyValue { key: "service.name", value: AnyValue { string_value: service } } in protobuf wire format.
    const name = Buffer.from(service);
    const resource = Buffer.concat([Buffer.from('service.name'), Buffer.from([0x12, name.length + 2, 0x0a, name.length]), name]);
    return this.exports.filter((e) => e.body.includes(resource)).map((e) => e.body);
  }
}

describe('a stack of its own', () => {
  const receiver = new OtlpReceiver();
  let stack: Record<ServiceName, ServiceProcess>;
  let routerUrl: string;
  let cleanup: (() => Promise<void>) | undefined;

  const send = <T = any>(name: string, variables: Record<string, unknown>, token?: string, headers: Record<string, string> = {}) =>
    post<T>({ query: contractOperation(name), operationName: name, variables }, token, routerUrl, headers);

  beforeAll(async () => {
    const endpoint = await receiver.start();
    const storage = await freshStorage('ops');
    cleanup = async () => {
      await Promise.all(Object.values(stack ?? {}).map((service) => service.stop('SIGTERM')));
      await receiver.stop();
      await storage.remove();
    };
    const ports = await freePorts();
    stack = await startStack(
      {
        ...storage.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'debug',
        ADMIN_EMAIL: TEST_ADMIN.email,
        ADMIN_PASSWORD: TEST_ADMIN.password,
        SEED_DEMO: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '100', // export within a tenth of a second, not five
        PAYMENT_LATENCY_MS: '1500', // a payment is a request still in flight a second after it starts
      },
      ports,
    );
    routerUrl = `${stack.router.url}/graphql`;
  }, 180_000);

  afterAll(() => cleanup?.(), 60_000);

  it('exports one trace per request over OTLP, from the router through the subgraphs down to SQL', async () => {
    // The client's own trace context: the router continues it, and passes it on to every subgraph it calls.
    const traceId = randomBytes(16);
    const traceparent = `00-${traceId.toString('hex')}-${randomBytes(8).toString('hex')}-01`;
    const response = await send('Catalogue', { first: 2 }, undefined, { traceparent });
    expect(response.errors).toBeUndefined();

    await eventually(async () => {
      for (const exported of receiver.exports) {
        expect(exported.path).toBe('/v1/traces');
        expect(exported.contentType).toBe('application/x-protobuf');
      }
      const router = receiver.from('router').filter((body) => body.includes(traceId));
      const products = receiver.from('products').filter((body) => body.includes(traceId));
      expect(router.length, 'spans of the trace from the router').toBeGreaterThan(0);
      expect(products.length, 'spans of the trace from products').toBeGreaterThan(0);
      expect(Buffer.concat(router).includes('gateway.fetch'), 'the query plan').toBe(true);
      const fromProducts = Buffer.concat(products);
      expect(fromProducts.includes('@opentelemetry/instrumentation-http'), 'the HTTP server span').toBe(true);
      expect(fromProducts.includes('graphql.resolve products'), 'resolvers').toBe(true);
      expect(fromProducts.includes('db.query.text'), 'SQL statements').toBe(true);
      expect(fromProducts.includes('from "products"'), 'the statement text').toBe(true);
    });
    // Probes and readiness checks start no traces: every export so far belongs to a request.
    expect(receiver.exports.some((e) => e.body.includes('{ __typename }'))).toBe(false);
  });

  it('logs under the client request id in every subgraph a request reaches, and never a password or token', async () => {
    const password = `pw-${randomUUID()}`;
    const email = `ops-${randomUUID()}@test.shop`;
    const registered = await send('Register', { input: { email, password, name: 'Ops' } });
    const token = registered.data.register.token as string;

    const requestId = `ops-${randomUUID()}`;
    const history = await send('OrderHistory', { first: 5 }, token, { 'x-request-id': requestId });
    expect(history.errors).toBeUndefined();
    // The router keeps a client's id marked as the client's, and every service logs under that.
    const loggedAs = `client:${requestId}`;
    expect(history.headers.get('x-request-id')).toBe(loggedAs);

    // OrderHistory reaches users (me) and orders (User.orders); each logs its operation under the same id.
    for (const service of ['router', 'users', 'orders'] as const) {
      const line = await eventually(async () => {
        const found = logLines(stack[service]).find((l) => l.reqId === loggedAs && l.msg === 'graphql operation');
        expect(found, `${service} logs the request under ${loggedAs}`).toBeDefined();
        return found!;
      });
      expect(line).toMatchObject({ level: 20, name: service, operationType: 'query', errors: 0 });
      expect(line.operationName).toMatch(/^OrderHistory/);
      expect(line.durationMs).toEqual(expect.any(Number));
    }
    for (const service of Object.values(stack)) {
      expect(service.output, `${service.name} logs a password`).not.toContain(password);
      expect(service.output, `${service.name} logs a token`).not.toContain(token);
      expect(service.output, `${service.name} logs variables`).not.toContain(email);
    }
  });

  it("carries a checkout's request id from orders into its stock call to products", async () => {
    const admin = (await send('Login', { input: TEST_ADMIN })).data.login.token as string;
    const input = {
      sku: `OPS-${randomUUID()}`,
      name: 'Request id item',
      description: '',
      category: 'ops',
      price: { amount: 100, currency: 'USD' },
      stock: 5,
    };
    const productId = (await send('CreateProduct', { input }, admin)).data.createProduct.product.id as string;
    const buyer = (await send('Register', { input: { email: `rid-${randomUUID()}@test.shop`, password: 'long enough', name: 'Rid' } })).data
      .register.token as string;
    const requestId = `checkout-${randomUUID()}`;
    const placed = await send('PlaceOrder', { input: { items: [{ productId, quantity: 1 }], idempotencyKey: randomUUID() } }, buyer, {
      'x-request-id': requestId,
    });
    expect(placed.errors).toBeUndefined();
    // The router's own fetch of the order's products carries the id too; the stock call is the mutation.
    const line = await eventually(async () => {
      const found = logLines(stack.products).find(
        (l) => l.reqId === `client:${requestId}` && l.msg === 'graphql operation' && l.operationType === 'mutation',
      );
      expect(found, `products logs the stock reservation under client:${requestId}`).toBeDefined();
      return found!;
    });
    expect(line).toMatchObject({ errors: 0 });
  });

  it('has the router not ready while a subgraph is down, naming it, and ready again once it is back', async () => {
    expect(await stack.products.stop('SIGTERM')).toBe(0);
    // The router keeps a readiness answer for READINESS_CACHE_MS: a probe just before the stop may still be served.
    const { body } = await eventually(async () => {
      const ready = await getJson(`${stack.router.opsUrl}/ready`);
      expect(ready.status).toBe(503);
      return ready;
    }, 10_000);
    expect(body.status).toBe('not ready');
    expect(body.checks).toMatchObject({ supergraph: true, users: true, orders: true });
    expect(body.checks.products, 'what went wrong').toEqual(expect.any(String));

    await stack.products.start();
    await eventually(
      async () => expect(await getJson(`${stack.router.opsUrl}/ready`)).toMatchObject({ status: 200, body: { status: 'ready' } }),
      10_000,
    );
  });

  it('finishes a request in flight on SIGTERM, refuses new ones, and exits 0', async () => {
    const admin = (await send('Login', { input: TEST_ADMIN })).data.login.token as string;
    const input = {
      sku: `OPS-${randomUUID()}`,
      name: 'Drain test item',
      description: '',
      category: 'ops',
      price: { amount: 500, currency: 'USD' },
      stock: 5,
    };
    const product = (await send('CreateProduct', { input }, admin)).data.createProduct.product.id as string;
    const buyer = (await send('Register', { input: { email: `drain-${randomUUID()}@test.shop`, password: 'long enough', name: 'Drain' } }))
      .data.register.token as string;
    const placed = await send(
      'PlaceOrder',
      { input: { items: [{ productId: product, quantity: 1 }], idempotencyKey: randomUUID() } },
      buyer,
    );
    const orderId = placed.data.placeOrder.order.id as string;

    // The payment takes 1.5 s (PAYMENT_LATENCY_MS); orders is told to stop half a second in.
    const started = Date.now();
    const payment: Promise<GraphQLResponse> = send('PayOrder', { input: { orderId, paymentToken: 'tok_visa' } }, buyer);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const exited = stack.orders.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await fetch(`${stack.orders.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    }).then(
      (r) => r.status,
      () => 'refused' as const,
    );
    expect(['refused', 503], 'a new request while draining').toContain(refused);
    // Readiness turns 503 at once, so the orchestrator sends no more traffic; liveness holds until the exit.
    const ready = await fetch(`${stack.orders.opsUrl}/ready`).then(async (r) => ({ status: r.status, body: await r.json() }));
    expect(ready).toEqual({ status: 503, body: { status: 'not ready', checks: { shutdown: 'shutting down' } } });

    const paid = await payment;
    expect(paid.errors).toBeUndefined();
    expect(paid.data.payOrder.order).toMatchObject({ id: orderId, status: 'PAID' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(await exited).toBe(0);
    const lines = logLines(stack.orders);
    expect(lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
    expect(
      lines.filter((l) => (l.level as number) >= 50),
      'errors while shutting down',
    ).toEqual([]);
  });
});
