import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { dataDir, readSettings, type ReadinessCheck } from '@shop/service';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { subgraphSettings } from './config.js';
import { DatabaseProbe, serverOf, statementCounter, statementSpans } from './db-probe.js';
import { measurePglite } from './patches/pglite.js';
import { preferPrepared } from './patches/postgres-js.js';

export { runInBackground } from './db-probe.js';

/** One drizzle type for both drivers: services never care which one they run on. */
export type Database<TSchema extends Record<string, unknown>> = PgDatabase<PgQueryResultHKT, TSchema>;

export interface DatabaseHandle<TSchema extends Record<string, unknown>> {
  db: Database<TSchema>;
  /** `postgres` when `<SERVICE>_DATABASE_URL` is set, else `pglite` under DATA_DIR. */
  driver: 'postgres' | 'pglite';
  /** The database's readiness checks: `database` (it runs a statement) and `migrations` (the newest is applied). */
  readiness: { database: ReadinessCheck; migrations: ReadinessCheck };
  /**
   * For the outbox relay: with PostgreSQL, a connection of its own, so that publishing never waits for a free
   * slot behind request traffic (the relay's lag is the events' latency); with PGlite, the one connection.
   */
  relayDb: Database<TSchema>;
  /** LISTENs to a notification channel (on a connection of its own with PostgreSQL); resolves to an unlisten. */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
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

/** Readiness check: the database runs a statement, or the check says why not. */
function answers(ping: () => Promise<void>): ReadinessCheck {
  return () =>
    ping().then(
      () => true as const,
      (error: Error) => error.message,
    );
}

/**
 * Readiness check: the newest migration of `migrationsFolder` is recorded in the database, as drizzle's
 * migrator records it. Asked of the database each time, so a database restored from an older backup shows.
 */
async function migrationsCheck(migrationsFolder: string, latestApplied: () => Promise<unknown>): Promise<ReadinessCheck> {
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
  // Declared and checked at start in the subgraph's own settings (databaseUrlSetting).
  const url = process.env[`${service.toUpperCase()}_DATABASE_URL`]?.trim();

  if (url) {
    const max = readSettings(subgraphSettings).DB_POOL_MAX;
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
    const migrations = await migrationsCheck(
      migrationsFolder,
      async () => (await client`select max(created_at) as latest from drizzle.__drizzle_migrations`)[0]?.latest,
    );
    const relayClient = postgres(url, { max: 1, idle_timeout: 30, onnotice: () => {} });
    return {
      db: db as unknown as Database<TSchema>,
      driver: 'postgres',
      readiness: { database: answers(async () => void (await client`select 1`)), migrations },
      relayDb: drizzlePostgres({ client: relayClient, schema, logger }) as unknown as Database<TSchema>,
      listen: async (channel, onNotify) => {
        const { unlisten } = await client.listen(channel, () => onNotify());
        return unlisten;
      },
      close: async () => {
        await relayClient.end({ timeout: 5 });
        await client.end({ timeout: 5 });
      },
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
  const migrations = await migrationsCheck(
    migrationsFolder,
    async () =>
      (await unmeasured<{ latest: unknown }>('select max(created_at) as latest from drizzle.__drizzle_migrations')).rows[0]?.latest,
  );
  return {
    db: db as unknown as Database<TSchema>,
    driver: 'pglite',
    readiness: { database: answers(async () => void (await unmeasured('select 1'))), migrations },
    relayDb: db as unknown as Database<TSchema>,
    listen: async (channel, onNotify) => {
      const unlisten = await client.listen(channel, () => onNotify());
      return () => unlisten();
    },
    close: () => client.close(),
  };
}
