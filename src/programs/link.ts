/**
 * An attachment of a program, released by destroy(). Most attach points give
 * a bpf_link fd; perf-event based ones (tracepoints, kprobes, uprobes) also
 * hold the perf event fd, which must outlive the link.
 */
import { closeFd } from "../syscall/bpf.js";
import { isRealKernel, trySyscall, trySyscallAsync } from "../syscall/kernel.js";
import { PERF_EVENT_IOC_DISABLE, PERF_IOCTL_NAMES } from "../syscall/perf.js";

export interface LinkFds {
  /** bpf_link fd, when the kernel gave one. */
  linkFd?: number;
  /** perf event fd for tracepoint/kprobe/uprobe/perf_event attachments. */
  perfFd?: number;
  /** Anything else to close (e.g. a socket's SO_ATTACH_BPF has no fd of its own). */
  cleanup?: () => void;
}

export class Link {
  private destroyed = false;

  constructor(
    /** "tracepoint", "raw_tracepoint", "xdp", ... */
    readonly kind: string,
    readonly program: string,
    /** Where it is attached, e.g. "syscalls/sys_enter_write". */
    readonly target: string,
    private readonly fds: LinkFds,
  ) {}

  get fd(): number | undefined {
    return this.fds.linkFd;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /**
   * Detaches. Closing a tracepoint link waits for an RCU grace period in the
   * kernel (~75 ms here), so callers with many links should destroy them
   * concurrently (see destroyLinks).
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.disable();
    if (this.fds.linkFd !== undefined) closeFd(this.fds.linkFd);
    this.finish();
  }

  /**
   * destroy(), with the blocking part of the detach off the event loop. The
   * same syscalls go through the choke point in the same order (ioctl
   * DISABLE, close of the link fd, close of the perf fd), but each of those
   * fds was first duplicated (dup), so those closes return at once; the
   * kernel's teardown happens when the duplicates are closed on the libuv
   * thread pool (through the choke point too, so the trace shows the close
   * that really releases each object): the link's (detaching the program
   * waits for an RCU grace period, ~30-40 ms here), then the perf event's
   * (a tracepoint's unregistration waits again, ~50 ms). Several links
   * detaching at once thus wait together (see destroyLinks). Falls back to
   * destroy() where that is not possible (a fake kernel, no fd to spare).
   */
  async destroyAsync(): Promise<void> {
    if (this.destroyed) return;
    const { linkFd, perfFd } = this.fds;
    const spareLink = linkFd !== undefined ? duplicate(linkFd) : -1;
    if (spareLink < 0) return this.destroy();
    const sparePerf = perfFd !== undefined ? duplicate(perfFd) : -1;
    this.destroyed = true;
    this.disable();
    // Only drop these fds: the spares still hold the link and the perf event.
    closeFd(linkFd!);
    if (sparePerf >= 0) closeFd(perfFd!);
    try {
      // The link holds its own reference to the perf event, so the event still
      // outlives the link however these two closes interleave: the last one
      // to drop its reference tears down both.
      await Promise.all([closeOffThread(spareLink), sparePerf >= 0 ? closeOffThread(sparePerf) : undefined]);
    } finally {
      if (sparePerf < 0 && perfFd !== undefined) closeFd(perfFd);
      this.fds.cleanup?.();
    }
  }

  private disable(): void {
    if (this.fds.perfFd !== undefined) {
      trySyscall({
        call: "ioctl",
        fd: this.fds.perfFd,
        request: PERF_EVENT_IOC_DISABLE,
        requestName: PERF_IOCTL_NAMES[PERF_EVENT_IOC_DISABLE]!,
        arg: 0,
      });
    }
  }

  /** What follows the link's close: the perf event fd, then any cleanup. */
  private finish(): void {
    if (this.fds.perfFd !== undefined) closeFd(this.fds.perfFd);
    this.fds.cleanup?.();
  }

  [Symbol.dispose](): void {
    this.destroy();
  }
}

/**
 * Destroys links concurrently. Closing a tracepoint/kprobe/uprobe link waits
 * in the kernel for an RCU grace period (~75 ms on this kind of machine);
 * closed one after another, N links cost N grace periods. Here every link's
 * final close runs at the same time on the libuv thread pool, so the grace
 * periods overlap (with the default 4 pool threads: 4 at a time), and the
 * event loop stays free meanwhile. Resolves when every link is detached.
 */
export async function destroyLinks(links: Iterable<Link>): Promise<void> {
  const results = await Promise.allSettled([...links].map((l) => l.destroyAsync()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

/**
 * dup(2) of `fd` for an off-thread close, or -1 when that is not possible.
 * Only against the real kernel: a fake kernel's fds are not real ones.
 */
function duplicate(fd: number): number {
  if (!isRealKernel()) return -1;
  const r = trySyscall({ call: "dup", fd });
  return r.ret === -1 ? -1 : Number(r.ret);
}

/** close(2) on the libuv thread pool; errors are ignored, as closeFd() ignores them. */
async function closeOffThread(fd: number): Promise<void> {
  await trySyscallAsync({ call: "close", fd }).catch(() => undefined);
}
