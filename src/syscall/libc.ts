/**
 * koffi bindings to libc: the real kernel backend. Loaded on first use, so
 * the pure half of tsbpf (ELF, BTF, relocation) never loads native code.
 *
 * bpf(2) and perf_event_open(2) have no glibc wrappers; they go through
 * syscall(2). It is variadic, but on x86-64 and arm64 integer and pointer
 * arguments travel in the same registers either way, so fixed prototypes
 * per call shape are safe and avoid koffi's slower variadic path.
 */
import { createRequire } from "node:module";
import type { KernelBackend, SyscallRequest, SyscallResult } from "./requests.js";

const SYSCALL_NUMBERS: Record<string, { bpf: number; perf_event_open: number }> = {
  x64: { bpf: 321, perf_event_open: 298 },
  arm64: { bpf: 280, perf_event_open: 241 },
};

// koffi's types are loose; this module is the only place that touches them.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Fn = (...args: any[]) => any;

interface Libc {
  koffi: any;
  bpf: Fn;
  perfEventOpen: Fn;
  ioctl: Fn;
  mmap: Fn;
  munmap: Fn;
  close: Fn;
  epollCreate1: Fn;
  epollCtl: Fn;
  epollWait: Fn & { async: Fn };
  eventfd: Fn;
  mount: Fn;
  setsockopt: Fn;
  sigmask: Fn;
}

let libc: Libc | undefined;

/**
 * koffi's own entry point spends 5-8 ms before loading its native module: it
 * detects the libc flavour by parsing node's ELF headers and probes several
 * paths. On glibc that module is a fixed path in koffi's platform package,
 * so require it directly; anything unexpected falls back to the entry point.
 */
function requireKoffi(): any {
  const require = createRequire(import.meta.url);
  try {
    const arch = process.arch;
    const native = require(`@koromix/koffi-linux-${arch}/linux_${arch}/koffi.node`);
    // The bindings here are written against koffi 3's API.
    if (typeof native.version === "string" && native.version.startsWith("3.") && typeof native.load === "function") return native;
  } catch {
    // musl, another layout or another version: koffi knows best.
  }
  return require("koffi");
}

function load(): Libc {
  if (libc) return libc;
  const numbers = SYSCALL_NUMBERS[process.arch];
  if (!numbers) throw new Error(`tsbpf supports x64 and arm64, not ${process.arch}`);
  const koffi = requireKoffi();
  const lib = koffi.load("libc.so.6");
  const sys = (proto: string) => lib.func(proto);
  libc = {
    koffi,
    bpf: sys("long syscall(long nr, long cmd, void *attr, unsigned long size)"),
    perfEventOpen: sys("long syscall(long nr, void *attr, long pid, long cpu, long group_fd, unsigned long flags)"),
    ioctl: sys("int ioctl(int fd, unsigned long request, unsigned long arg)"),
    mmap: sys("void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)"),
    munmap: sys("int munmap(void *addr, size_t length)"),
    close: sys("int close(int fd)"),
    epollCreate1: sys("int epoll_create1(int flags)"),
    epollCtl: sys("int epoll_ctl(int epfd, int op, int fd, void *event)"),
    epollWait: sys("int epoll_wait(int epfd, void *events, int maxevents, int timeout)"),
    eventfd: sys("int eventfd(unsigned int initval, int flags)"),
    setsockopt: sys("int setsockopt(int fd, int level, int optname, const void *optval, unsigned int optlen)"),
    mount: sys("int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)"),
    sigmask: sys("int pthread_sigmask(int how, const void *set, void *oldset)"),
  };
  (libc as any).numbers = numbers;
  return libc;
}

const SIGPROF = 27; // the same number on x86-64 and arm64
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;

