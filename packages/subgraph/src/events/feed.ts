import { clientError } from '@shop/service';
import type { CloudEvent } from './event.js';

/** Events a slow subscriber may have waiting before its stream is ended (it then resubscribes). */
const MAX_BUFFERED = 1_000;

/**
 * The events of one process's service, as they are published: the relay delivers to it directly without a
 * broker, and the broker's consumer does with one (so it also carries what other replicas published). The
 * Subscription resolvers listen to it by subject: an order's id, a product's id.
 */
export class EventFeed {
  private readonly bySubject = new Map<string, Set<EventStream>>();

  /** Hands an event to every stream listening to its subject, in the order events are delivered. */
  deliver(event: CloudEvent): void {
    const streams = this.bySubject.get(event.subject);
    if (!streams) return;
    for (const stream of streams) stream.push(event);
  }

  /** A stream of the events of these subjects from now on; `return()` (or `close()`) stops it. */
  listen(subjects: readonly string[]): EventStream {
    const unique = [...new Set(subjects)];
    const stream = new EventStream(() => {
      for (const subject of unique) {
        const streams = this.bySubject.get(subject);
        streams?.delete(stream);
        if (streams?.size === 0) this.bySubject.delete(subject);
      }
    });
    for (const subject of unique) {
      let streams = this.bySubject.get(subject);
      if (!streams) this.bySubject.set(subject, (streams = new Set()));
      streams.add(stream);
    }
    return stream;
  }

  /** Subjects someone listens to now. */
  get subjects(): number {
    return this.bySubject.size;
  }
}

/**
 * An async iterator of events whose `return()` ends it at once, even while a `next()` is waiting (an async
 * generator would wait for its next event first), so a client's `complete` frees the subscription immediately.
 */
export class EventStream implements AsyncIterableIterator<CloudEvent> {
  private readonly buffered: CloudEvent[] = [];
  private waiting: { resolve: (result: IteratorResult<CloudEvent>) => void; reject: (error: Error) => void } | undefined;
  private ended = false;
  private failure: Error | undefined;

  constructor(private readonly detach: () => void) {}

  push(event: CloudEvent): void {
    if (this.ended) return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ value: event, done: false });
      return;
    }
    if (this.buffered.length >= MAX_BUFFERED) {
      this.fail(clientError('SERVICE_UNAVAILABLE', 'Events arrived faster than this subscription read them; subscribe again'));
      return;
    }
    this.buffered.push(event);
  }

  next(): Promise<IteratorResult<CloudEvent>> {
    const event = this.buffered.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<CloudEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<CloudEvent>> {
    this.close();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  /** Stops listening; a waiting `next()` ends. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.buffered.length = 0;
    this.detach();
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve({ value: undefined, done: true });
  }

  private fail(error: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    this.close();
    if (waiting) waiting.reject(error);
    else this.failure = error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
