/**
 * Waiting on a poller's epoll set inside Node's event loop: a libuv
 * uv_poll_t (koffi's `node.poll`) puts the epoll fd into the loop's own
 * epoll set. When it turns readable the loop calls us back, and a
 * non-blocking epoll_wait (timeout 0) through the syscall choke point says
 * which rings are ready (the tracer sees it, as it sees libbpf's). Nothing
 * blocks anywhere: no thread is held while idle, a wake-up costs no thread
 * hand-off, cancel() is a plain function call, and any number of pollers
 * cost nothing but an fd each. The cost: libuv's own epoll_ctl calls for
 * the watcher do not pass through the choke point.
 *
 * Perf events: libuv's epoll looking into ours polls each perf event once
 * before our epoll_wait does, and a perf event's poll clears its wake-up,
 * so our epoll_wait finds nothing. The rings' own pending() (head ≠ tail in
 * the shared page) then says which ones to drain.
 */
import { TsbpfError } from "../errors.js";
import { type FdWatcher, watchReadable } from "../syscall/native.js";
import type { EpollSet, PollEntry, ReadyWaiter } from "./epoll-set.js";

/** A wait in progress: settles once, with the ready rings, [] on timeout, or null when cancelled. */
interface Wait {
  finish(ready: PollEntry[] | null, err?: unknown): void;
}

export class LoopWaiter implements ReadyWaiter {
  private watcher: FdWatcher | undefined;
  private armed = false;
  private current: Wait | undefined;

  constructor(private readonly set: EpollSet) {}

  wait(timeoutMs: number): Promise<PollEntry[] | null> {
    return new Promise<PollEntry[] | null>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const wait: Wait = {
        finish: (ready, err) => {
          if (this.current !== wait) return;
          this.current = undefined;
          if (timer) clearTimeout(timer);
          // Keep the watcher armed for the next wait (no epoll_ctl churn in a start() loop),
          // but let the process exit meanwhile; it is disarmed if it fires with nobody waiting.
          this.watcher?.unref();
          if (err) reject(err);
          else resolve(ready);
        },
      };
      this.current = wait;
      if (timeoutMs > 0) timer = setTimeout(() => wait.finish([]), timeoutMs);
      try {
        this.arm();
      } catch (e) {
        wait.finish(null, e);
      }
    });
  }

  cancel(): void {
    this.current?.finish(null);
  }

  close(release: () => void): void {
    this.cancel();
    if (this.watcher) {
      // uv_poll_stop removes the fd from libuv's epoll set at once, so the fd may be closed next.
      this.watcher.close();
      this.watcher = undefined;
      this.armed = false;
    }
    release();
  }

  private arm(): void {
    if (!this.watcher) {
      this.watcher = watchReadable(this.set.fd, (status) => this.onReadable(status));
      this.armed = true;
    } else if (!this.armed) {
      this.watcher.start((status) => this.onReadable(status));
      this.armed = true;
    }
    this.watcher.ref();
  }

  private disarm(): void {
    this.watcher?.stop();
    this.armed = false;
  }

  /** uv_poll callback, with libuv's status (negative: an error). */
  private onReadable(status: number): void {
    const wait = this.current;
    if (!wait) {
      // Data arrived between waits: disarm, or level-triggered readiness would spin the loop.
      this.disarm();
      return;
    }
    if (status < 0) {
      this.disarm();
      wait.finish(null, new TsbpfError(`polling the ring buffers' epoll fd failed (libuv status ${status})`));
      return;
    }
    let ready: PollEntry[];
    try {
      ready = this.set.readyNow();
      if (ready.length === 0) ready = this.set.pending();
    } catch (e) {
      wait.finish(null, e);
      return;
    }
    if (ready.length > 0) wait.finish(ready);
    // else: spurious (e.g. another consumer drained it); keep waiting.
  }
}
