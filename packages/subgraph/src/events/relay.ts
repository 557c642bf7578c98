import { and, asc, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { metrics, type Logger } from '@shop/service';
import { runInBackground } from '../db-probe.js';
import { cloudEvent, OUTBOX_CHANNEL, type CloudEvent } from './event.js';
import type { OutboxTable } from './table.js';

/** Where a relay sends events: the broker, or the in-process feed without one. Resolves once they are stored. */
export type Publish = (events: CloudEvent[]) => Promise<void>;

/** Subscribes to a PostgreSQL notification channel; resolves to an unsubscribe. */
export type Listen = (channel: string, onNotify: () => void) => Promise<() => Promise<void>>;

export interface RelayOptions {
  /** The service's name, for logs and metrics. */
  service: string;
  /** The CloudEvents `source`, such as `/subgraphs/orders`. */
  source: string;
  publish: Publish;
  logger: Logger;
  /** Wakes the relay when a transaction that appended events commits; without it the relay only polls. */
  listen?: Listen;
  /** Rows claimed by one transaction. */
  batchSize?: number;
  /**
   * How often the relay looks without being woken, for rows left by another replica that died and for a missed
   * notice; undefined for never (PGlite: one process owns the database and its notices). It always looks at start.
   */
  pollMs?: number;
  /** How long published rows are kept before pruning. */
  retentionMs?: number;
  pruneEveryMs?: number;
}

/** Advisory lock space of the relay's per-subject locks (the first of the two keys). */
const SUBJECT_LOCKS = 0x0b0c;

type AnyDatabase = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;

/**
 * Publishes outbox rows. Each pass is one transaction that claims unpublished rows oldest first with
 * FOR UPDATE SKIP LOCKED, publishes them, and marks them published; a crash before the commit leaves them
 * unpublished, and the next pass (here or on another replica) publishes them again with the same event id,
 * which the broker drops as a duplicate.
 *
 * Per-subject order with several relays: a pass claims a subject's rows only if it gets the subject's
 * transaction-scoped advisory lock, so one subject's rows are only ever in one pass at a time, and that pass
 * claims them from the oldest unpublished one on.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private unlisten: (() => Promise<void>) | undefined;
  private failures = 0;
  private prunedAt = 0;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: AnyDatabase,
    private readonly table: OutboxTable,
    private readonly options: RelayOptions,
  ) {
    this.batchSize = options.batchSize ?? 200;
  }

  /** Starts listening and polling, and publishes what is waiting. */
  async start(): Promise<void> {
    if (this.options.listen) {
      try {
        this.unlisten = await this.options.listen(OUTBOX_CHANNEL, () => this.wake());
      } catch (error) {
        this.options.logger.warn({ err: error }, 'outbox relay cannot listen for notices; it polls only');
      }
    }
    if (this.options.pollMs !== undefined) this.timers.push(setInterval(() => this.wake(), this.options.pollMs).unref());
    this.wake();
  }

  /** Runs passes until the outbox is empty; a wake during a pass runs another after it. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // Background work: its statements are not counted as any client request's, even when a commit woke it.
    this.running = runInBackground(() => this.drain()).finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Resolves when no pass is running (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.publishBatch()) === this.batchSize);
      this.failures = 0;
      // Pruning follows publishing, at most once per pruneEveryMs: an idle relay sends no statement at all.
      if (Date.now() - this.prunedAt >= (this.options.pruneEveryMs ?? 60_000)) {
        this.prunedAt = Date.now();
        await this.prune();
      }
    } catch (error) {
      this.failures += 1;
      // Logged once per outage, then quietly retried every second.
      if (this.failures === 1) this.options.logger.warn({ err: error }, 'outbox relay could not publish; retrying');
      // Without polling, nothing else would try again before the next commit.
      this.retry ??= setTimeout(() => {
        this.retry = undefined;
        this.wake();
      }, 1_000).unref();
    }
  }

  /** One pass: claims, publishes and marks a batch; returns how many rows it published. */
  async publishBatch(): Promise<number> {
    const { table } = this;
    return this.db.transaction(async (tx) => {
      let rows = await tx
        .select()
        .from(table)
        .where(and(isNull(table.publishedAt), sql`pg_try_advisory_xact_lock(${SUBJECT_LOCKS}, hashtext(${table.subject}))`))
        .orderBy(asc(table.seq))
        .limit(this.batchSize)
        .for('update', { skipLocked: true });
      // The lock is tried row by row: a subject whose lock another pass released mid-scan can be claimed from a
      // later row, after skipping earlier ones that pass had not claimed. Such a subject waits for the next pass.
      const firstClaimed = new Map<string, number>();
      for (const row of rows) if (!firstClaimed.has(row.subject)) firstClaimed.set(row.subject, row.seq);
      const oldest =
        firstClaimed.size === 0
          ? []
          : await tx
              .select({ subject: table.subject, seq: sql<string>`min(${table.seq})` })
              .from(table)
              .where(and(isNull(table.publishedAt), inArray(table.subject, [...firstClaimed.keys()])))
              .groupBy(table.subject);
      const behind = new Set(oldest.filter((o) => Number(o.seq) < firstClaimed.get(o.subject)!).map((o) => o.subject));
      if (behind.size > 0) {
        rows = rows.filter((row) => !behind.has(row.subject));
        if (rows.length === 0) this.again = true;
      }
      if (rows.length === 0) return 0;
      await this.options.publish(rows.map((row) => cloudEvent(row, this.options.source)));
      await tx
        .update(table)
        .set({ publishedAt: sql`clock_timestamp()` })
        .where(
          inArray(
            table.seq,
            rows.map((row) => row.seq),
          ),
        );
      const now = Date.now();
      for (const row of rows)
        metrics.outboxRelayLag.observe({ service: this.options.service }, Math.max(0, now - row.time.getTime()) / 1000);
      metrics.outboxPublished.inc({ service: this.options.service }, rows.length);
      return rows.length;
    });
  }

  /** Deletes published rows older than the retention; returns how many. */
  async prune(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - (this.options.retentionMs ?? 60 * 60_000));
    const { table } = this;
    const deleted = await this.db
      .delete(table)
      .where(inArray(table.seq, this.db.select({ seq: table.seq }).from(table).where(lt(table.publishedAt, before)).limit(10_000)))
      .returning({ seq: table.seq });
    return deleted.length;
  }

  /** Stops waking and waits for a running pass; what is left is published at the next start, here or elsewhere. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.retry);
    await this.unlisten?.().catch(() => {});
    await this.idle();
  }
}
