import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { dataDir, envInt } from './env.js';
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

/**
 * postgres.js prepares tagged-template queries but not `unsafe()` ones, and drizzle only calls `unsafe()`.
 * An unprepared statement with parameters costs a describe round trip before every execution, so ask for
 * named prepared statements, in transactions too.
 */
function preferPrepared(sql: postgres.Sql): postgres.Sql {
  const unsafe = sql.unsafe.bind(sql);
  sql.unsafe = ((query: string, args?: unknown[], options?: postgres.UnsafeQueryOptions) =>
    unsafe(query, args as postgres.ParameterOrJSON<never>[], { prepare: true, ...options })) as typeof sql.unsafe;
  const begin = sql.begin.bind(sql) as (...args: unknown[]) => Promise<unknown>;
  sql.begin = ((...args: unknown[]) => {
    const callback = args.pop() as (tx: postgres.TransactionSql) => unknown;
    return begin(...args, (tx: postgres.TransactionSql) => callback(preferPreparedTx(tx)));
  }) as typeof sql.begin;
  return sql;
}

function preferPreparedTx(tx: postgres.TransactionSql): postgres.TransactionSql {
  const unsafe = tx.unsafe.bind(tx);
  tx.unsafe = ((query: string, args?: unknown[], options?: postgres.UnsafeQueryOptions) =>
    unsafe(query, args as postgres.ParameterOrJSON<never>[], { prepare: true, ...options })) as typeof tx.unsafe;
  const savepoint = tx.savepoint.bind(tx) as (...args: unknown[]) => Promise<unknown>;
  tx.savepoint = ((...args: unknown[]) => {
    const callback = args.pop() as (sp: postgres.TransactionSql) => unknown;
    return savepoint(...args, (sp: postgres.TransactionSql) => callback(preferPreparedTx(sp)));
  }) as typeof tx.savepoint;
  return tx;
}

export async function openDatabase<TSchema extends Record<string, unknown>>(
  options: OpenDatabaseOptions<TSchema>,
): Promise<DatabaseHandle<TSchema>> {
  const { service, schema, migrationsFolder } = options;
  const logger = statementCounter(service);
  const url = process.env[`${service.toUpperCase()}_DATABASE_URL`];

  if (url) {
    const client = preferPrepared(
      postgres(url, {
        max: envInt('DB_POOL_MAX', 10),
        idle_timeout: 30,
        onnotice: () => {},
      }),
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
  const db = drizzlePglite({ client, schema, logger });
  await migratePglite(db, { migrationsFolder });
  return {
    db: db as unknown as Database<TSchema>,
    driver: 'pglite',
    ping: async () => void (await client.query('select 1')),
    close: () => client.close(),
  };
}
