/**
 * Waiting for ring buffer records without blocking Node's event loop, for
 * any number of rings at once (libbpf's `struct ring_buffer`).
 *
 * The poller owns one epoll fd; each ring's map fd is registered in it with
 * EPOLLIN (a ringbuf fd is readable while it holds unconsumed data). Two
 * ways to wait on that epoll fd are implemented:
 *
 * - "loop" (the default): koffi's `node.poll` (a libuv uv_poll_t) puts the
 *   epoll fd into the event loop's own epoll set. When it becomes readable,
 *   the loop calls us back; a non-blocking epoll_wait(timeout 0) through the
 *   syscall choke point then says which rings are ready (and the tracer
 *   sees it, as it sees libbpf's). Nothing blocks anywhere: no thread is
 *   held while idle, a wakeup costs no thread hand-off, stop() is a plain
 *   function call, and any number of pollers cost nothing but an fd each.
 * - "threadpool": epoll_wait with the caller's timeout runs on the libuv
 *   thread pool (koffi `.async`), and an eventfd in the epoll set lets
 *   stop() wake it. Each waiting poller holds one pool thread for as long
 *   as it waits. The pool has 4 threads unless UV_THREADPOOL_SIZE says
 *   otherwise, and fs, dns.lookup, crypto and zlib share them: a few idle
 *   pollers slow all of those down, and four stall them outright (the test
 *   suite shows fs.promises.readFile hanging while 4 pollers wait). Each
 *   wakeup also crosses threads (worker → uv_async → promise).
 *
 * "loop" is the default for that reason. Otherwise the two measured the
 * same here, within this VM's noise: wake-up latency 30-85 µs median, and
 * 8-12 M records/s streamed from a concurrent producer. "threadpool"
 * stays as the fallback: for a kernel backend without real fds (a fake
 * kernel answering epoll_wait), and because koffi documents its uv_poll
 * API as experimental. The cost of "loop": libuv's own epoll_ctl calls for
 * the uv_poll handle do not pass through the syscall choke point (the
 * epoll_wait that finds the ready rings does).
 *
 * Records reach callbacks as zero-copy views, valid only during the
 * callback (see ringbuf.ts). The async iterator, which hands records over
 * later than that, yields copies, or whatever a transform (e.g. a decoder
 * from value-decoder.ts) made of each view while it was valid.
 */
import { StateError, TsbpfError } from "../errors.js";
import { EINTR } from "../syscall/errno.js";
import { syscall, trySyscall, trySyscallAsync } from "../syscall/kernel.js";
import { canWatchFds, type FdWatcher, watchReadable } from "../syscall/native.js";
import type { EpollWaitRequest } from "../syscall/requests.js";
import { SyscallError } from "../syscall/syscall-error.js";
import type { RecordCallback, RecordSource } from "./ringbuf.js";

const EPOLL_CLOEXEC = 0o2000000;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLLIN = 0x001;
const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
/** struct epoll_event is packed on x86-64 (12 bytes) and naturally aligned elsewhere (16). */
const EPOLL_EVENT_SIZE = process.arch === "x64" ? 12 : 16;
const EPOLL_DATA_OFFSET = process.arch === "x64" ? 4 : 8;
/** epoll data of the eventfd; rings get 1, 2, ... */
const STOP_SLOT = 0;

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

interface Entry {
  slot: number;
  ring: RecordSource;
  cb: RecordCallback | undefined;
}

/** A wait in progress: settles once, with the ready rings, [] on timeout, or null when stopped. */
interface Waiter {
  finish(ready: Entry[] | null, err?: unknown): void;
}

const copyRecord: RecordTransform<RingRecord> = (data, ring) => ({ ring, data: data.slice() });

export class RingBufferPoller implements AsyncIterable<RingRecord> {
  readonly waitMode: WaitMode;
  private readonly epfd: number;
  /** eventfd that stop() writes to wake a thread-pool epoll_wait; -1 in loop mode. */
  private efd = -1;
  private readonly budget: number;
  private readonly maxEvents: number;
  private readonly entries = new Map<number, Entry>();
  private nextSlot = 1;
  /** epoll_event buffers: one for the non-blocking calls, one owned by an in-flight async call. */
  private readonly events: Uint8Array;
  private readonly asyncEvents: Uint8Array;
  private handle: FdWatcher | undefined;
  private handleActive = false;
  private waiter: Waiter | undefined;
  /** A poll(), start() or iterator is running: only one consumer at a time. */
  private busy = false;
  /** A thread-pool epoll_wait is running (its fds must outlive it). */
  private inFlight = false;
  /** Bumped by stop(): loops started before it end. */
  private stopGen = 0;
  private closed = false;
  private fdsClosed = false;
  /** Rotates which ring the iterator drains first, so a busy ring cannot starve the others. */
  private rotate = 0;

