/**
 * Prints a syscall that went through the choke point (kernel.ts) as strace
 * 6.1 prints it, so that `tsbpf --trace` and `strace -f -v` can be diffed:
 *
 *     bpf(BPF_MAP_FREEZE, {map_fd=5}, 4) = 0
 *     perf_event_open({type=PERF_TYPE_TRACEPOINT, size=PERF_ATTR_SIZE_VER7, config=840, ...}, -1, 0, -1, PERF_FLAG_FD_CLOEXEC) = 9
 *     mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x7fe57cf8d000
 *     close(99) = -1 EBADF (Bad file descriptor)
 *
 * By default the output is that of `strace -v` (every field, instructions
 * decoded) with strace's default string limit `-s 32`; `verbose: false`
 * gives plain `strace` (pointers for instructions, `...` in perf_event_attr).
 * strace pads " = " to column 40 when the call is short; `align: true` does
 * the same (counting `column` characters of prefix), off by default.
 *
 * The bpf(2) attributes are printed from the declarative layouts of
 * syscall/bpf-attr.ts (see bpf-args.ts), perf_event_attr by perf-args.ts,
 * the file calls (openat, read, write, fstat, access, dup) by file-args.ts;
 * strace's own tables of names are in xlat.ts, its string quoting in
 * quote.ts.
 */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { type AbiField, valueAt } from "../abi/layout.js";
import { errnoMessage, errnoName } from "../syscall/errno.js";
import { clockNs, addressOf as libcAddressOf } from "../syscall/native.js";
import { type SyscallRequest, type SyscallResult, isBpfCmd } from "../syscall/requests.js";
import { SyscallError } from "../syscall/syscall-error.js";
import { BpfCmd } from "../abi/uapi-enums.js";
import { type PrintContext, addr, formatBpfArgs, userString } from "./bpf-args.js";
import { errnoMessage as straceErrnoMessage, knownErrnoName as straceErrnoName } from "../syscall/errno.js";
import { KnownMemory, type Memory } from "./memory.js";
import { formatCapgetArgs, formatStatfsArgs } from "./fs-cap-args.js";
import { formatPerfEventOpenArgs } from "./perf-args.js";
import { formatFileCallArgs, jsString, pointer } from "./file-args.js";
import { localIso } from "./time.js";
import { formatBindArgs, formatMsgArgs, formatSocketArgs } from "./socket-args.js";
import * as X from "./xlat.js";

export interface StraceFormatOptions {
  /** strace's `-s`: how many bytes of a string to show before `...`. Default 32, as strace. */
  stringLimit?: number;
  /** strace's `-v` (no abbreviation). Default true. */
  verbose?: boolean;
  /** Pad before " = " to column 40 as strace does (or to the column given, strace's -a N). Default false (one space). */
  align?: boolean | number;
  /** Characters already on the line before the call (a prefix), for `align`. */
  column?: number;
  /** Memory beyond the buffers a request carries (e.g. a ProcSelfMemory), for nested pointers. */
  memory?: Memory | undefined;
  /** Path of an fd (readlink /proc/self/fd/N by default). */
  fdPath?: (fd: number) => string | undefined;
  /** Interface name by index (from /sys/class/net by default). */
  ifName?: (index: number) => string | undefined;
  /** Address of a buffer (koffi's, by default). */
  addressOf?: (buf: Uint8Array) => bigint | undefined;
}

/** strace's -s default. */
export const STRACE_DEFAULT_STRING_LIMIT = 32;
/** strace's -a default: the column of " = ". */
export const STRACE_RESULT_COLUMN = 40;

