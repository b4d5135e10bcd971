/**
 * koffi bindings to libc: the real kernel backend, and the only file that
 * touches koffi (whose API is untyped: `any` stays here). Everything else
 * reaches native code through the typed functions exported below, which
 * the rest of tsbpf gets from native.ts (this file is private to
 * src/syscall; `npm run check:layers` enforces it). Loaded on first use, so
 * the pure half of tsbpf (ELF, BTF, relocation) never loads native code.
 *
 * bpf(2), perf_event_open(2) and fstat(2) go through syscall(2): the first
 * two have no glibc wrappers, and glibc's fstat() is newfstatat(2), which
 * would make the trace and strace disagree on the call's name. syscall(2)
 * is variadic, but on x86-64 and arm64 integer and pointer arguments travel
 * in the same registers either way, so fixed prototypes per call shape are
 * safe and avoid koffi's slower variadic path.
 */
import { createRequire } from "node:module";
import type { KernelBackend, SyscallRequest, SyscallResult } from "./requests.js";

interface SyscallNumbers {
  bpf: number;
  perf_event_open: number;
  fstat: number;
}

const SYSCALL_NUMBERS: Record<string, SyscallNumbers> = {
  x64: { bpf: 321, perf_event_open: 298, fstat: 5 },
  arm64: { bpf: 280, perf_event_open: 241, fstat: 80 },
};

// koffi's types are loose; this module is the only place that touches them.
type Fn = ((...args: any[]) => any) & { async: (...args: any[]) => void };

interface Libc {
  koffi: any;
  numbers: SyscallNumbers;
  /** libc.so.6, as koffi loaded it. */
  lib: any;
  /** The functions declared so far (see func()). */
  declared: Partial<Record<FnName, Fn>>;
}

/**
 * The libc functions tsbpf calls, by the name run() uses. openat's mode is
 * variadic in glibc; it is read only with O_CREAT/O_TMPFILE (see the note
 * above).
 */
const PROTOTYPES = {
  bpf: "long syscall(long nr, long cmd, void *attr, unsigned long size)",
  perfEventOpen: "long syscall(long nr, void *attr, long pid, long cpu, long group_fd, unsigned long flags)",
  fstat: "long syscall(long nr, int fd, void *statbuf)",
  ioctl: "int ioctl(int fd, unsigned long request, unsigned long arg)",
  mmap: "void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)",
  munmap: "int munmap(void *addr, size_t length)",
  close: "int close(int fd)",
  dup: "int dup(int fd)",
  openat: "int openat(int dirfd, const char *path, int flags, unsigned int mode)",
  read: "long read(int fd, void *buf, unsigned long count)",
  write: "long write(int fd, const void *buf, unsigned long count)",
  access: "int access(const char *path, int mode)",
  epollCreate1: "int epoll_create1(int flags)",
  epollCtl: "int epoll_ctl(int epfd, int op, int fd, void *event)",
  epollWait: "int epoll_wait(int epfd, void *events, int maxevents, int timeout)",
  eventfd: "int eventfd(unsigned int initval, int flags)",
  setsockopt: "int setsockopt(int fd, int level, int optname, const void *optval, unsigned int optlen)",
  socket: "int socket(int domain, int type, int protocol)",
  bind: "int bind(int fd, const void *addr, unsigned int len)",
  sendmsg: "long sendmsg(int fd, const void *msg, int flags)",
  recvmsg: "long recvmsg(int fd, void *msg, int flags)",
  unlink: "int unlink(const char *path)",
  mkdirat: "int mkdirat(int dirfd, const char *path, unsigned int mode)",
  renameat2: "int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)",
  mount: "int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)",
  sigmask: "int pthread_sigmask(int how, const void *set, void *oldset)",
  clockGettime: "int clock_gettime(int clock, void *ts)",
  statfs: "int statfs(const char *path, void *buf)",
  capget: "int capget(void *header, void *data)",
};
type FnName = keyof typeof PROTOTYPES;

/**
 * `name`, declared to koffi on its first call: a declaration parses its
 * prototype and builds a trampoline (all 29 were ~0.45 ms and ~50 kB of
 * heap at the first syscall), and a load calls 7 of them.
 */
function func(l: Libc, name: FnName): Fn {
  return (l.declared[name] ??= l.lib.func(PROTOTYPES[name]));
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
  libc = { koffi, numbers, lib: koffi.load("libc.so.6"), declared: {} };
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
  func(l, "sigmask")(SIG_BLOCK, set, old);
  try {
    return fn();
  } finally {
    func(l, "sigmask")(SIG_SETMASK, old, null);
  }
}

/** Address of a JS buffer's bytes, to put in a bpf_attr pointer field. */
export function addressOf(buf: Uint8Array): bigint {
  return load().koffi.address(buf);
}

/**
 * `length` bytes of native memory at `address` (an mmap's result) as an
 * ArrayBuffer, without a copy. The caller keeps the mapping alive for as
 * long as the buffer is used.
 */
export function memoryView(address: bigint, length: number): ArrayBuffer {
  return load().koffi.view(address, length) as ArrayBuffer;
}