  constructor(opts: PollerOptions = {}) {
    this.waitMode = opts.wait ?? (canWatchFds() ? "loop" : "threadpool");
    if (this.waitMode === "loop" && !canWatchFds())
      throw new TsbpfError('this koffi has no node.poll (uv_poll); use { wait: "threadpool" }');
    this.budget = opts.budget ?? 65536;
    this.maxEvents = opts.maxEvents ?? 64;
    if (!(this.budget > 0) || !Number.isInteger(this.maxEvents) || this.maxEvents < 1)
      throw new TsbpfError("budget and maxEvents must be positive");
    this.events = new Uint8Array(this.maxEvents * EPOLL_EVENT_SIZE);
    this.asyncEvents = new Uint8Array(this.maxEvents * EPOLL_EVENT_SIZE);
    this.epfd = syscall({ call: "epoll_create1", flags: EPOLL_CLOEXEC });
    if (this.waitMode === "threadpool") {
      try {
        this.efd = syscall({ call: "eventfd2", initval: 0, flags: EFD_CLOEXEC | EFD_NONBLOCK });
        syscall({ call: "epoll_ctl", epfd: this.epfd, op: EPOLL_CTL_ADD, fd: this.efd, events: EPOLLIN, data: BigInt(STOP_SLOT) });
      } catch (e) {
        this.closeFds();
        throw e;
      }
    }
  }