function procFdPath(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

let ifNames: Map<number, string> | undefined;
/** Interface names from /sys/class/net, read again when an index is unknown (interfaces come and go). */
function sysIfName(index: number): string | undefined {
  if (!ifNames?.has(index)) {
    ifNames = new Map();
    try {
      for (const name of readdirSync("/sys/class/net")) {
        try {
          ifNames.set(Number(readFileSync(`/sys/class/net/${name}/ifindex`, "utf8").trim()), name);
        } catch {
          /* interface went away */
        }
      }
    } catch {
      /* no sysfs */
    }
  }
  return ifNames.get(index);
}

function safeAddressOf(buf: Uint8Array): bigint | undefined {
  try {
    return libcAddressOf(buf);
  } catch {
    return undefined;
  }
}

/** CLOCK_REALTIME and CLOCK_BOOTTIME in ns, read back to back. */
function realAndBootNs(): [bigint, bigint] | undefined {
  try {
    const real = clockNs(0 /* CLOCK_REALTIME */);
    const boot = clockNs(7 /* CLOCK_BOOTTIME */);
    return [real, boot];
  } catch {
    return undefined;
  }
}

let bootOffsetNs: bigint | undefined;
/** strace's print_boottime: the local time (to the second) of a CLOCK_BOOTTIME stamp. */
function bootTimeComment(ns: bigint): string | undefined {
  if (bootOffsetNs === undefined) {
    const clocks = realAndBootNs();
    if (clocks) bootOffsetNs = clocks[0] - clocks[1];
    else {
      try {
        const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
        bootOffsetNs = BigInt(Math.round((Date.now() - uptime * 1000) * 1e6));
      } catch {
        return undefined;
      }
    }
  }
  const sec = Number((ns + bootOffsetNs) / 1_000_000_000n);
  if (!sec) return undefined;
  return localIso(sec);
}

/** The buffers a request carries, at the addresses the kernel was given. */
function requestMemory(req: SyscallRequest, ctxAddressOf: (b: Uint8Array) => bigint | undefined, fallback?: Memory): KnownMemory {
  const mem = new KnownMemory(fallback);
  if (req.call === "bpf") {
    const view = new DataView(req.attr.buffer, req.attr.byteOffset, req.attr.byteLength);
    for (const [path, field] of Object.entries(req.layout.struct.fields as Record<string, AbiField>)) {
      const v = valueAt(req.values, path);
      if (field.kind === "pointer" && v instanceof Uint8Array && field.offset + 8 <= req.attr.byteLength) {
        mem.add(view.getBigUint64(field.offset, true), v);
      }
    }
  } else if (req.call === "epoll_wait") {
    const a = ctxAddressOf(req.events);
    if (a !== undefined) mem.add(a, req.events);
  }
  return mem;
}

function context(req: SyscallRequest, opts: StraceFormatOptions): PrintContext {
  const addressOf = opts.addressOf ?? safeAddressOf;
  return {
    maxStrlen: opts.stringLimit ?? STRACE_DEFAULT_STRING_LIMIT,
    verbose: opts.verbose ?? true,
    memory: requestMemory(req, addressOf, opts.memory),
    fdPath: opts.fdPath ?? procFdPath,
    ifName: opts.ifName ?? sysIfName,
    addressOf,
    bootTimeComment,
  };
}

/** struct epoll_event: 12 bytes packed on x86-64, 16 on arm64. */
const EPOLL_EVENT_SIZE = process.arch === "x64" ? 12 : 16;

function epollEvent(events: number, data: bigint): string {
  return `{events=${X.printflags(X.EPOLL_EVENTS, events >>> 0, "EPOLL???")}, data={u32=${Number(data & 0xffffffffn)}, u64=${data}}}`;
}

const MAP_TYPE = 0xf;
const MAP_HUGE_SHIFT = 26;
const MAP_HUGE_MASK = 0x3f;

function mmapFlags(flags: number): string {
  let s = X.printxvals(flags & MAP_TYPE, "MAP_???", X.MMAP_FLAGS);
  let rest = flags & ~MAP_TYPE;
  const mask = MAP_HUGE_MASK << MAP_HUGE_SHIFT;
  const huge = rest & mask;
  rest &= ~mask;
  if (rest) s += "|" + X.printflags(X.MMAP_FLAGS, rest >>> 0, null);
  if (huge) s += `|${huge >>> MAP_HUGE_SHIFT}<<MAP_HUGE_SHIFT`;
  return s;
}

function ioctlCode(code: number): string {
  const known = X.PERF_IOCTLS.get(code >>> 0);
  if (known) return known.name;
  const dir = (code >>> 30) & 3;
  return `_IOC(${X.printflags(X.IOCTL_DIRS, dir, "_IOC_???")}, ${X.hex((code >>> 8) & 0xff)}, ${X.hex(code & 0xff)}, ${X.hex((code >>> 16) & 0x3fff)})`;
}

function ioctlArg(code: number, arg: number): string {
  const known = X.PERF_IOCTLS.get(code >>> 0);
  switch (known?.arg) {
    case "flags":
      return X.printflags(X.PERF_IOCTL_FLAGS, arg, "PERF_IOC_FLAG_???");
    case "int":
    case "fd":
      return String(arg | 0);
    case "u":
      return String(arg);
    case "ptr":
      return addr(BigInt(arg));
    default:
      return X.hex(BigInt.asUintN(64, BigInt(arg)));
  }
}

const MS_MGC_VAL = 0xc0ed0000;
const MS_MGC_MSK = 0xffff0000;
const MS_REMOUNT = 1 << 5;
const MS_BIND_ETC = (1 << 12) | (1 << 13) | (1 << 20) | (1 << 18) | (1 << 19) | (1 << 17);

/** The text between the parentheses. */
function formatArgs(ctx: PrintContext, req: SyscallRequest, result: SyscallResult): string {
  switch (req.call) {
    case "bpf":
      return formatBpfArgs(ctx, req);
    case "perf_event_open":
      return formatPerfEventOpenArgs(ctx, req, result);
    case "ioctl":
      return `${req.fd | 0}, ${ioctlCode(req.request)}, ${ioctlArg(req.request, req.arg)}`;
    case "mmap":
      return [
        addr(req.addr),
        String(req.length),
        X.printflags(X.MMAP_PROT, req.prot, "PROT_???"),
        mmapFlags(req.flags),
        String(req.fd | 0),
        X.hex(BigInt(req.offset)),
      ].join(", ");
    case "munmap":
      return `${addr(req.addr)}, ${req.length}`;
    case "close":
      return String(req.fd | 0);
    case "dup":
    case "openat":
    case "read":
    case "write":
    case "fstat":
    case "access":
      return formatFileCallArgs(ctx, req, result);
    case "epoll_create1":
      return X.printflags(X.EPOLL_FLAGS, req.flags, "EPOLL_???");
    case "epoll_ctl": {
      const op = X.printxval(X.EPOLL_CTLS, req.op, "EPOLL_CTL_???");
      // EPOLL_CTL_DEL: strace prints the event pointer, which the request does not carry.
      const ev = req.op === 2 ? "0x?" : epollEvent(req.events, req.data);
      return `${req.epfd | 0}, ${op}, ${req.fd | 0}, ${ev}`;
    }
    case "epoll_wait": {
      const n = Number(result.ret);
      let events: string;
      if (n < 0) {
        const a = ctx.addressOf(req.events);
        events = a === undefined ? "0x?" : addr(a);
      } else {
        const view = new DataView(req.events.buffer, req.events.byteOffset, req.events.byteLength);
        const items: string[] = [];
        for (let i = 0; i < n; i++) {
          if (!ctx.verbose && i >= ctx.maxStrlen) {
            items.push("...");
            break;
          }
          const off = i * EPOLL_EVENT_SIZE;
          if (off + EPOLL_EVENT_SIZE > req.events.byteLength) break;
          items.push(epollEvent(view.getUint32(off, true), view.getBigUint64(off + EPOLL_EVENT_SIZE - 8, true)));
        }
        events = `[${items.join(", ")}]`;
      }
      return `${req.epfd | 0}, ${events}, ${req.maxEvents | 0}, ${req.timeout | 0}`;
    }
    case "eventfd2":
      return `${req.initval >>> 0}, ${X.printflags(X.EFD_FLAGS, req.flags, "EFD_???")}`;
    case "mount": {
      let flags = req.flags >>> 0;
      let oldMagic = false;
      if ((flags & MS_MGC_MSK) >>> 0 === MS_MGC_VAL) {
        flags = (flags & ~MS_MGC_MSK) >>> 0;
        oldMagic = true;
      }
      const ignoreType = (flags & MS_REMOUNT) !== 0 || (flags & MS_BIND_ETC) !== 0;
      let flagText = "";
      if (oldMagic) flagText = "MS_MGC_VAL" + (flags ? "|" : "");
      if (flags || !oldMagic) flagText += X.printflags(X.MOUNT_FLAGS, flags, "MS_???");
      return [
        jsString(ctx, req.source, true),
        jsString(ctx, req.target, true),
        ignoreType ? "0x?" : jsString(ctx, req.fstype, false),
        flagText,
        "NULL",
      ].join(", ");
    }
    case "statfs":
      return formatStatfsArgs(req, result, jsString(ctx, req.path, true), pointer(ctx, req.buf));
    case "capget":
      return formatCapgetArgs(req, result, pointer(ctx, req.data));
    case "setsockopt": {
      const level = X.printxval(X.SOCKET_LAYERS, req.level, "SOL_??");
      const name =
        req.level === 1
          ? X.printxval(X.SOL_SOCKET_OPTIONS, req.optname, "SO_???")
          : req.level === 270
            ? X.printxval(X.SOL_NETLINK_OPTIONS, req.optname, "NETLINK_???")
            : X.hex(req.optname);
      const len = req.value.byteLength;
      let value: string;
      if (len === 4) value = `[${new DataView(req.value.buffer, req.value.byteOffset, 4).getInt32(0, true)}]`;
      else {
        const a = ctx.addressOf(req.value);
        value = a === undefined ? "0x?" : userString({ ...ctx, memory: new KnownMemory().add(a, req.value) }, a, BigInt(len), 0);
      }
      return `${req.fd | 0}, ${level}, ${name}, ${value}, ${len}`;
    }
    case "socket":
      return formatSocketArgs(req);
    case "bind":
      return formatBindArgs(ctx, req);
    case "sendmsg":
    case "recvmsg":
      return formatMsgArgs(ctx, req, result);
    case "unlink":
      return jsString(ctx, req.path, true);
    case "mkdirat":
    case "renameat2":
      return formatFileCallArgs(ctx, req, result);
    default:
      return "...";
  }
}

function formatResult(req: SyscallRequest, result: SyscallResult): string {
  const ret = BigInt(result.ret);
  if (ret === -1n && result.errno) {
    const known = errnoName(result.errno);
    const name = known === `E${result.errno}` ? straceErrnoName(result.errno) : known;
    if (name === undefined) return `-1 (errno ${result.errno})`;
    const msg = known === `E${result.errno}` ? straceErrnoMessage(result.errno) : errnoMessage(result.errno);
    return `-1 ${name} (${msg})`;
  }
  if (req.call === "mmap") return X.hex(BigInt.asUintN(64, ret));
  return String(ret);
}

/** One call as strace prints it: `name(args) = result`, without a trailing newline. */
export function formatSyscall(req: SyscallRequest, result: SyscallResult, opts: StraceFormatOptions = {}): string {
  const ctx = context(req, opts);
  const call = `${req.call}(${formatArgs(ctx, req, result)}) `;
  const column = opts.align === true ? STRACE_RESULT_COLUMN : opts.align || 0;
  const pad = Math.max(0, column - (opts.column ?? 0) - call.length);
  return `${call}${" ".repeat(pad)}= ${formatResult(req, result)}`;
}

/** Marks the continuation lines of annotate(): a diff against strace can drop lines starting with it. */
export const ANNOTATION_PREFIX = "    # ";

function logLines(buf: unknown, max: number): string[] {
  if (!(buf instanceof Uint8Array)) return [];
  const end = buf.indexOf(0);
  const text = new TextDecoder().decode(end >= 0 ? buf.subarray(0, end) : buf).trimEnd();
  if (!text) return [];
  const lines = text.split("\n");
  const shown = lines.slice(0, max);
  if (lines.length > max) shown.push(`... (${lines.length - max} more lines)`);
  return shown;
}

/**
 * What strace shows only as a pointer, as continuation lines starting with
 * ANNOTATION_PREFIX: instruction and byte counts, the first lines of a
 * verifier or BTF log after a failure, the usual cause of an error.
 */
export function annotateSyscall(req: SyscallRequest, result: SyscallResult, opts: { logLines?: number | undefined } = {}): string[] {
  const out: string[] = [];
  const max = opts.logLines ?? 10;
  const failed = BigInt(result.ret) === -1n;
  if (isBpfCmd(req, BpfCmd.PROG_LOAD)) {
    const v = req.values;
    const name = typeof v.prog_name === "string" ? v.prog_name : "";
    out.push(`program ${name ? `"${name}"` : "(no name)"}: ${Number(v.insn_cnt ?? 0)} instructions`);
    if (failed) for (const l of logLines(v.log_buf, max)) out.push(`verifier: ${l}`);
  } else if (isBpfCmd(req, BpfCmd.BTF_LOAD)) {
    const v = req.values;
    out.push(`btf: ${Number(v.btf_size ?? 0)} bytes`);
    if (failed) for (const l of logLines(v.btf_log_buf, max)) out.push(`btf log: ${l}`);
  }
  if (failed && result.errno) {
    const hint = new SyscallError(req, result.errno).hint;
    if (hint) out.push(`hint: ${hint}`);
  }
  return out.map((l) => ANNOTATION_PREFIX + l);
}
