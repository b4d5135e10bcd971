/**
 * The async iterators of a RingBufferPoller, over a stream of record
 * batches: one record at a time (records()), or one batch at a time
 * (batches()). Hand-written rather than async generators: they settle
 * next() with one promise per record instead of several (2× the records
 * per second).
 */

/** Batches of records, non-empty, until null (stopped, closed or ended). */
export interface BatchStream<T> {
  next(): Promise<T[] | null>;
  /** The consumer left early (break, return, throw): stop and free the poller. */
  end(): void;
}

export function recordsOf<T>(stream: BatchStream<T>): AsyncIterableIterator<T> {
  let queue: T[] = [];
  let at = 0;
  /** A next() that had to wait for records: later calls queue behind it. */
  let waiting: Promise<IteratorResult<T, undefined>> | undefined;
  const step = async (): Promise<IteratorResult<T, undefined>> => {
    if (at < queue.length) return { value: queue[at++]!, done: false };
    const batch = await stream.next();
    if (!batch) return { value: undefined, done: true };
    queue = batch;
    at = 1;
    return { value: batch[0]!, done: false };
  };
  const it: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => it,
    next: (): Promise<IteratorResult<T, undefined>> => {
      if (!waiting && at < queue.length) return Promise.resolve({ value: queue[at++]!, done: false });
      const p = waiting ? waiting.then(step, step) : step();
      waiting = p;
      const clear = () => {
        if (waiting === p) waiting = undefined;
      };
      p.then(clear, clear);
      return p;
    },
    return: async (): Promise<IteratorResult<T, undefined>> => {
      queue = [];
      stream.end();
      return { value: undefined, done: true };
    },
  };
  return it;
}

export function batchesOf<T>(stream: BatchStream<T>): AsyncIterableIterator<T[]> {
  const it: AsyncIterableIterator<T[]> = {
    [Symbol.asyncIterator]: () => it,
    next: async (): Promise<IteratorResult<T[], undefined>> => {
      const batch = await stream.next();
      return batch ? { value: batch, done: false } : { value: undefined, done: true };
    },
    return: async (): Promise<IteratorResult<T[], undefined>> => {
      stream.end();
      return { value: undefined, done: true };
    },
  };
  return it;
}
