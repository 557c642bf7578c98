import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { dataDir, envInt } from './env.js';
import { addReadinessCheck } from './http.js';
import { metrics } from './metrics.js';

/** One drizzle type for both drivers: services never care which one they run on. */
export type Database<TSchema extends Record<string, unknown>> = PgDatabase<PgQueryResultHKT, TSchema>;

export interface DatabaseHandle<TSchema extends Record<string, unknown>> {
  db: Database<TSchema>;
  /** `postgres` when `<SERVICE>_DATABASE_URL` is set, else `pglite` under DATA_DIR. */
  driver: 'postgres' | 'pglite';
  /** Answers when the database can run a statement; used by readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions<TSchema extends Record<string, unknown>> {
  /** Service name: picks `<NAME>_DATABASE_URL` and the PGlite directory `${DATA_DIR}/<name>`. */
  service: string;
  schema: TSchema;
  /** drizzle-kit's output folder; every migration in it is applied before the handle is returned. */
  migrationsFolder: string;
}

/**
 * A statement built once per database: drizzle otherwise renders a query's SQL on every call, which was the
 * largest single cost of a subgraph's hot reads in the bench's profiles. `build` makes the query with
 * `sql.placeholder`s and `.prepare()`s it; lists go in as one array parameter (`= any(...)`), so one statement
 * text serves every length and PostgreSQL plans it once per connection.
 */
export function preparedPerDatabase<TDatabase extends object, TPrepared>(
  build: (db: TDatabase) => TPrepared,
): (db: TDatabase) => TPrepared {
  const byDatabase = new WeakMap<TDatabase, TPrepared>();
  return (db) => {
    let prepared = byDatabase.get(db);
    if (prepared === undefined) byDatabase.set(db, (prepared = build(db)));
    return prepared;
  };
}

/**
 * A statement whose SQL depends on a shape (which filters a request uses, which sort, whether it has a cursor):
 * one prepared statement per database and shape, keyed by the shape's JSON. Shapes must be few and
 * server-chosen (booleans and enums), never request values, which go in as placeholders.
 */
export function preparedPerShape<TDatabase extends object, TShape, TPrepared>(
  build: (db: TDatabase, shape: TShape) => TPrepared,
): (db: TDatabase, shape: TShape) => TPrepared {
  const byDatabase = preparedPerDatabase((_db: TDatabase) => new Map<string, TPrepared>());
  return (db, shape) => {
    const statements = byDatabase(db);
    const key = JSON.stringify(shape);
    let prepared = statements.get(key);
    if (prepared === undefined) statements.set(key, (prepared = build(db, shape)));
    return prepared;
  };
}

const background = new AsyncLocalStorage<true>();

/** Runs work that no client request asked for (recovery sweeps, say), so its statements are counted apart. */
export function runInBackground<T>(work: () => Promise<T>): Promise<T> {
  return background.run(true, work);
}

/** Counts every statement by service and origin, so tests and benchmarks can see batching work. */
function statementCounter(service: string): DrizzleLogger {
  const forRequests = metrics.dbQueries.labels(service, 'request');
  const forBackground = metrics.dbQueries.labels(service, 'background');
  return { logQuery: () => (background.getStore() ? forBackground : forRequests).inc() };
}

/** Ends a statement's measurements; given the error when it failed. */
type StatementEnd = (error?: unknown) => void;

/** Opens a span for a statement, or returns undefined when there is nothing to attach it to. */
type StatementSpans = (text: string) => StatementEnd | undefined;

/**
 * What the database is doing, for /metrics and for traces: each statement's duration (and its span), and the
 * pool's state. A statement outside a transaction holds a connection while it runs and a transaction holds one
 * from BEGIN to COMMIT; whatever finds every connection held waits. Counted here because neither driver tells.
 */
class DatabaseProbe {
  private holding = 0;
  private readonly duration;
  private readonly busy;
  private readonly available;
  private readonly waiting;

  constructor(
    service: string,
    private readonly poolSize: number,
    private readonly spans?: StatementSpans,
  ) {
    this.duration = metrics.dbQueryDuration.labels(service);
    this.busy = metrics.dbPoolConnections.labels(service, 'busy');
    this.available = metrics.dbPoolConnections.labels(service, 'available');
    this.waiting = metrics.dbPoolWaiting.labels(service);
    metrics.dbPoolMaxConnections.labels(service).set(poolSize);
    this.update();
  }

