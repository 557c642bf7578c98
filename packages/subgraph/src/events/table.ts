import { sql } from 'drizzle-orm';
import { bigserial, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * The transactional outbox: one row per event, inserted in the same transaction as the change it describes, so
 * that an event exists if and only if its change was committed. The relay publishes rows in `seq` order per
 * subject and marks them published; published rows are pruned after a while.
 *
 * Each subgraph exports `outbox = outboxTable()` from its drizzle schema, so drizzle-kit writes its migration.
 * Kept free of anything but drizzle, so drizzle-kit can load it.
 */
export function outboxTable() {
  return pgTable(
    'outbox',
    {
      /** Insertion order: within one subject, the order in which the changes happened. */
      seq: bigserial('seq', { mode: 'number' }).primaryKey(),
      /** The CloudEvents id, and the broker's Nats-Msg-Id: one per change, whatever is retried. */
      id: uuid('id').notNull().unique(),
      type: text('type').notNull(),
      /** The order's or product's id: events of one subject are published in `seq` order. */
      subject: text('subject').notNull(),
      time: timestamp('time', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
      data: jsonb('data').notNull(),
      /** Null until the relay has published the event. */
      publishedAt: timestamp('published_at', { withTimezone: true, precision: 3 }),
    },
    (table) => [
      // What the relay claims: unpublished rows, oldest first.
      index('outbox_unpublished_idx')
        .on(table.seq)
        .where(sql`${table.publishedAt} is null`),
      // What pruning deletes: published rows by age.
      index('outbox_published_at_idx')
        .on(table.publishedAt)
        .where(sql`${table.publishedAt} is not null`),
    ],
  );
}

export type OutboxTable = ReturnType<typeof outboxTable>;
export type OutboxRow = OutboxTable['$inferSelect'];
