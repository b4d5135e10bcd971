/**
 * The system calls tsbpf makes, as plain data. Every call is built as one of
 * these requests and handed to the single choke point (`kernel.ts`), so the
 * tracer can print it, the fake kernel can answer it, and fault injection can
 * fail it — without any of them knowing about the code that made it.
 */
import type { AttrOf } from "../abi/bpf-attr.js";
import type { PerfEventAttr } from "../abi/perf-event-attr.js";
import type { BpfCmd } from "../abi/uapi-enums.js";
import type { AttrLayout } from "./bpf-attr.js";

export interface BpfRequest<C extends BpfCmd = BpfCmd> {
  call: "bpf";
  cmd: C;
  layout: AttrLayout;
  /** The field values that were encoded, for printing and for the fake kernel. */
  values: AttrOf<C>;
  /** The encoded `union bpf_attr` (kernel may write results back into it). */
  attr: Uint8Array;
}

/** Whether `req` is a bpf() request of command `cmd` (narrowing its values to that command's attributes). */
export function isBpfCmd<C extends BpfCmd>(req: SyscallRequest, cmd: C): req is BpfRequest<C> {
  return req.call === "bpf" && req.cmd === cmd;
}

export interface PerfEventOpenRequest {
  call: "perf_event_open";
  /** Encoded `struct perf_event_attr`. */
  attr: Uint8Array;
  /** `attr` decoded as it was sent (the kernel writes into `attr`: its own size, on E2BIG). */
  fields: PerfEventAttr;
  pid: number;
  cpu: number;
  groupFd: number;
  flags: number;
}

export interface IoctlRequest {
  call: "ioctl";
  fd: number;
  request: number;
  /** Symbolic name of the request, e.g. PERF_EVENT_IOC_ENABLE. */
  requestName: string;
  arg: number;
}

export interface MmapRequest {
  call: "mmap";
  addr: bigint;
  length: number;
  prot: number;
  flags: number;
  fd: number;
  offset: number;
}

export interface MunmapRequest {
  call: "munmap";
  addr: bigint;
  length: number;
}

export interface CloseRequest {
  call: "close";
  fd: number;
}

/** dup(2): a second fd for an object, so its last close can run off the event loop. */
export interface DupRequest {
  call: "dup";
  fd: number;
}

/** openat(2) of a host file a load reads (kernel BTF, tracefs ids, CPU lists). */
export interface OpenatRequest {
  call: "openat";
  /** AT_FDCWD (-100) for paths relative to the current directory, or absolute ones. */
  dirfd: number;
  path: string;
  flags: number;
  /** Permissions of a created file: used (and printed) only with O_CREAT or O_TMPFILE. */
  mode: number;
}

/** read(2) of up to `buf.byteLength` bytes into `buf`. */
export interface ReadRequest {
  call: "read";
  fd: number;
  buf: Uint8Array;
}

/** write(2) of `buf` (e.g. the 8-byte counter increment of an eventfd). */
export interface WriteRequest {
  call: "write";
  fd: number;
  buf: Uint8Array;
}

/** fstat(2) into `statbuf` (the kernel's `struct stat`, see stat.ts). */
export interface FstatRequest {
  call: "fstat";
  fd: number;
  statbuf: Uint8Array;
}

/** access(2): whether a path exists (F_OK) or is readable, writable, executable. */
export interface AccessRequest {
  call: "access";
  path: string;
  mode: number;
}

export interface EpollCreateRequest {
  call: "epoll_create1";
  flags: number;
}

export interface EpollCtlRequest {
  call: "epoll_ctl";
  epfd: number;
  op: number;
  fd: number;
  events: number;
  data: bigint;
}

export interface EpollWaitRequest {
  call: "epoll_wait";
  epfd: number;
  /** Room for `maxEvents` 12-byte `struct epoll_event`s (packed on x86-64). */
  events: Uint8Array;
  maxEvents: number;
  timeout: number;
}

export interface EventfdRequest {
  call: "eventfd2";
  initval: number;
  flags: number;
}