  /** A statement is handed to the driver; call what this returns when it settles. */
  statement(text: string, inTransaction: boolean): StatementEnd {
    const started = performance.now();
    if (!inTransaction) this.hold(1);
    const endSpan = this.spans?.(text);
    let ended = false;
    return (error) => {
      if (ended) return;
      ended = true;
      this.duration.observe((performance.now() - started) / 1000);
      if (!inTransaction) this.hold(-1);
      endSpan?.(error);
    };
  }

  /** Runs a statement that a promise stands for. */
  async timed<T>(text: string, inTransaction: boolean, run: () => Promise<T>): Promise<T> {
    const end = this.statement(text, inTransaction);
    try {
      const result = await run();
      end();
      return result;
    } catch (error) {
      end(error);
      throw error;
    }
  }

  /** Runs a transaction, which holds one connection until it settles. */
  async transaction<T>(run: () => Promise<T>): Promise<T> {
    this.hold(1);
    try {
      return await run();
    } finally {
      this.hold(-1);
    }
  }

  private hold(delta: number) {
    this.holding += delta;
    this.update();
  }

  private update() {
    const busy = Math.min(this.holding, this.poolSize);
    this.busy.set(busy);
    this.available.set(this.poolSize - busy);
    this.waiting.set(this.holding - busy);
  }
}

/**
 * A span per statement, when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT, see ./tracing.ts): a child of the
 * resolver or request that ran it. Statements of background work with no span around them are not traced.
 * The text is drizzle's, with `$1` placeholders: parameter values never reach a span.
 */
async function statementSpans(attributes: Record<string, string | number>): Promise<StatementSpans | undefined> {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const { SpanKind, SpanStatusCode, trace } = await import('@opentelemetry/api');
  const tracer = trace.getTracer('@shop/kit/db');
  return (text) => {
    if (!trace.getActiveSpan()) return undefined;
    const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
    const span = tracer.startSpan(`${operation} ${attributes['db.namespace']}`, {
      kind: SpanKind.CLIENT,
      attributes: { ...attributes, 'db.operation.name': operation, 'db.query.text': text },
    });
    return (error) => {
      if (error !== undefined) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
      }
      span.end();
    };
  };
}

/** Span attributes naming the server and database of a URL (never its credentials). */
function serverOf(url: string, service: string): Record<string, string | number> {
  try {
    const { hostname, port, pathname } = new URL(url);
    return { 'db.namespace': decodeURIComponent(pathname.slice(1)), 'server.address': hostname, 'server.port': Number(port || 5432) };
  } catch {
    return { 'db.namespace': service }; // several hosts, which postgres.js accepts and URL does not
  }
}

/**
 * Calls `end` when a postgres.js query settles, and returns the query itself for drizzle to await. A query runs
 * a microtask after its first `then`, so the `.values()` that drizzle chains on it in the same expression still
 * applies.
 */
function onSettled<Q extends PromiseLike<unknown>>(query: Q, end: StatementEnd): Q {
  query.then(
    () => end(),
    (error: unknown) => end(error),
  );
  return query;
}

/**
 * postgres.js prepares tagged-template queries but not `unsafe()` ones, and drizzle only calls `unsafe()`.
 * An unprepared statement with parameters costs a describe round trip before every execution, so ask for
 * named prepared statements, in transactions too. Every drizzle statement passes here, so it is also where
 * statements and transactions are measured.
 */
function preferPrepared(sql: postgres.Sql, probe: DatabaseProbe): postgres.Sql {
  const unsafe = sql.unsafe.bind(sql);
  sql.unsafe = ((query: string, args?: unknown[], options?: postgres.UnsafeQueryOptions) =>
    onSettled(
      unsafe(query, args as postgres.ParameterOrJSON<never>[], { prepare: true, ...options }),
      probe.statement(query, false),
    )) as typeof sql.unsafe;
  const begin = sql.begin.bind(sql) as (...args: unknown[]) => Promise<unknown>;
  sql.begin = ((...args: unknown[]) => {
    const callback = args.pop() as (tx: postgres.TransactionSql) => unknown;
    return probe.transaction(() => begin(...args, (tx: postgres.TransactionSql) => callback(preferPreparedTx(tx, probe))));
  }) as typeof sql.begin;
  return sql;
}

