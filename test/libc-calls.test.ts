/**
 * Every call the real kernel backend knows reaches libc. koffi declares a
 * libc function on its first call (src/syscall/libc.ts), so a prototype
 * koffi refuses would otherwise surface only when a rare call (mount,
 * renameat2) is first made. Each call here fails harmlessly in the kernel
 * (a bad fd, a missing path) with the errno that proves it got there.
 */
import { describe, expect, it } from "vitest";
import { BpfCmd } from "../src/abi/uapi-enums.js";
import { bpfRequest } from "../src/syscall/bpf.js";
import { EBADF, EINVAL, ENOENT, errnoNumber } from "../src/syscall/errno.js";
import { realKernel } from "../src/syscall/libc.js";
import { clockNs, withProfilerSignalBlocked } from "../src/syscall/native.js";
import { perfEventOpenRequest } from "../src/syscall/perf.js";
import type { SyscallRequest } from "../src/syscall/requests.js";

const MISSING = "/nonexistent/tsbpf/libc-calls";
const AT_FDCWD = -100;
const bytes = (n: number) => new Uint8Array(n);

/**
 * One request per call kind (capget, which succeeds, is below), and the errno
 * the kernel answers it with; `satisfies` makes a new call kind without an
 * entry a type error.
 */
const CALLS = {
  bpf: [bpfRequest(BpfCmd.MAP_FREEZE, { map_fd: -1 }), EBADF],
  perf_event_open: [perfEventOpenRequest({ type: 0, config: 0 }, -1, -1, -1, 0), EINVAL],
  ioctl: [{ call: "ioctl", fd: -1, request: 0x2400, requestName: "PERF_EVENT_IOC_ENABLE", arg: 0 }, EBADF],
  mmap: [{ call: "mmap", addr: 0n, length: 4096, prot: 1, flags: 1, fd: -1, offset: 0 }, EBADF],
  munmap: [{ call: "munmap", addr: 1n, length: 4096 }, EINVAL],
  close: [{ call: "close", fd: -1 }, EBADF],
  dup: [{ call: "dup", fd: -1 }, EBADF],
  openat: [{ call: "openat", dirfd: AT_FDCWD, path: MISSING, flags: 0, mode: 0 }, ENOENT],
  read: [{ call: "read", fd: -1, buf: bytes(8) }, EBADF],
  write: [{ call: "write", fd: -1, buf: bytes(8) }, EBADF],
  fstat: [{ call: "fstat", fd: -1, statbuf: bytes(144) }, EBADF],
  access: [{ call: "access", path: MISSING, mode: 0 }, ENOENT],
  epoll_create1: [{ call: "epoll_create1", flags: -1 }, EINVAL],
  epoll_ctl: [{ call: "epoll_ctl", epfd: -1, op: 1, fd: -1, events: 1, data: 0n }, EBADF],
  epoll_wait: [{ call: "epoll_wait", epfd: -1, events: bytes(16), maxEvents: 1, timeout: 0 }, EBADF],
  eventfd2: [{ call: "eventfd2", initval: 0, flags: -1 }, EINVAL],
  mount: [{ call: "mount", source: "nodev", target: MISSING, fstype: "tracefs", flags: 0 }, ENOENT],
  statfs: [{ call: "statfs", path: MISSING, buf: bytes(120) }, ENOENT],
  setsockopt: [{ call: "setsockopt", fd: -1, level: 1, optname: 26, optionName: "SO_ATTACH_FILTER", value: bytes(4) }, EBADF],
  socket: [{ call: "socket", domain: -1, type: 0, protocol: 0 }, errnoNumber("EAFNOSUPPORT")],
  bind: [{ call: "bind", fd: -1, addr: bytes(12) }, EBADF],
  sendmsg: [{ call: "sendmsg", fd: -1, name: bytes(0), iov: [], flags: 0, msghdr: bytes(56), iovecs: bytes(0) }, EBADF],
  recvmsg: [{ call: "recvmsg", fd: -1, name: bytes(0), iov: [], flags: 0, msghdr: bytes(56), iovecs: bytes(0) }, EBADF],
  unlink: [{ call: "unlink", path: MISSING }, ENOENT],
  mkdirat: [{ call: "mkdirat", dirfd: AT_FDCWD, path: MISSING, mode: 0o700 }, ENOENT],
  renameat2: [{ call: "renameat2", olddirfd: AT_FDCWD, oldpath: MISSING, newdirfd: AT_FDCWD, newpath: `${MISSING}.2`, flags: 0 }, ENOENT],
} satisfies Record<Exclude<SyscallRequest["call"], "capget">, [SyscallRequest, number]>;

describe("libc: every call reaches the kernel", () => {
  it.each(Object.entries(CALLS))("%s", (name, [req, errno]) => {
    expect(req.call).toBe(name);
    expect(realKernel.invoke(req)).toEqual({ ret: -1, errno });
  });

  it("capget, pthread_sigmask and clock_gettime (no failure to provoke: they succeed)", () => {
    const header = bytes(8);
    new DataView(header.buffer).setUint32(0, 0x20080522, true);
    expect(realKernel.invoke({ call: "capget", header, data: bytes(24) })).toEqual({ ret: 0, errno: 0 });
    expect(withProfilerSignalBlocked(() => 42)).toBe(42);
    expect(clockNs(1)).toBeGreaterThan(0n);
  });
});
