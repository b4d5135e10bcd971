/**
 * An attachment of a program, released by destroy(). Most attach points give
 * a bpf_link fd; perf-event based ones (tracepoints, kprobes, uprobes) also
 * hold the perf event fd, which must outlive the link.
 */
import { closeFd } from "../syscall/bpf.js";
import { trySyscall } from "../syscall/kernel.js";
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
    if (this.fds.perfFd !== undefined) {
      trySyscall({ call: "ioctl", fd: this.fds.perfFd, request: PERF_EVENT_IOC_DISABLE, requestName: PERF_IOCTL_NAMES[PERF_EVENT_IOC_DISABLE]!, arg: 0 });
    }
    if (this.fds.linkFd !== undefined) closeFd(this.fds.linkFd);
    if (this.fds.perfFd !== undefined) closeFd(this.fds.perfFd);
    this.fds.cleanup?.();
  }

  [Symbol.dispose](): void {
    this.destroy();
  }
}