  /** The rings being polled, in the order they were added. */
  get rings(): RecordSource[] {
    return [...this.entries.values()].map((e) => e.ring);
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
  add(ring: RecordSource, cb?: RecordCallback): this {
    this.check();
    if (ring.fd < 0) throw new TsbpfError(`ring ${ring.name} has no fd to wait on (it was built from memory)`);
    if (ring.isClosed) throw new StateError(`ring buffer ${ring.name} is closed`);
    for (const e of this.entries.values()) if (e.ring === ring) throw new StateError(`ring buffer ${ring.name} is already in this poller`);
    const slot = this.nextSlot++;
    syscall({ call: "epoll_ctl", epfd: this.epfd, op: EPOLL_CTL_ADD, fd: ring.fd, events: EPOLLIN, data: BigInt(slot) });
    this.entries.set(slot, { slot, ring, cb });
    return this;
  }

  /** Stops polling `ring`; returns false if it was not in the poller. */
  remove(ring: RecordSource): boolean {
    for (const e of this.entries.values()) {
      if (e.ring !== ring) continue;
      this.entries.delete(e.slot);
      if (!this.fdsClosed) trySyscall({ call: "epoll_ctl", epfd: this.epfd, op: EPOLL_CTL_DEL, fd: ring.fd, events: 0, data: 0n });
      return true;
    }
    return false;
  }

  /** Drains every ring now, without waiting, through the callbacks. Returns records handled. */
  consume(): number {
    this.check();
    return this.drain([...this.entries.values()]);
  }

  /**
   * Waits up to `timeoutMs` (-1: forever, 0: not at all) for records, then
   * drains the rings that have some through their callbacks. Resolves with
   * the number of records handled: 0 after a timeout or a stop().
   */
  async poll(timeoutMs = -1): Promise<number> {
    this.enter();
    try {
      const ready = await this.waitReady(timeoutMs);
      return ready ? this.drain(ready) : 0;
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
    this.waiter?.finish(null);
    if (this.inFlight && this.efd >= 0 && !this.fdsClosed) {
      const one = new Uint8Array(8);
      one[0] = 1;
      // eventfd counter += 1: the epoll set turns readable. Only a fake
      // kernel's made-up fd can refuse; its epoll_wait does not block anyway.
      trySyscall({ call: "write", fd: this.efd, buf: one });
    }
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
    const stream = this.stream((transform ?? copyRecord) as RecordTransform<T>, opts.batch ?? 1024);
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
    // Hand-written rather than an async generator: it settles next() with one
    // promise per record instead of several (2× the records per second).
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

  /**
   * Like records(), but yields the records of each drain as one array (up
   * to `batch` long): for high rates, where per-record promises would cost
   * more than the records themselves.
   */
  batches<T = RingRecord>(transform?: RecordTransform<T>, opts: RecordsOptions = {}): AsyncIterableIterator<T[]> {
    const stream = this.stream((transform ?? copyRecord) as RecordTransform<T>, opts.batch ?? 1024);
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
    this.stop();
    if (this.handle) {
      // uv_poll_stop removes the fd from libuv's epoll set at once, so the fd may be closed next.
      this.handle.close();
      this.handle = undefined;
      this.handleActive = false;
    }
    this.entries.clear();
    if (!this.inFlight) this.closeFds();
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
  private stream<T>(make: RecordTransform<T>, batch: number): { next(): Promise<T[] | null>; end(): void } {
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
          const entries = [...this.entries.values()];
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

  private closeFds(): void {
    if (this.fdsClosed) return;
    this.fdsClosed = true;
    if (this.efd >= 0) trySyscall({ call: "close", fd: this.efd });
    if (this.epfd >= 0) trySyscall({ call: "close", fd: this.epfd });
  }

  private drain(ready: Entry[]): number {
    let n = 0;
    for (const e of ready) {
      if (e.ring.isClosed) continue;
      if (!e.cb) throw new StateError(`ring buffer ${e.ring.name} was added without a callback; use the async iterator to read it`);
      n += e.ring.consume(e.cb, this.budget);
    }
    return n;
  }

  /** Rings reported ready by `count` epoll_events in `buf`; notes a stop request. */
  private readyFrom(buf: Uint8Array, count: number): Entry[] {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const ready: Entry[] = [];
    for (let i = 0; i < count; i++) {
      const slot = view.getUint32(i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET, true);
      if (slot === STOP_SLOT) {
        this.drainEventfd();
        continue;
      }
      const e = this.entries.get(slot);
      if (!e) continue;
      // A ring closed while in the poller would stay readable (its data is never
      // consumed again) and spin the wait: drop it.
      if (e.ring.isClosed) this.remove(e.ring);
      else ready.push(e);
    }
    return ready;
  }

  private drainEventfd(): void {
    // EAGAIN: already drained.
    trySyscall({ call: "read", fd: this.efd, buf: new Uint8Array(8) });
  }

  /** Non-blocking epoll_wait: the rings ready right now. */
  private readyNow(): Entry[] {
    const req: EpollWaitRequest = { call: "epoll_wait", epfd: this.epfd, events: this.events, maxEvents: this.maxEvents, timeout: 0 };
    const r = trySyscall(req);
    if (r.ret === -1) {
      if (r.errno === EINTR) return [];
      throw new SyscallError(req, r.errno, "waiting for ring buffers");
    }
    return this.readyFrom(this.events, Number(r.ret));
  }

  /** Waits for ready rings: the list ([] on timeout), or null if stop() or close() ended the wait. */
  private waitReady(timeoutMs: number): Promise<Entry[] | null> {
    if (timeoutMs === 0) return Promise.resolve(this.readyNow());
    return this.waitMode === "loop" ? this.waitLoop(timeoutMs) : this.waitThreadpool(timeoutMs);
  }

  private waitLoop(timeoutMs: number): Promise<Entry[] | null> {
    return new Promise<Entry[] | null>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        finish: (ready, err) => {
          if (this.waiter !== waiter) return;
          this.waiter = undefined;
          if (timer) clearTimeout(timer);
          // Keep the handle armed for the next wait (no epoll_ctl churn in a start() loop),
          // but let the process exit meanwhile; it is disarmed if it fires with nobody waiting.
          this.handle?.unref();
          if (err) reject(err);
          else resolve(ready);
        },
      };
      this.waiter = waiter;
      if (timeoutMs > 0) timer = setTimeout(() => waiter.finish([]), timeoutMs);
      try {
        this.armHandle();
      } catch (e) {
        waiter.finish(null, e);
      }
    });
  }

  private armHandle(): void {
    if (!this.handle) {
      this.handle = watchReadable(this.epfd, (status) => this.onReadable(status));
      this.handleActive = true;
    } else if (!this.handleActive) {
      this.handle.start((status) => this.onReadable(status));
      this.handleActive = true;
    }
    this.handle.ref();
  }

  /** uv_poll callback, with libuv's status (negative: an error). */
  private onReadable(status: number): void {
    const waiter = this.waiter;
    if (!waiter) {
      // Data arrived between waits: disarm, or level-triggered readiness would spin the loop.
      this.handle?.stop();
      this.handleActive = false;
      return;
    }
    if (status < 0) {
      this.handle?.stop();
      this.handleActive = false;
      waiter.finish(null, new TsbpfError(`polling the ring buffers' epoll fd failed (libuv status ${status})`));
      return;
    }
    let ready: Entry[];
    try {
      ready = this.readyNow();
    } catch (e) {
      waiter.finish(null, e);
      return;
    }
    if (ready.length > 0) waiter.finish(ready);
    // else: spurious (e.g. another consumer drained it); keep waiting.
  }

  private async waitThreadpool(timeoutMs: number): Promise<Entry[] | null> {
    const gen = this.stopGen;
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
    this.inFlight = true;
    try {
      for (;;) {
        const timeout = deadline === Infinity ? -1 : Math.max(0, deadline - Date.now());
        const req: EpollWaitRequest = { call: "epoll_wait", epfd: this.epfd, events: this.asyncEvents, maxEvents: this.maxEvents, timeout };
        const r = await trySyscallAsync(req);
        if (this.closed) return null;
        if (r.ret === -1) {
          if (r.errno !== EINTR) throw new SyscallError(req, r.errno, "waiting for ring buffers");
        } else {
          const ready = this.readyFrom(this.asyncEvents, Number(r.ret));
          if (gen !== this.stopGen) return null;
          if (ready.length > 0) return ready;
        }
        if (Date.now() >= deadline) return [];
      }
    } finally {
      this.inFlight = false;
      if (this.closed) this.closeFds();
    }
  }
}
