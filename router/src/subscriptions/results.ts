import type { FormattedExecutionResult } from 'graphql';
import type { ResultSink } from './executor.js';

const serializations = new WeakMap<FormattedExecutionResult, string>();

/**
 * A result as JSON, serialized once however many clients it goes to (a shared stream gives every reader the same
 * result object): with ten thousand clients on one product, one event is one JSON.stringify, not ten thousand.
 */
export function serialized(result: FormattedExecutionResult): string {
  let json = serializations.get(result);
  if (json === undefined) serializations.set(result, (json = JSON.stringify(result)));
  return json;
}

/**
 * A subscription's results as an async generator, what graphql-ws's server iterates: `start` opens the stream and
 * returns how to end it early, which `return()` (the client completed, or its socket closed) calls, as does the
 * stream's own end. `onEnd` runs once, however it ends.
 */
export function resultIterator(
  start: (sink: ResultSink) => () => void,
  onEnd: () => void,
  /** Sends a result itself, in order, instead of yielding it (the fast path of graphql-ws.ts); false to yield it. */
  deliver?: (result: FormattedExecutionResult) => boolean,
): AsyncGenerator<FormattedExecutionResult, undefined, unknown> {
  const queue: FormattedExecutionResult[] = [];
  let finished = false;
  let ended = false;
  let waiting: ((result: IteratorResult<FormattedExecutionResult, undefined>) => void) | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  const wake = (result: IteratorResult<FormattedExecutionResult, undefined>) => {
    const resolve = waiting;
    waiting = undefined;
    resolve?.(result);
  };
  const stop = start({
    next(result) {
      if (finished) return;
      // Nothing queued before it: it may go out at once, ahead of no other result.
      if (queue.length === 0 && deliver?.(result)) return;
      if (waiting) wake({ value: result, done: false });
      else queue.push(result);
    },
    complete() {
      finished = true;
      if (queue.length === 0) {
        end();
        wake({ value: undefined, done: true });
      }
    },
  });
  const iterator: AsyncGenerator<FormattedExecutionResult, undefined, unknown> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next() {
      if (queue.length > 0) return { value: queue.shift()!, done: false };
      if (finished) {
        end();
        return { value: undefined, done: true };
      }
      return new Promise((resolve) => (waiting = resolve));
    },
    async return() {
      if (!finished) {
        finished = true;
        queue.length = 0;
        stop();
      }
      end();
      wake({ value: undefined, done: true });
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      await iterator.return(undefined);
      throw error;
    },
  };
  return iterator;
}
