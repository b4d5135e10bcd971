/**
 * Waiting for ring buffer (and perf buffer) records without blocking Node's
 * event loop, for any number of rings at once (libbpf's `struct
 * ring_buffer`): the rings' fds in one epoll set (epoll-set.ts), waited on
 * in one of two ways:
 *
 * - "loop" (the default): inside Node's event loop, through a libuv fd
 *   watcher (loop-waiter.ts). No thread is held while idle.
 * - "threadpool": a blocking epoll_wait on the libuv thread pool, woken by
 *   an eventfd (threadpool-waiter.ts). Each waiting poller holds a pool
 *   thread, which fs, dns, crypto and zlib share.
 *
 * "loop" is the default for that reason. Otherwise the two measured the
 * same here, within this VM's noise: wake-up latency 30-85 µs median, and
 * 8-12 M records/s streamed from a concurrent producer. Both serve ring
 * buffers and perf buffers' per-CPU rings alike.
 *
 * Records reach callbacks as zero-copy views, valid only during the
 * callback (see ringbuf.ts). The async iterators (record-iterator.ts), which
 * hand records over later than that, yield copies, or whatever a transform
 * (e.g. a decoder from value-decoder.ts) made of each view while it was
 * valid.
 */
import { StateError, TsbpfError } from "../errors.js";
import { canWatchFds } from "../syscall/native.js";
import { EpollSet, type PollEntry, type ReadyWaiter } from "./epoll-set.js";
import { LoopWaiter } from "./loop-waiter.js";
import { type BatchStream, batchesOf, recordsOf } from "./record-iterator.js";
import type { RecordCallback, RecordSource, RecordSourceGroup } from "./ringbuf.js";
import { ThreadpoolWaiter } from "./threadpool-waiter.js";

export type WaitMode = "loop" | "threadpool";

export interface PollerOptions {
  /** How to wait (see the top of this file). Default "loop" when koffi offers uv_poll, else "threadpool". */
  wait?: WaitMode;
  /**
   * Most records taken from one ring per wakeup before the event loop gets
   * a turn (a producer that keeps up could otherwise hold it forever).
   * Default 65536.
   */
  budget?: number;
  /** Most ready rings reported by one epoll_wait. Default 64. */
  maxEvents?: number;
}

/** What the async iterator yields by default: the ring and a copy of the record. */
export interface RingRecord {
  ring: RecordSource;
  data: Uint8Array;
}

/** Turns a record view into a value the iterator can hold on to. Runs while the view is valid. */
export type RecordTransform<T> = (data: Uint8Array, ring: RecordSource) => T;

export interface RecordsOptions {
  /** Records taken from the rings at a time, then yielded one by one. Default 1024. */
  batch?: number;
}

const copyRecord: RecordTransform<RingRecord> = (data, ring) => ({ ring, data: data.slice() });

export class RingBufferPoller implements AsyncIterable<RingRecord> {
  readonly waitMode: WaitMode;
  private readonly set: EpollSet;
  private readonly waiter: ReadyWaiter;
  private readonly budget: number;
  /** A poll(), start() or iterator is running: only one consumer at a time. */
  private busy = false;
  /** Bumped by stop(): loops started before it end. */
  private stopGen = 0;
  private closed = false;
  /** Rotates which ring the iterator drains first, so a busy ring cannot starve the others. */
  private rotate = 0;

  constructor(opts: PollerOptions = {}) {
    this.waitMode = opts.wait ?? (canWatchFds() ? "loop" : "threadpool");
    if (this.waitMode === "loop" && !canWatchFds())
      throw new TsbpfError('this koffi has no node.poll (uv_poll); use { wait: "threadpool" }');
    this.budget = opts.budget ?? 65536;
    const maxEvents = opts.maxEvents ?? 64;
    if (!(this.budget > 0) || !Number.isInteger(maxEvents) || maxEvents < 1) throw new TsbpfError("budget and maxEvents must be positive");
    this.set = new EpollSet(maxEvents);
    try {
      this.waiter = this.waitMode === "loop" ? new LoopWaiter(this.set) : new ThreadpoolWaiter(this.set);
    } catch (e) {
      this.set.close();
      throw e;
    }
  }

