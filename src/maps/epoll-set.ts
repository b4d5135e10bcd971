/**
 * The rings a RingBufferPoller waits on, as one epoll set: each ring's fd is
 * registered with EPOLLIN (a ringbuf or perf event fd is readable while it
 * holds unconsumed data) and a slot number as its epoll data, which maps a
 * reported event back to the ring. How to wait on the set is a ReadyWaiter's
 * business (loop-waiter.ts, threadpool-waiter.ts).
 */
import { EINTR } from "../syscall/errno.js";
import { syscall, trySyscall } from "../syscall/kernel.js";
import type { EpollWaitRequest } from "../syscall/requests.js";
import { SyscallError } from "../syscall/syscall-error.js";
import type { RecordCallback, RecordSource } from "./ringbuf.js";

const EPOLL_CLOEXEC = 0o2000000;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLLIN = 0x001;
/** struct epoll_event is packed on x86-64 (12 bytes) and naturally aligned elsewhere (16). */
const EPOLL_EVENT_SIZE = process.arch === "x64" ? 12 : 16;
const EPOLL_DATA_OFFSET = process.arch === "x64" ? 4 : 8;

export interface PollEntry {
  slot: number;
  ring: RecordSource;
  cb: RecordCallback | undefined;
}

/** How a poller waits for ready rings. */
export interface ReadyWaiter {
  /** The ready rings, [] after `timeoutMs` (-1: none), or null once cancel() or close() ends the wait. */
  wait(timeoutMs: number): Promise<PollEntry[] | null>;
  /** Ends a wait in progress (it resolves with null); later waits wait as usual. */
  cancel(): void;
  /** Ends any wait and frees what the waiter holds; calls `release` once the set's fds are no longer in use. */
  close(release: () => void): void;
}

export class EpollSet {
  readonly fd: number;
  private readonly entries = new Map<number, PollEntry>();
  private nextSlot = 1;
  /** epoll_event buffer of the non-blocking waits. */
  private readonly events: Uint8Array;
  private fdClosed = false;

  constructor(readonly maxEvents: number) {
    this.events = this.eventBuffer();
    this.fd = syscall({ call: "epoll_create1", flags: EPOLL_CLOEXEC });
  }

  /** Room for `maxEvents` epoll_events (a blocking wait off the event loop needs its own). */
  eventBuffer(): Uint8Array {
    return new Uint8Array(this.maxEvents * EPOLL_EVENT_SIZE);
  }

  /** The rings, in the order they were added. */
  get all(): PollEntry[] {
    return [...this.entries.values()];
  }

  has(ring: RecordSource): boolean {
    for (const e of this.entries.values()) if (e.ring === ring) return true;
    return false;
  }

  add(ring: RecordSource, cb: RecordCallback | undefined): void {
    const slot = this.nextSlot++;
    this.addFd(ring.fd, slot);
    this.entries.set(slot, { slot, ring, cb });
  }

  /** Registers another fd (a waiter's wake-up eventfd) under a slot no ring has (0). */
  addFd(fd: number, slot: number): void {
    syscall({ call: "epoll_ctl", epfd: this.fd, op: EPOLL_CTL_ADD, fd, events: EPOLLIN, data: BigInt(slot) });
  }

  remove(ring: RecordSource): boolean {
    for (const e of this.entries.values()) {
      if (e.ring !== ring) continue;
      this.entries.delete(e.slot);
      if (!this.fdClosed) trySyscall({ call: "epoll_ctl", epfd: this.fd, op: EPOLL_CTL_DEL, fd: ring.fd, events: 0, data: 0n });
      return true;
    }
    return false;
  }

  /** Forgets every ring (the fds stay open: they are the rings' own). */
  clear(): void {
    this.entries.clear();
  }

  /**
   * Rings reported ready by `count` epoll_events in `buf`; events of other
   * slots (not rings) go to `other`. A ring closed while in the set would
   * stay readable (its data is never consumed again) and spin the wait: it
   * is dropped.
   */
  ready(buf: Uint8Array, count: number, other?: (slot: number) => void): PollEntry[] {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const ready: PollEntry[] = [];
    for (let i = 0; i < count; i++) {
      const slot = view.getUint32(i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET, true);
      const e = this.entries.get(slot);
      if (!e) {
        other?.(slot);
        continue;
      }
      if (e.ring.isClosed) this.remove(e.ring);
      else ready.push(e);
    }
    return ready;
  }

  /** Non-blocking epoll_wait: the rings ready right now. */
  readyNow(): PollEntry[] {
    const req: EpollWaitRequest = { call: "epoll_wait", epfd: this.fd, events: this.events, maxEvents: this.maxEvents, timeout: 0 };
    const r = trySyscall(req);
    if (r.ret === -1) {
      if (r.errno === EINTR) return [];
      throw new SyscallError(req, r.errno, "waiting for ring buffers");
    }
    return this.ready(this.events, Number(r.ret));
  }

  /** Rings that say they hold records whatever epoll says (see RecordSource.pending). */
  pending(): PollEntry[] {
    const out: PollEntry[] = [];
    for (const e of this.entries.values()) if (e.ring.pending?.()) out.push(e);
    return out;
  }

  close(): void {
    if (this.fdClosed) return;
    this.fdClosed = true;
    trySyscall({ call: "close", fd: this.fd });
  }
}
