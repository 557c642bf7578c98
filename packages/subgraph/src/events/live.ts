import { GraphQLError } from 'graphql';
import type { CloudEvent } from './event.js';
import type { EventStream } from './feed.js';

/** What one event becomes: a payload to send, whether it is the last, or nothing (skipped). */
export type LiveStep<T> = { value: T | GraphQLError; last?: boolean } | undefined;

/**
 * A subscription's source: `first` (the state as it is now), then what `step` makes of each event of `stream`.
 * A step whose value is a GraphQLError (a token that expired meanwhile) sends it as the last payload, which
 * `livePayload` turns into the one error of that result. Ending it (a client's complete) ends the stream at once.
 */
export function liveSource<T>(
  stream: EventStream,
  first: (T | GraphQLError)[],
  step: (event: CloudEvent) => Promise<LiveStep<T>>,
  options: { endAfterFirst?: boolean } = {},
): AsyncIterableIterator<T | GraphQLError> {
  const pending = [...first];
  let ended = false;
  // Already final (a paid order): the stream is not needed.
  if (options.endAfterFirst) stream.close();
  const iterator: AsyncIterableIterator<T | GraphQLError> = {
    async next() {
      const queued = pending.shift();
      if (queued !== undefined) return { value: queued, done: false };
      while (!ended) {
        const { value: event, done } = await stream.next();
        if (done || ended) break;
        const outcome = await step(event);
        if (!outcome) continue;
        if (outcome.last || outcome.value instanceof GraphQLError) iterator.return!();
        return { value: outcome.value, done: false };
      }
      return { value: undefined, done: true };
    },
    async return() {
      ended = true;
      stream.close();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      ended = true;
      stream.close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** A Subscription field's `resolve`: the payload itself, or its error. */
export function livePayload<T>(payload: T | GraphQLError): T {
  if (payload instanceof GraphQLError) throw payload;
  return payload;
}