function preferPreparedTx(tx: postgres.TransactionSql, probe: DatabaseProbe): postgres.TransactionSql {
  const unsafe = tx.unsafe.bind(tx);
  tx.unsafe = ((query: string, args?: unknown[], options?: postgres.UnsafeQueryOptions) =>
    onSettled(
      unsafe(query, args as postgres.ParameterOrJSON<never>[], { prepare: true, ...options }),
      probe.statement(query, true),
    )) as typeof tx.unsafe;
  const savepoint = tx.savepoint.bind(tx) as (...args: unknown[]) => Promise<unknown>;
  tx.savepoint = ((...args: unknown[]) => {
    const callback = args.pop() as (sp: postgres.TransactionSql) => unknown;
    return savepoint(...args, (sp: postgres.TransactionSql) => callback(preferPreparedTx(sp, probe)));
  }) as typeof tx.savepoint;
  return tx;
}

/** Times PGlite's statements, in transactions too. PGlite runs one statement at a time: a pool of one. */
function measurePglite(client: PGlite, probe: DatabaseProbe): void {
  const query = client.query.bind(client);
  client.query = ((text: string, params?: unknown[], options?: object) =>
    probe.timed(text, false, () => query(text, params, options))) as typeof client.query;
  const transaction = client.transaction.bind(client);
  client.transaction = ((callback: (tx: Transaction) => Promise<unknown>) =>
    probe.transaction(() =>
      transaction((tx) => {
        const txQuery = tx.query.bind(tx);
        tx.query = ((text: string, params?: unknown[], options?: object) =>
          probe.timed(text, true, () => txQuery(text, params, options))) as typeof tx.query;
        return callback(tx);
      }),
    )) as typeof client.transaction;
}

/**
 * Readiness check: the newest migration of `migrationsFolder` is recorded in the database, as drizzle's
 * migrator records it. Asked of the database each time, so a database restored from an older backup shows.
 */
async function migrationsCheck(migrationsFolder: string, latestApplied: () => Promise<unknown>): Promise<() => Promise<true | string>> {
  const journal = JSON.parse(await readFile(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: { when: number; tag: string }[];
  };
  const newest = journal.entries.at(-1);
  return async () => {
    if (!newest) return true;
    try {
      const applied = Number(await latestApplied());
      return applied >= newest.when ? true : `migration ${newest.tag} is not applied`;
    } catch (error) {
      return `cannot read applied migrations: ${(error as Error).message}`;
    }
  };
}

export async function openDatabase<TSchema extends Record<string, unknown>>(
  options: OpenDatabaseOptions<TSchema>,
): Promise<DatabaseHandle<TSchema>> {
  const { service, schema, migrationsFolder } = options;
  const logger = statementCounter(service);
  const url = process.env[`${service.toUpperCase()}_DATABASE_URL`];

  if (url) {
    const max = envInt('DB_POOL_MAX', 10);
    const spans = await statementSpans({ 'db.system.name': 'postgresql', ...serverOf(url, service) });
    const client = preferPrepared(
      postgres(url, {
        max,
        idle_timeout: 30,
        onnotice: () => {},
      }),
      new DatabaseProbe(service, max, spans),
    );
    const db = drizzlePostgres({ client, schema, logger });
    // Replicas starting together must not apply the same migration twice.
    const lock = await client.reserve();
    try {
      await lock`select pg_advisory_lock(hashtext(${`migrate:${service}`}))`;
      await migratePostgres(db, { migrationsFolder });
    } finally {
      await lock`select pg_advisory_unlock(hashtext(${`migrate:${service}`}))`;
      lock.release();
    }
    addReadinessCheck(
      'migrations',
      await migrationsCheck(
        migrationsFolder,
        async () => (await client`select max(created_at) as latest from drizzle.__drizzle_migrations`)[0]?.latest,
      ),
    );
    return {
      db: db as unknown as Database<TSchema>,
      driver: 'postgres',
      ping: async () => void (await client`select 1`),
      close: () => client.end({ timeout: 5 }),
    };
  }

  const directory = path.join(dataDir(), service);
  await mkdir(directory, { recursive: true });
  const client = await PGlite.create(directory);
  // Readiness checks go around the measurements, so that probes do not show as traffic.
  const unmeasured = client.query.bind(client);
  measurePglite(client, new DatabaseProbe(service, 1, await statementSpans({ 'db.system.name': 'postgresql', 'db.namespace': service })));
  const db = drizzlePglite({ client, schema, logger });
  await migratePglite(db, { migrationsFolder });
  addReadinessCheck(
    'migrations',
    await migrationsCheck(
      migrationsFolder,
      async () =>
        (await unmeasured<{ latest: unknown }>('select max(created_at) as latest from drizzle.__drizzle_migrations')).rows[0]?.latest,
    ),
  );
  return {
    db: db as unknown as Database<TSchema>,
    driver: 'pglite',
    ping: async () => void (await unmeasured('select 1')),
    close: () => client.close(),
  };
}
