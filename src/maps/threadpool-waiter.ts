/**
 * Waiting on a poller's epoll set on the libuv thread pool: epoll_wait with
 * the caller's timeout runs there (koffi's async call), and an eventfd in
 * the set lets cancel() wake it. Each waiting poller holds one pool thread
 * for as long as it waits. The pool has 4 threads unless UV_THREADPOOL_SIZE
 * says otherwise, and fs, dns.lookup, crypto and zlib share them: a few idle
 * pollers slow all of those down, and four stall them outright. Each
 * wake-up also crosses threads (worker → uv_async → promise). It remains
 * for a kernel backend without real fds (a fake kernel answering
 * epoll_wait), and because koffi documents its uv_poll API as experimental.
 */
import { EINTR } from "../syscall/errno.js";
import { syscall, trySyscall, trySyscallAsync } from "../syscall/kernel.js";
import type { EpollWaitRequest } from "../syscall/requests.js";
import { SyscallError } from "../syscall/syscall-error.js";
import type { EpollSet, PollEntry, ReadyWaiter } from "./epoll-set.js";

const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
/** epoll data of the eventfd; rings get 1, 2, ... */
const WAKE_SLOT = 0;

export class ThreadpoolWaiter implements ReadyWaiter {
  private readonly efd: number;
  /** Owned by the in-flight epoll_wait. */
  private readonly events: Uint8Array;
  /** An epoll_wait is running on the pool (the fds must outlive it). */
  private inFlight = false;
  /** Bumped by cancel(): a wait started before it returns null. */
  private generation = 0;
  private closed = false;
  private release: (() => void) | undefined;

  constructor(private readonly set: EpollSet) {
    this.events = set.eventBuffer();
    this.efd = syscall({ call: "eventfd2", initval: 0, flags: EFD_CLOEXEC | EFD_NONBLOCK });
    try {
      set.addFd(this.efd, WAKE_SLOT);
    } catch (e) {
      trySyscall({ call: "close", fd: this.efd });
      throw e;
    }
  }

  async wait(timeoutMs: number): Promise<PollEntry[] | null> {
    const generation = this.generation;
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
    this.inFlight = true;
    try {
      for (;;) {
        const timeout = deadline === Number.POSITIVE_INFINITY ? -1 : Math.max(0, deadline - Date.now());
        const req: EpollWaitRequest = {
          call: "epoll_wait",
          epfd: this.set.fd,
          events: this.events,
          maxEvents: this.set.maxEvents,
          timeout,
        };
        const r = await trySyscallAsync(req);
        if (this.closed) return null;
        if (r.ret === -1) {
          if (r.errno !== EINTR) throw new SyscallError(req, r.errno, "waiting for ring buffers");
        } else {
          const ready = this.set.ready(this.events, Number(r.ret), () => this.drainWakeUps());
          if (generation !== this.generation) return null;
          if (ready.length > 0) return ready;
        }
        if (Date.now() >= deadline) return [];
      }
    } finally {
      this.inFlight = false;
      if (this.closed) this.closeFds();
    }
  }

  cancel(): void {
    this.generation++;
    if (!this.inFlight || this.closed) return;
    // eventfd counter += 1: the epoll set turns readable. Only a fake
    // kernel's made-up fd can refuse; its epoll_wait does not block anyway.
    const one = new Uint8Array(8);
    one[0] = 1;
    trySyscall({ call: "write", fd: this.efd, buf: one });
  }

  /**
   * An in-flight epoll_wait still uses the fds: they are closed when it
   * returns, right after the wake-up.
   */
  close(release: () => void): void {
    this.cancel();
    this.closed = true;
    this.release = release;
    if (!this.inFlight) this.closeFds();
  }

  private drainWakeUps(): void {
    // EAGAIN: already drained.
    trySyscall({ call: "read", fd: this.efd, buf: new Uint8Array(8) });
  }

  private closeFds(): void {
    const release = this.release;
    if (!release) return;
    this.release = undefined;
    trySyscall({ call: "close", fd: this.efd });
    release();
  }
}
