import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { OutboxRow, OutboxTable } from './table.js';

/** Money as the GraphQL contract has it: minor units and an ISO 4217 code. */
export interface EventMoney {
  amount: number;
  currency: string;
}

/** The `data` of each event type, as ../shared/contract/events.md fixes it. */
export interface EventData {
  'shop.order.placed': {
    orderId: string;
    buyerId: string;
    status: 'PENDING';
    total: EventMoney;
    items: { productId: string; quantity: number; unitPrice: EventMoney }[];
  };
  'shop.order.paid': { orderId: string; buyerId: string; status: 'PAID'; total: EventMoney; paidAt: string };
  'shop.order.cancelled': { orderId: string; buyerId: string; status: 'CANCELLED'; reason: 'BUYER' | 'EXPIRED' };
  'shop.product.created': { productId: string; sku: string; name: string; price: EventMoney; stock: number; category: string };
  'shop.product.updated': { productId: string } & Partial<{
    sku: string;
    name: string;
    description: string;
    category: string;
    price: EventMoney;
  }>;
  'shop.product.stock_changed': { productId: string; stock: number; delta: number };
}

export type EventType = keyof EventData;
export const EVENT_TYPES = [
  'shop.order.placed',
  'shop.order.paid',
  'shop.order.cancelled',
  'shop.product.created',
  'shop.product.updated',
  'shop.product.stock_changed',
] as const satisfies readonly EventType[];

/** A CloudEvents 1.0 event in structured JSON mode: the body of every message on the broker. */
export interface CloudEvent<T extends EventType = EventType> {
  specversion: '1.0';
  id: string;
  source: string;
  type: T;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: EventData[T];
}

/** An event as a subgraph records it: its type, the order's or product's id, and its data. */
export interface NewEvent<T extends EventType = EventType> {
  type: T;
  subject: string;
  data: EventData[T];
}

/** Builds a NewEvent with its data checked against its type. */
export function event<T extends EventType>(type: T, subject: string, data: EventData[T]): NewEvent<T> {
  return { type, subject, data };
}

/** A transaction (or database) of either driver. */
type Executor = Pick<PgDatabase<PgQueryResultHKT, Record<string, unknown>>, 'insert' | 'execute'>;

/** The channel the outbox announces new rows on; PostgreSQL delivers the notice only when the transaction commits. */
export const OUTBOX_CHANNEL = 'shop_outbox';

/**
 * Appends events to the outbox inside the caller's transaction: they are committed or rolled back with the
 * change they describe. Call it after the statement that changed (and so locked) the order or product, so that
 * two changes of one subject get their `seq` in the order they commit.
 */
export async function appendEvents(tx: Executor, outbox: OutboxTable, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  // The time of the change itself: the statement's clock, not the transaction's start, which may have waited
  // for the row's lock behind other changes of the same product.
  await tx
    .insert(outbox)
    .values(events.map((e) => ({ id: randomUUID(), type: e.type, subject: e.subject, data: e.data, time: sql`clock_timestamp()` })));
  // Wakes the relays at commit, so they need not poll often; a rolled-back transaction notifies no one.
  await tx.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, '')`);
}

/** The CloudEvent of an outbox row, as published. */
export function cloudEvent(row: OutboxRow, source: string): CloudEvent {
  return {
    specversion: '1.0',
    id: row.id,
    source,
    type: row.type as EventType,
    subject: row.subject,
    time: row.time.toISOString(),
    datacontenttype: 'application/json',
    data: row.data as EventData[EventType],
  };
}