/** A libuv poll watcher (uv_poll_t) on an fd, in Node's own event loop. */
export interface FdWatcher {
  /** Re-arms a stopped watcher. */
  start(onReadable: (status: number) => void): void;
  /** Disarms it (the fd leaves libuv's epoll set). */
  stop(): void;
  /** Stops and frees it; the fd may be closed afterwards. */
  close(): void;
  /** Whether a pending watcher keeps the process alive. */
  ref(): void;
  unref(): void;
}

/** Whether this koffi offers libuv fd polling (koffi's `node.poll`, documented as experimental). */
export function canWatchFds(): boolean {
  try {
    return typeof load().koffi?.node?.poll === "function";
  } catch {
    return false;
  }
}

/**
 * Calls `onReadable` from the event loop whenever `fd` is readable. The
 * callback gets libuv's status (negative: an error); koffi 3.3 passes
 * (status, events) although its .d.ts shows only the events.
 */
export function watchReadable(fd: number, onReadable: (status: number) => void): FdWatcher {
  const status = (args: unknown[]) => (typeof args[0] === "number" ? args[0] : 0);
  const handle = load().koffi.node.poll(fd, { readable: true }, (...args: unknown[]) => onReadable(status(args)));
  return {
    start: (cb) => handle.start({ readable: true }, (...args: unknown[]) => cb(status(args))),
    stop: () => handle.stop(),
    close: () => handle.close(),
    ref: () => handle.ref(),
    unref: () => handle.unref(),
  };
}

/** clock_gettime(2) in ns (served by the vDSO: no syscall, nothing to trace). */
export function clockNs(clock: number): bigint {
  const l = load();
  const ts = new Uint8Array(16);
  if (func(l, "clockGettime")(clock, ts) !== 0) throw new Error(`clock_gettime(${clock}) failed`);
  const v = new DataView(ts.buffer);
  return v.getBigInt64(0, true) * 1_000_000_000n + v.getBigInt64(8, true);
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
  const n = l.numbers;
  switch (req.call) {
    case "bpf":
      return Number(func(l, "bpf")(n.bpf, req.cmd, req.attr, req.layout.size));
    case "perf_event_open":
      return Number(func(l, "perfEventOpen")(n.perf_event_open, req.attr, req.pid, req.cpu, req.groupFd, req.flags));
    case "ioctl":
      return func(l, "ioctl")(req.fd, req.request, req.arg);
    case "mmap": {
      const p: bigint = BigInt(
        func(l, "mmap")(req.addr === 0n ? null : req.addr, req.length, req.prot, req.flags, req.fd, req.offset) ?? 0,
      );
      return p === MAP_FAILED ? -1 : p;
    }
    case "munmap":
      return func(l, "munmap")(req.addr, req.length);
    case "close":
      return func(l, "close")(req.fd);
    case "dup":
      return func(l, "dup")(req.fd);
    case "openat":
      return func(l, "openat")(req.dirfd, req.path, req.flags, req.mode);
    case "read":
      return Number(func(l, "read")(req.fd, req.buf, req.buf.byteLength));
    case "write":
      return Number(func(l, "write")(req.fd, req.buf, req.buf.byteLength));
    case "fstat":
      return Number(func(l, "fstat")(n.fstat, req.fd, req.statbuf));
    case "access":
      return func(l, "access")(req.path, req.mode);
    case "epoll_create1":
      return func(l, "epollCreate1")(req.flags);
    case "epoll_ctl":
      return func(l, "epollCtl")(req.epfd, req.op, req.fd, epollEventBytes(req.events, req.data));
    case "epoll_wait":
      return func(l, "epollWait")(req.epfd, req.events, req.maxEvents, req.timeout);
    case "eventfd2":
      return func(l, "eventfd")(req.initval, req.flags);
    case "setsockopt":
      return func(l, "setsockopt")(req.fd, req.level, req.optname, req.value, req.value.byteLength);
    case "mount":
      return func(l, "mount")(req.source, req.target, req.fstype, req.flags, null);
    case "statfs":
      return func(l, "statfs")(req.path, req.buf);
    case "capget":
      return func(l, "capget")(req.header, req.data);
    case "socket":
      return func(l, "socket")(req.domain, req.type, req.protocol);
    case "bind":
      return func(l, "bind")(req.fd, req.addr, req.addr.byteLength);
    case "sendmsg":
      return Number(func(l, "sendmsg")(req.fd, req.msghdr, req.flags));
    case "recvmsg":
      return Number(func(l, "recvmsg")(req.fd, req.msghdr, req.flags));
    case "unlink":
      return func(l, "unlink")(req.path);
    case "mkdirat":
      return func(l, "mkdirat")(req.dirfd, req.path, req.mode);
    case "renameat2":
      return func(l, "renameat2")(req.olddirfd, req.oldpath, req.newdirfd, req.newpath, req.flags);
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
    return new Promise((resolve, reject) => {
      // Runs on the libuv thread pool; errno is thread-local, and koffi
      // captures it for async calls on the worker thread that made the call.
      const done = (err: unknown, ret: number) => {
        if (err) reject(err);
        else resolve({ ret, errno: ret === -1 ? l.koffi.errno() : 0, offThread: true });
      };
      if (req.call === "epoll_wait") func(l, "epollWait").async(req.epfd, req.events, req.maxEvents, req.timeout, done);
      else if (req.call === "close") func(l, "close").async(req.fd, done);
      else resolve(this.invoke(req));
    });
  },
};
