import type { FormattedExecutionResult } from 'graphql';
import type { ResultSink } from './executor.js';

/**
 * A subscription's results as an async generator, what graphql-ws's server iterates: `start` opens the stream and
 * returns how to end it early, which `return()` (the client completed, or its socket closed) calls, as does the
 * stream's own end. `onEnd` runs once, however it ends.
 */
export function resultIterator(
  start: (sink: ResultSink) => () => void,
  onEnd: () => void,
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