  /** The rings being polled, in the order they were added. */
  get rings(): RecordSource[] {
    return this.set.all.map((e) => e.ring);
  }

  /** Whether a poll(), start() or iterator is currently running. */
  get running(): boolean {
    return this.busy;
  }

  /**
   * Adds a ring. Its records go to `cb` in poll()/start()/consume(); a ring
   * without a callback can only be read with the async iterator.
   * The ring stays owned by the caller (close it after the poller).
   */
  add(ring: RecordSource | RecordSourceGroup, cb?: RecordCallback): this {
    if ("sources" in ring) {
      for (const source of ring.sources) this.add(source, cb);
      return this;
    }
    this.check();
    if (ring.fd < 0) throw new TsbpfError(`ring ${ring.name} has no fd to wait on (it was built from memory)`);
    if (ring.isClosed) throw new StateError(`ring buffer ${ring.name} is closed`);
    if (this.set.has(ring)) throw new StateError(`ring buffer ${ring.name} is already in this poller`);
    this.set.add(ring, cb);
    return this;
  }

  /** Stops polling `ring` (or every source of a group); returns false if it was not in the poller. */
  remove(ring: RecordSource | RecordSourceGroup): boolean {
    if ("sources" in ring) return ring.sources.map((s) => this.remove(s)).some(Boolean);
    return this.set.remove(ring);
  }

  /** Drains every ring now, without waiting, through the callbacks. Returns records handled. */
  consume(): number {
    this.check();
    return this.drain(this.set.all);
  }

  /**
   * Waits up to `timeoutMs` (-1: forever, 0: not at all) for records, then
   * drains the rings that have some through their callbacks. Resolves with
   * the number of records handled: 0 after a timeout or a stop(). A ring
   * reported ready that yields nothing (only discarded records, or a perf
   * event's stale wake-up) does not end the wait.
   */
  async poll(timeoutMs = -1): Promise<number> {
    this.enter();
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : timeoutMs < 0 ? Number.POSITIVE_INFINITY : 0;
    try {
      for (;;) {
        const left = deadline === Number.POSITIVE_INFINITY ? -1 : Math.max(0, deadline - Date.now());
        const ready = await this.waitReady(left);
        if (!ready) return 0;
        const n = this.drain(ready);
        if (n > 0 || ready.length === 0 || Date.now() >= deadline) return n;
      }
    } finally {
      this.busy = false;
    }
  }