/** mount(2), used only to mount tracefs when nothing has. */
export interface MountRequest {
  call: "mount";
  source: string;
  target: string;
  fstype: string;
  flags: number;
}

/** statfs(2): which filesystem a path lives on (a pin root must be on bpffs). `buf` receives struct statfs. */
export interface StatfsRequest {
  call: "statfs";
  path: string;
  /** struct statfs (120 bytes on x86-64 and arm64); f_type is its first u64. */
  buf: Uint8Array;
}

/** capget(2): this process's capability sets, before an EPERM is blamed on a missing one. */
export interface CapgetRequest {
  call: "capget";
  /** struct __user_cap_header_struct: u32 version, i32 pid. */
  header: Uint8Array;
  /** Two struct __user_cap_data_struct (u32 effective, permitted, inheritable): capabilities 0-31, 32-63. */
  data: Uint8Array;
}

/** setsockopt(2), for attaching socket filters (SO_ATTACH_BPF). */
export interface SetsockoptRequest {
  call: "setsockopt";
  fd: number;
  level: number;
  optname: number;
  optionName: string;
  value: Uint8Array;
}

/** socket(2): tsbpf opens netlink sockets (tc filters). */
export interface SocketRequest {
  call: "socket";
  domain: number;
  type: number;
  protocol: number;
}

/** bind(2); `addr` is the encoded struct sockaddr. */
export interface BindRequest {
  call: "bind";
  fd: number;
  addr: Uint8Array;
}

/**
 * sendmsg(2) / recvmsg(2) with one struct msghdr: an address (`name`) and
 * the buffers of its iovec array. `msghdr` is the encoded struct (the kernel
 * writes msg_namelen and msg_flags back into it on recvmsg), `iovecs` the
 * encoded iovec array it points to (kept alive with the request).
 */
export interface MsgRequest {
  call: "sendmsg" | "recvmsg";
  fd: number;
  name: Uint8Array;
  iov: Uint8Array[];
  flags: number;
  msghdr: Uint8Array;
  iovecs: Uint8Array;
  /** What the payload is, for the printer (strace learns it from the socket): rtnetlink messages. */
  payload?: "netlink_route";
}

/** unlink(2): removing a pin from the BPF filesystem. */
export interface UnlinkRequest {
  call: "unlink";
  path: string;
}

/** mkdirat(2): a directory of tsbpf's own (its cache). */
export interface MkdiratRequest {
  call: "mkdirat";
  dirfd: number;
  path: string;
  mode: number;
}

/** renameat2(2): a file written under a temporary name put in place at once (flags 0: replace). */
export interface Renameat2Request {
  call: "renameat2";
  olddirfd: number;
  oldpath: string;
  newdirfd: number;
  newpath: string;
  flags: number;
}

export type SyscallRequest =
  | BpfRequest
  | PerfEventOpenRequest
  | IoctlRequest
  | MmapRequest
  | MunmapRequest
  | CloseRequest
  | DupRequest
  | OpenatRequest
  | ReadRequest
  | WriteRequest
  | FstatRequest
  | AccessRequest
  | EpollCreateRequest
  | EpollCtlRequest
  | EpollWaitRequest
  | EventfdRequest
  | MountRequest
  | StatfsRequest
  | CapgetRequest
  | SetsockoptRequest
  | SocketRequest
  | BindRequest
  | MsgRequest
  | UnlinkRequest
  | MkdiratRequest
  | Renameat2Request;

/** What a call returned: `ret` (-1 on failure, or an address for mmap) and errno when it failed. */
export interface SyscallResult {
  ret: number | bigint;
  errno: number;
  /** The call ran on a libuv pool thread, not the thread running JavaScript (strace shows another tid). */
  offThread?: boolean;
}

/** Something that can carry out requests: the real kernel, or a fake one for tests. */
export interface KernelBackend {
  invoke(req: SyscallRequest): SyscallResult;
  /** Blocking calls (epoll_wait, the last close of a link) run off the event loop when asked to. */
  invokeAsync(req: SyscallRequest): Promise<SyscallResult>;
}
