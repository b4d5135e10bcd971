/**
 * An attachment of a program, released by destroy(). Most attach points give
 * a bpf_link fd; perf-event based ones (tracepoints, kprobes, uprobes) also
 * hold the perf event fd, which must outlive the link.
 */
import { StateError, UnsupportedError } from "../errors.js";
import { closeFd } from "../syscall/bpf.js";
import { isRealKernel, trySyscall, trySyscallAsync } from "../syscall/kernel.js";
import { type LinkInfo, linkInfo } from "../syscall/link-info.js";
import { fdById, progInfo } from "../syscall/obj-info.js";
import { PinState, openPinnedObject } from "../syscall/pin.js";
import { PERF_EVENT_IOC_DISABLE, PERF_IOCTL_NAMES } from "../syscall/perf.js";

export interface LinkFds {
  /** bpf_link fd, when the kernel gave one. */
  linkFd?: number;
  /** perf event fd for tracepoint/kprobe/uprobe/perf_event attachments. */
  perfFd?: number;
  /** Anything else to close (e.g. a socket's SO_ATTACH_BPF has no fd of its own). */
  cleanup?: () => void;
}

/** A readable description of what an opened link is attached to. */
function linkTarget(info: LinkInfo): string {
  switch (info.kind) {
    case "raw_tracepoint":
      return info.tpName;
    case "iter":
      return info.targetName;
    case "perf_event":
      return info.name ?? info.eventType;
    case "xdp":
    case "tcx":
    case "netkit":
      return `ifindex ${info.ifindex}`;
    case "cgroup":
      return `cgroup id ${info.cgroupId}`;
    default:
      return `link id ${info.id}`;
  }
}

export class Link {
  private destroyed = false;
  private readonly pins = new PinState(
    () => `link of ${this.program}`,
    () => `the link of ${this.program} is not pinned`,
  );

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

  /**
   * Wraps a bpf_link fd opened elsewhere (it is owned from now on). `kind`
   * is the link type's name ("xdp", "perf_event", "raw_tracepoint", …),
   * `program` the name of the program it holds.
   */
  static fromKernelFd(linkFd: number): Link {
    try {
      const info = linkInfo(linkFd);
      let program = `prog id ${info.progId}`;
      try {
        const progFd = fdById("prog", info.progId);
        try {
          program = progInfo(progFd).name;
        } finally {
          closeFd(progFd);
        }
      } catch {
        // The program may be gone already; its id names it.
      }
      return new Link(info.kind, program, linkTarget(info), { linkFd });
    } catch (e) {
      closeFd(linkFd);
      throw e;
    }
  }

  /** Opens the link pinned at `path` (BPF_OBJ_GET). destroy() then only closes this fd: the pin keeps the link. */
  static fromPinned(path: string): Link {
    const link = Link.fromKernelFd(openPinnedObject(path, 0, "link"));
    link.pins.path = path;
    return link;
  }

  /** Opens a link by id (BPF_LINK_GET_FD_BY_ID). */
  static fromId(id: number): Link {
    return Link.fromKernelFd(fdById("link", id));
  }

  private linkFd(what: string): number {
    if (this.fds.linkFd === undefined) {
      throw new UnsupportedError(`the ${this.kind} attachment of ${this.program} is not a BPF link, so it cannot be ${what}`);
    }
    if (this.destroyed) throw new StateError(`the link of ${this.program} is destroyed`);
    return this.fds.linkFd;
  }

  /** What the kernel reports of the link (struct bpf_link_info, by link type). */
  info(): LinkInfo {
    return linkInfo(this.linkFd("queried"));
  }

  /** Where this link was pinned by pin() or opened from by fromPinned(). */
  get pinnedPath(): string | undefined {
    return this.pins.path;
  }

  /**
   * Pins the link at `path` in a BPF filesystem: the attachment then
   * outlives this object and this process, until unpinned. Only BPF links
   * can be pinned (not tc filters, socket filters, or perf events attached
   * by ioctl on kernels without perf links).
   */
  pin(path: string): void {
    this.pins.pin(this.linkFd("pinned"), path);
  }

  /** Removes the pin at `path` (default: where this link was pinned or opened from); the link goes with its last fd. */
  unpin(path?: string): void {
    this.pins.unpin(path);
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
    // A pinned link lives on: its perf event must stay enabled.
    if (this.fds.perfFd !== undefined && this.pins.path === undefined) {
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