  /**
   * Polls until stop() (or close()), handing records to the callbacks.
   * Resolves with the number of records handled; rejects if a callback
   * throws (the record that threw counts as consumed).
   */
  async start(): Promise<number> {
    this.enter();
    const gen = this.stopGen;
    let total = 0;
    try {
      while (gen === this.stopGen && !this.closed) {
        const ready = await this.waitReady(-1);
        if (!ready) break;
        total += this.drain(ready);
      }
      return total;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Ends a running start(), poll() or iterator: a pending wait returns at
   * once (in thread-pool mode, the eventfd wakes the blocked epoll_wait).
   * Affects only what is running now; a later poll() waits as usual.
   */
  stop(): void {
    this.stopGen++;
    this.waiter.cancel();
  }

  /**
   * Records from every ring, as `transform` makes them from each view while
   * it is valid (default: `{ ring, data }` with a copy of the bytes), until
   * stop() or close(). Records are taken `batch` at a time, so the rings
   * keep what the loop has not asked for yet; records already taken when
   * stop() is called are still yielded. Leaving a `for await` loop early
   * (break, return, throw) ends the iteration and frees the poller.
   */
  records<T = RingRecord>(transform?: RecordTransform<T>, opts: RecordsOptions = {}): AsyncIterableIterator<T> {
    return recordsOf(this.stream((transform ?? copyRecord) as RecordTransform<T>, opts.batch ?? 1024));
  }

  /**
   * Like records(), but yields the records of each drain as one array (up
   * to `batch` long): for high rates, where per-record promises would cost
   * more than the records themselves.
   */
  batches<T = RingRecord>(transform?: RecordTransform<T>, opts: RecordsOptions = {}): AsyncIterableIterator<T[]> {
    return batchesOf(this.stream((transform ?? copyRecord) as RecordTransform<T>, opts.batch ?? 1024));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<RingRecord> {
    return this.records();
  }

  /**
   * Stops what is running and closes the poller's epoll fd (and eventfd).
   * The rings stay open. In thread-pool mode an in-flight epoll_wait still
   * uses the fds: they are closed when it returns, right after the wake-up.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopGen++;
    this.set.clear();
    this.waiter.close(() => this.set.close());
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // ---- internals -------------------------------------------------------------

  /**
   * The engine of the iterators: next() resolves with the next non-empty
   * batch of transformed records, or null once stopped, closed or ended.
   * The poller counts as busy from the first next() until then.
   */
  private stream<T>(make: RecordTransform<T>, batch: number): BatchStream<T> {
    let state: "new" | "open" | "done" = "new";
    let gen = 0;
    /** The last next()'s promise, for queueing; and how many fills are running. */
    let last: Promise<T[] | null> = Promise.resolve(null);
    let running = 0;
    const release = () => {
      if (state === "open") this.busy = false;
      state = "done";
    };
    const fill = async (): Promise<T[] | null> => {
      running++;
      try {
        while (state === "open" && gen === this.stopGen && !this.closed) {
          const out: T[] = [];
          const push: RecordCallback = (data, ring) => {
            out.push(make(data, ring));
          };
          const entries = this.set.all;
          for (let i = 0; i < entries.length && out.length < batch; i++) {
            const ring = entries[(i + this.rotate) % entries.length]!.ring;
            if (!ring.isClosed) ring.consume(push, batch - out.length);
          }
          this.rotate++;
          if (out.length > 0) return out;
          if ((await this.waitReady(-1)) === null) break;
        }
        release();
        return null;
      } catch (e) {
        release();
        throw e;
      } finally {
        running--;
      }
    };
    return {
      next: () => {
        if (state === "new") {
          this.enter();
          state = "open";
          gen = this.stopGen;
        }
        if (state === "done") return Promise.resolve(null);
        // Calls made before the previous one settled queue up behind it.
        last = last.then(fill, fill);
        return last;
      },
      end: () => {
        // A wait in progress must end before another consumer may wait: stop
        // it, and the fill that was waiting releases the poller as it returns.
        if (state === "open" && running > 0) this.stop();
        else release();
      },
    };
  }

  private check(): void {
    if (this.closed) throw new StateError("ring buffer poller is closed");
  }

  private enter(): void {
    this.check();
    if (this.busy) throw new StateError("ring buffer poller is already polling (one poll(), start() or iterator at a time)");
    this.busy = true;
  }

  private drain(ready: PollEntry[]): number {
    let n = 0;
    for (const e of ready) {
      if (e.ring.isClosed) continue;
      if (!e.cb) throw new StateError(`ring buffer ${e.ring.name} was added without a callback; use the async iterator to read it`);
      n += e.ring.consume(e.cb, this.budget);
    }
    return n;
  }

  /**
   * Waits for ready rings: the list ([] on timeout), or null if stop() or
   * close() ended the wait. Rings with records pending (see
   * RecordSource.pending) are ready at once: epoll may no longer report them.
   */
  private waitReady(timeoutMs: number): Promise<PollEntry[] | null> {
    if (this.set.pending().length > 0) {
      // Still a turn of the event loop first, as a wait would give (see `budget`).
      const gen = this.stopGen;
      return new Promise((resolve) => setImmediate(() => resolve(gen === this.stopGen && !this.closed ? this.set.pending() : null)));
    }
    if (timeoutMs === 0) return Promise.resolve(this.set.readyNow());
    return this.waiter.wait(timeoutMs);
  }
}
