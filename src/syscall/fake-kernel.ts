/**
 * A kernel for tests of error paths: it answers requests from rules, records
 * every call, and can wrap the real kernel to inject a failure into the Nth
 * call ("fail the 7th syscall with EPERM"). It is for error paths and fault
 * injection only; what can run against the real kernel is tested there.
 *
 * It fakes the kernel's BPF side, not the file system: without a
 * passthrough kernel, host file calls no rule answers (openat, access,
 * mkdirat, renameat2, and read/write/fstat/mmap/close of the fds openat
 * gave) still reach the real one, so an object can be loaded against the
 * host's kernel BTF (and its index cache, when enabled).
 */
import { addressOf, realKernel } from "./libc.js";
import type { KernelBackend, SyscallRequest, SyscallResult } from "./requests.js";

export type Responder = (req: SyscallRequest) => SyscallResult | number;

interface Rule {
  matches: (req: SyscallRequest) => boolean;
  respond: Responder;
  once: boolean;
}

export class FakeKernel implements KernelBackend {
  /** Every request seen, in order (including passed-through ones). */
  readonly calls: SyscallRequest[] = [];
  private readonly rules: Rule[] = [];
  private nextFd = 1000;
  private failAt = -1;
  private failErrno = 0;
  private readonly memory: Uint8Array[] = [];
  /** Real fds of host files opened without a passthrough kernel. */
  private readonly hostFds = new Set<number>();

  /** With `passthrough`, calls no rule answers go to that backend (usually the real kernel). */
  constructor(private readonly passthrough?: KernelBackend) {}

  /** Answers matching requests with `respond` (a return value, or a full result). */
  on(matches: (req: SyscallRequest) => boolean, respond: Responder, once = false): this {
    this.rules.push({ matches, respond, once });
    return this;
  }

  /** Fails matching requests with errno. */
  failWhen(matches: (req: SyscallRequest) => boolean, errno: number, once = false): this {
    return this.on(matches, () => ({ ret: -1, errno }), once);
  }

  /** Fails the nth call from now (1-based), whatever it is, with errno. */
  failNth(n: number, errno: number): this {
    this.failAt = this.calls.length + n;
    this.failErrno = errno;
    return this;
  }

  invoke(req: SyscallRequest): SyscallResult {
    this.calls.push(req);
    if (this.calls.length === this.failAt) {
      // Linux releases the fd even when close() reports an error (EINTR, EIO).
      if (req.call === "close") this.passthrough?.invoke(req);
      return { ret: -1, errno: this.failErrno };
    }
    const i = this.rules.findIndex((r) => r.matches(req));
    if (i >= 0) {
      const rule = this.rules[i]!;
      if (rule.once) this.rules.splice(i, 1);
      const r = rule.respond(req);
      return typeof r === "number" ? { ret: r, errno: 0 } : r;
    }
    if (this.passthrough) return this.passthrough.invoke(req);
    if (this.isHostFileCall(req)) return this.hostFileCall(req);
    return this.defaultAnswer(req);
  }

  private isHostFileCall(req: SyscallRequest): boolean {
    switch (req.call) {
      case "openat":
      case "access":
      case "mkdirat":
      case "renameat2":
        return true;
      case "read":
      case "write":
      case "fstat":
      case "close":
      case "mmap":
        return this.hostFds.has(req.fd);
      default:
        return false;
    }
  }

  private hostFileCall(req: SyscallRequest): SyscallResult {
    const r = realKernel.invoke(req);
    if (req.call === "openat" && r.ret !== -1) this.hostFds.add(Number(r.ret));
    if (req.call === "close") this.hostFds.delete(req.fd);
    return r;
  }

  async invokeAsync(req: SyscallRequest): Promise<SyscallResult> {
    const offThread = req.call === "epoll_wait" || req.call === "close";
    if (this.passthrough && offThread && !this.rules.some((r) => r.matches(req)) && this.calls.length + 1 !== this.failAt) {
      this.calls.push(req);
      return this.passthrough.invokeAsync(req);
    }
    return this.invoke(req);
  }

  /** Without a rule: calls that create something get a fresh fake fd; mmap gets real memory. */
  private defaultAnswer(req: SyscallRequest): SyscallResult {
    switch (req.call) {
      case "mmap": {
        const mem = new Uint8Array(req.length);
        this.memory.push(mem);
        return { ret: addressOf(mem), errno: 0 };
      }
      case "close":
      case "munmap":
      case "ioctl":
      case "epoll_ctl":
      case "fstat":
      case "statfs":
      case "capget":
        return { ret: 0, errno: 0 };
      case "epoll_wait":
      case "read":
        return { ret: 0, errno: 0 };
      case "write":
        return { ret: req.buf.byteLength, errno: 0 };
      case "bind":
      case "unlink":
      case "recvmsg":
        return { ret: 0, errno: 0 };
      case "sendmsg":
        return { ret: req.iov.reduce((n, b) => n + b.byteLength, 0), errno: 0 };
      default:
        return { ret: this.nextFd++, errno: 0 };
    }
  }
}