/**
 * Runs `fn` with SIGPROF blocked on this thread. The verifier gives up with
 * EAGAIN whenever a signal is pending, and a sampling profiler (node
 * --cpu-prof) sends one every millisecond or less, so a long verification
 * could never finish. A blocked SIGPROF is delivered right after; other
 * signals (Ctrl-C) still interrupt.
 */
export function withProfilerSignalBlocked<T>(fn: () => T): T {
  const l = load();
  const set = new Uint8Array(128); // sigset_t
  set[(SIGPROF - 1) >> 3]! |= 1 << ((SIGPROF - 1) & 7);
  const old = new Uint8Array(128);
  l.sigmask(SIG_BLOCK, set, old);
  try {
    return fn();
  } finally {
    l.sigmask(SIG_SETMASK, old, null);
  }
}

/** The koffi module, for zero-copy views of mmapped memory. */
export function koffi(): any {
  return load().koffi;
}

/** Address of a JS buffer's bytes, to put in a bpf_attr pointer field. */
export function addressOf(buf: Uint8Array): bigint {
  return load().koffi.address(buf);
}

const MAP_FAILED = 0xffffffffffffffffn;

function epollEventBytes(events: number, data: bigint): Uint8Array {
  // struct epoll_event is packed on x86-64 (12 bytes), naturally aligned (16) on arm64.
  const packed = process.arch === "x64";
  const b = new Uint8Array(packed ? 12 : 16);
  const v = new DataView(b.buffer);
  v.setUint32(0, events, true);
  v.setBigUint64(packed ? 4 : 8, data, true);
  return b;
}

function run(l: Libc, req: SyscallRequest): number | bigint {
  const n = (l as any).numbers as { bpf: number; perf_event_open: number };
  switch (req.call) {
    case "bpf":
      return Number(l.bpf(n.bpf, req.cmd, req.attr, req.layout.size));
    case "perf_event_open":
      return Number(l.perfEventOpen(n.perf_event_open, req.attr, req.pid, req.cpu, req.groupFd, req.flags));
    case "ioctl":
      return l.ioctl(req.fd, req.request, req.arg);
    case "mmap": {
      const p: bigint = BigInt(l.mmap(req.addr === 0n ? null : req.addr, req.length, req.prot, req.flags, req.fd, req.offset) ?? 0);
      return p === MAP_FAILED ? -1 : p;
    }
    case "munmap":
      return l.munmap(req.addr, req.length);
    case "close":
      return l.close(req.fd);
    case "epoll_create1":
      return l.epollCreate1(req.flags);
    case "epoll_ctl":
      return l.epollCtl(req.epfd, req.op, req.fd, epollEventBytes(req.events, req.data));
    case "epoll_wait":
      return l.epollWait(req.epfd, req.events, req.maxEvents, req.timeout);
    case "eventfd2":
      return l.eventfd(req.initval, req.flags);
    case "setsockopt":
      return l.setsockopt(req.fd, req.level, req.optname, req.value, req.value.byteLength);
    case "mount":
      return l.mount(req.source, req.target, req.fstype, req.flags, null);
  }
}

/** The real kernel, through libc. */
export const realKernel: KernelBackend = {
  invoke(req: SyscallRequest): SyscallResult {
    const l = load();
    const ret = run(l, req);
    // errno must be read before any other native call can clobber it.
    const errno = ret === -1 ? l.koffi.errno() : 0;
    return { ret, errno };
  },
  invokeAsync(req: SyscallRequest): Promise<SyscallResult> {
    const l = load();
    if (req.call !== "epoll_wait") return Promise.resolve(this.invoke(req));
    return new Promise((resolve, reject) => {
      // Runs on the libuv thread pool; errno is thread-local, and koffi
      // captures it for async calls on the worker thread that made the call.
      l.epollWait.async(req.epfd, req.events, req.maxEvents, req.timeout, (err: unknown, ret: number) => {
        if (err) reject(err);
        else resolve({ ret, errno: ret === -1 ? l.koffi.errno() : 0 });
      });
    });
  },
};
