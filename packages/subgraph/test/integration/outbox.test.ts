import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { asc, isNull } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvents, event, OUTBOX_CHANNEL, type CloudEvent } from '../../src/events/event.js';
import { OutboxRelay } from '../../src/events/relay.js';
import { outboxTable } from '../../src/events/table.js';

/**
 * The outbox and its relay on a database of their own: PGlite in memory, or with TEST_POSTGRES_URL a fresh
 * PostgreSQL database, where several relays really run side by side.
 */
const outbox = outboxTable();
type Db = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;
let db: Db;
let listen: (channel: string, onNotify: () => void) => Promise<() => Promise<void>>;
let close: () => Promise<void>;
const driver = process.env.TEST_POSTGRES_URL ? 'postgres' : 'pglite';
const silent = { warn: () => {}, info: () => {}, error: () => {} } as never;

const DDL = `create table outbox (
  seq bigserial primary key, id uuid not null unique, type text not null, subject text not null,
  time timestamp(3) with time zone not null default now(), data jsonb not null, published_at timestamp(3) with time zone);
create index outbox_unpublished_idx on outbox (seq) where published_at is null;`;

beforeAll(async () => {
  if (driver === 'postgres') {
    const name = `shop_outbox_${Date.now().toString(36)}_${process.pid}`;
    const admin = postgres(process.env.TEST_POSTGRES_URL!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(process.env.TEST_POSTGRES_URL!);
    url.pathname = `/${name}`;
    const client = postgres(url.toString(), { max: 10, onnotice: () => {} });
    await client.unsafe(DDL);
    db = drizzlePostgres({ client }) as unknown as Db;
    listen = async (channel, onNotify) => (await client.listen(channel, () => onNotify())).unlisten;
    close = async () => {
      await client.end();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  } else {
    const client = await PGlite.create();
    await client.exec(DDL);
    db = drizzlePglite({ client }) as unknown as Db;
    listen = async (channel, onNotify) => client.listen(channel, () => onNotify());
    close = () => client.close();
  }
}, 60_000);

afterAll(() => close?.());

const stockChanged = (subject: string, n: number) =>
  event('shop.product.stock_changed', subject, { productId: subject, stock: n, delta: 1 });

describe(`the outbox on ${driver}`, () => {
  it('keeps events of a committed transaction and none of a rolled-back one', async () => {
    const kept = randomUUID();
    const dropped = randomUUID();
    await db.transaction((tx) => appendEvents(tx, outbox, [stockChanged(kept, 1), stockChanged(kept, 2)]));
    await db
      .transaction(async (tx) => {
        await appendEvents(tx, outbox, [stockChanged(dropped, 1)]);
        throw new Error('rolled back');
      })
      .catch(() => {});
    const rows = await db.select().from(outbox).orderBy(asc(outbox.seq));
    expect(rows.filter((row) => row.subject === kept).map((row) => (row.data as { stock: number }).stock)).toEqual([1, 2]);
    expect(rows.filter((row) => row.subject === dropped)).toEqual([]);
    expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
  });

  it('several relays publish every event once, each subject in order, woken by the commit', async () => {
    const subjects: string[] = Array.from({ length: 12 }, () => randomUUID());
    const published: CloudEvent[] = [];
    const relays = [0, 1, 2].map(
      () =>
        new OutboxRelay(db, outbox, {
          service: 'test',
          source: '/subgraphs/test',
          logger: silent,
          listen,
          batchSize: 7,
          pollMs: 60_000,
          publish: async (events) => {
            // A slow broker, so that passes overlap.
            await new Promise((resolve) => setTimeout(resolve, 2));
            published.push(...events);
          },
        }),
    );
    await Promise.all(relays.map((relay) => relay.start()));
    // 40 writers, each appending its subject's next levels in its own transactions, while the relays run.
    const next = new Map(subjects.map((subject) => [subject, 0]));
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        for (let round = 0; round < 5; round += 1) {
          const subject = subjects[(i + round) % subjects.length]!;
          await db.transaction(async (tx) => {
            // Take the subject's "row lock" first, as a real change does, so levels are numbered in commit order.
            await tx.execute(
              driver === 'postgres'
                ? (await import('drizzle-orm')).sql`select pg_advisory_xact_lock(hashtext(${subject}))`
                : (await import('drizzle-orm')).sql`select 1`,
            );
            const level = next.get(subject)! + 1;
            next.set(subject, level);
            await appendEvents(tx, outbox, [stockChanged(subject, level)]);
          });
        }
      }),
    );
    await expect.poll(async () => (await db.select().from(outbox).where(isNull(outbox.publishedAt))).length, { timeout: 20_000 }).toBe(0);
    await Promise.all(relays.map((relay) => relay.stop()));

    const ours = published.filter((e) => subjects.includes(e.subject));
    expect(ours).toHaveLength(200);
    expect(new Set(ours.map((e) => e.id)).size).toBe(200);
    for (const subject of subjects) {
      const levels = ours.filter((e) => e.subject === subject).map((e) => (e.data as { stock: number }).stock);
      expect(levels, `levels of ${subject} in publication order`).toEqual(levels.map((_, i) => i + 1));
    }
    expect(ours[0]).toMatchObject({
      specversion: '1.0',
      source: '/subgraphs/test',
      type: 'shop.product.stock_changed',
      datacontenttype: 'application/json',
    });
    expect(OUTBOX_CHANNEL).toBe('shop_outbox');
  }, 60_000);

  it('prunes published rows past the retention, never unpublished ones', async () => {
    const relay = new OutboxRelay(db, outbox, { service: 'test', source: '/x', logger: silent, publish: async () => {} });
    const subject = randomUUID();
    await db.transaction((tx) => appendEvents(tx, outbox, [stockChanged(subject, 1)]));
    const unpublished = await db.select().from(outbox).where(isNull(outbox.publishedAt));
    expect(unpublished.length).toBeGreaterThan(0);
    expect(await relay.prune(new Date(Date.now() + 48 * 3_600_000))).toBeGreaterThan(0);
    expect((await db.select().from(outbox).where(isNull(outbox.publishedAt))).length).toBe(unpublished.length);
    while ((await relay.publishBatch()) > 0);
    await relay.prune(new Date(Date.now() + 48 * 3_600_000));
    expect(await db.select().from(outbox)).toEqual([]);
  });
});
