/**
 * The database layer's measurements, on a database of its own: statement durations, the pool gauges while
 * transactions hold connections, and a span per statement inside a traced request (none outside one).
 * Runs on embedded PGlite, and on PostgreSQL too when TEST_POSTGRES_URL is set.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db.js';
import { metrics } from '@shop/service';

const SERVICE = 'dbprobe';

async function gauge(
  metric: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> },
  labels: Record<string, string>,
) {
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))?.value;
}

const pool = {
  busy: () => gauge(metrics.dbPoolConnections, { service: SERVICE, state: 'busy' }),
  available: () => gauge(metrics.dbPoolConnections, { service: SERVICE, state: 'available' }),
  waiting: () => gauge(metrics.dbPoolWaiting, { service: SERVICE }),
  max: () => gauge(metrics.dbPoolMaxConnections, { service: SERVICE }),
};

async function statementsTimed(): Promise<number> {
  const { values } = await metrics.dbQueryDuration.get();
  return values.find((v) => v.metricName === 'db_query_duration_seconds_count' && v.labels.service === SERVICE)?.value ?? 0;
}

/** Resolves when the gauges say so; the driver settles a statement a few ticks after its result arrives. */
async function until(check: () => Promise<boolean>) {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const drivers = [
  { driver: 'pglite', poolSize: 1 },
  ...(process.env.TEST_POSTGRES_URL ? [{ driver: 'postgres', poolSize: 2 }] : []),
] as const;

describe.each(drivers)('the database probe on $driver', ({ driver, poolSize }) => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let directory: string;
  let database: DatabaseHandle<Record<string, never>>;
  let dropDatabase = async () => {};
  const saved = { ...process.env };

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'shop-db-'));
    const migrations = path.join(directory, 'drizzle');
    await mkdir(path.join(migrations, 'meta'), { recursive: true });
    await writeFile(path.join(migrations, '0000_init.sql'), 'create table notes (id serial primary key, body text not null);');
    await writeFile(
      path.join(migrations, 'meta', '_journal.json'),
      JSON.stringify({
        version: '7',
        dialect: 'postgresql',
        entries: [{ idx: 0, version: '7', when: 1700000000000, tag: '0000_init', breakpoints: true }],
      }),
    );
    process.env.DATA_DIR = directory;
    process.env.DB_POOL_MAX = String(poolSize);
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://127.0.0.1:1'; // spans on; this provider takes them
    if (driver === 'postgres') {
      const name = `shop_db_probe_${Date.now().toString(36)}_${process.pid}`;
      const admin = postgres(process.env.TEST_POSTGRES_URL!, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database ${name}`);
      const url = new URL(process.env.TEST_POSTGRES_URL!);
      url.pathname = `/${name}`;
      process.env[`${SERVICE.toUpperCase()}_DATABASE_URL`] = url.toString();
      dropDatabase = async () => {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end();
      };
    }
    provider.register();
    database = await openDatabase({ service: SERVICE, schema: {}, migrationsFolder: migrations });
  });

  afterAll(async () => {
    await database?.close();
    await dropDatabase();
    await provider.shutdown();
    trace.disable();
    context.disable();
    process.env = saved;
    await rm(directory, { recursive: true, force: true });
  });

  it('reports the pool size, all of it available when idle', async () => {
    expect(await pool.max()).toBe(poolSize);
    expect(await pool.busy()).toBe(0);
    expect(await pool.available()).toBe(poolSize);
    expect(await pool.waiting()).toBe(0);
  });

  it('times every statement, a failed one too', async () => {
    const before = await statementsTimed();
    await database.db.execute(sql`insert into notes (body) values ('one')`);
    await database.db.execute(sql`select count(*) from notes`);
    await expect(database.db.execute(sql`select * from no_such_table`)).rejects.toThrow();
    await until(async () => (await statementsTimed()) - before === 3);
    await until(async () => (await pool.busy()) === 0);
  });

  it('counts connections held by open transactions, and statements waiting for one', async () => {
    const releases: (() => void)[] = [];
    const transactions = Array.from({ length: poolSize }, () =>
      database.db.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        await new Promise<void>((resolve) => releases.push(resolve));
      }),
    );
    let waiting: Promise<unknown> | undefined;
    try {
      await until(async () => releases.length === poolSize);
      expect(await pool.busy()).toBe(poolSize);
      expect(await pool.available()).toBe(0);

      // drizzle's queries are lazy: this one starts when something awaits it.
      waiting = Promise.resolve(database.db.execute(sql`select 2`));
      await until(async () => (await pool.waiting()) === 1);
    } finally {
      for (const release of releases) release();
      await Promise.all([...transactions, waiting]);
    }
    await until(async () => (await pool.busy()) === 0 && (await pool.waiting()) === 0);
    expect(await pool.available()).toBe(poolSize);
  });

  it('opens a span per statement under the request that ran it, with the text and never the values', async () => {
    exporter.reset();
    const tracer = trace.getTracer('test');
    await tracer.startActiveSpan('request', async (request) => {
      await database.db.execute(sql`select body from notes where body = ${'secret value'}`);
      request.end();
    });
    await database.db.execute(sql`select 'outside any request'`);
    await until(async () => exporter.getFinishedSpans().some((s) => s.name === 'request'));

    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.name === 'request')!;
    const statements = spans.filter((s) => s.instrumentationScope.name === '@shop/subgraph/db');
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement!.name).toMatch(/^SELECT /);
    expect(statement!.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(statement!.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.operation.name': 'SELECT',
      'db.query.text': 'select body from notes where body = $1',
    });
    expect(JSON.stringify(statement!.attributes)).not.toContain('secret value');
  });
});
