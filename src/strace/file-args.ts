/**
 * The file calls of a load (the host files it reads, eventfd counters, the
 * dup of a link's fd, the CLI's kernel BTF index cache) as strace 6.1 prints them:
 *
 *     openat(AT_FDCWD, "/sys/kernel/btf/vmlinux", O_RDONLY|O_CLOEXEC) = 3
 *     fstat(3, {st_dev=makedev(0, 0x15), st_ino=3741, st_mode=S_IFREG|0444, ...}) = 0
 *     read(3, "365\n", 32) = 4
 *     write(5, "\1\0\0\0\0\0\0\0", 8) = 8
 *     access("/sys/kernel/tracing/events", F_OK) = 0
 *     dup(27) = 31
 *     mkdirat(AT_FDCWD, "/root/.cache/tsbpf", 0755) = 0
 *     renameat2(AT_FDCWD, "/root/.cache/tsbpf/vmlinux.btfidx.123", AT_FDCWD, "/root/.cache/tsbpf/vmlinux.btfidx", 0) = 0
 */
import type {
  AccessRequest,
  DupRequest,
  FstatRequest,
  MkdiratRequest,
  OpenatRequest,
  ReadRequest,
  Renameat2Request,
  SyscallResult,
  WriteRequest,
} from "../syscall/requests.js";
import { decodeStat } from "../syscall/stat.js";
import { type PrintContext, addr, makedev, userPath, userString } from "./bpf-args.js";
import { KnownMemory } from "./memory.js";
import { QUOTE_0_TERMINATED } from "./quote.js";
import { statTimeComment } from "./time.js";
import * as X from "./xlat.js";

type FileCall = DupRequest | OpenatRequest | ReadRequest | WriteRequest | FstatRequest | AccessRequest | MkdiratRequest | Renameat2Request;

const cstr = (s: string) => {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(b.byteLength + 1);
  out.set(b);
  return out;
};

/** A string argument passed from JS (a path, mount's fstype): printed as strace prints the C string. */
export function jsString(ctx: PrintContext, s: string, path: boolean): string {
  const mem = new KnownMemory().add(1n, cstr(s));
  const sub: PrintContext = { ...ctx, memory: mem };
  return path ? userPath(sub, 1n) : userString(sub, 1n, 0xffffffffffffffffn, QUOTE_0_TERMINATED);
}

/** printstrn: `len` bytes of `buf`, at most -s of them. */
function bytes(ctx: PrintContext, buf: Uint8Array, len: number): string {
  const sub: PrintContext = { ...ctx, memory: new KnownMemory().add(1n, buf) };
  return userString(sub, 1n, BigInt(len), 0);
}

/** A buffer the kernel did not fill: its address, as strace prints the pointer. */
export function pointer(ctx: PrintContext, buf: Uint8Array): string {
  const a = ctx.addressOf(buf);
  return a === undefined ? "0x?" : addr(a);
}

/** print_dirfd. */
function dirfd(fd: number): string {
  return fd === X.AT_FDCWD ? "AT_FDCWD" : String(fd | 0);
}

/** tprint_open_modes: the access mode, then the other flags. */
function openFlags(flags: number): string {
  const acc = X.xlookup(X.OPEN_ACCESS_MODES, flags & 3);
  const rest = (flags & ~3) >>> 0;
  if (acc === undefined) return X.printflags(X.OPEN_MODE_FLAGS, flags >>> 0, "O_???");
  if (!rest) return acc;
  return `${acc}|${X.printflags(X.OPEN_MODE_FLAGS, rest, null)}`;
}

/** print_numeric_umode_t: %#03o. */
function octalMode(mode: number): string {
  return `0${(mode >>> 0).toString(8).padStart(2, "0")}`;
}

/** print_symbolic_mode_t: `S_IFREG|0444`, with S_ISUID/S_ISGID/S_ISVTX named. */
function symbolicMode(mode: number): string {
  const type = mode & X.S_IFMT;
  const name = type ? X.xlookup(X.FILE_TYPES, type) : "";
  if (name === undefined) return octalMode(mode);
  return (
    name +
    (name ? "|" : "") +
    (mode & 0o4000 ? "S_ISUID|" : "") +
    (mode & 0o2000 ? "S_ISGID|" : "") +
    (mode & 0o1000 ? "S_ISVTX|" : "") +
    octalMode(mode & 0o777)
  );
}

/** print_struct_stat: every field with -v; the type and size otherwise. */
function stat(ctx: PrintContext, buf: Uint8Array): string {
  const st = decodeStat(buf);
  const fields: string[] = [];
  if (ctx.verbose) {
    fields.push(
      `st_dev=${makedev(st.dev)}`,
      `st_ino=${st.ino}`,
      `st_mode=${symbolicMode(st.mode)}`,
      `st_nlink=${st.nlink}`,
      `st_uid=${st.uid}`,
      `st_gid=${st.gid}`,
      `st_blksize=${st.blksize}`,
      `st_blocks=${st.blocks}`,
    );
  } else fields.push(`st_mode=${symbolicMode(st.mode)}`);
  const type = st.mode & X.S_IFMT;
  if (type === 0o020000 || type === 0o060000) fields.push(`st_rdev=${makedev(st.rdev)}`);
  else fields.push(`st_size=${BigInt.asUintN(64, st.size)}`);
  if (ctx.verbose) {
    for (const [name, sec, nsec] of [
      ["atime", st.atime, st.atimeNsec],
      ["mtime", st.mtime, st.mtimeNsec],
      ["ctime", st.ctime, st.ctimeNsec],
    ] as const) {
      fields.push(`st_${name}=${sec}${statTimeComment(sec, nsec)}`, `st_${name}_nsec=${nsec}`);
    }
  } else fields.push("...");
  return `{${fields.join(", ")}}`;
}

/** The text between the parentheses. */
export function formatFileCallArgs(ctx: PrintContext, req: FileCall, result: SyscallResult): string {
  const failed = BigInt(result.ret) === -1n;
  switch (req.call) {
    case "dup":
      return String(req.fd | 0);
    case "openat": {
      const args = [dirfd(req.dirfd), jsString(ctx, req.path, true), openFlags(req.flags)];
      if (req.flags & (X.O_CREAT | X.O_TMPFILE_BIT)) args.push(octalMode(req.mode));
      return args.join(", ");
    }
    case "read":
      return `${req.fd | 0}, ${failed ? pointer(ctx, req.buf) : bytes(ctx, req.buf, Number(result.ret))}, ${req.buf.byteLength}`;
    case "write":
      return `${req.fd | 0}, ${bytes(ctx, req.buf, req.buf.byteLength)}, ${req.buf.byteLength}`;
    case "fstat":
      return `${req.fd | 0}, ${failed ? pointer(ctx, req.statbuf) : stat(ctx, req.statbuf)}`;
    case "access":
      return `${jsString(ctx, req.path, true)}, ${X.printflags(X.ACCESS_MODES, req.mode, "?_OK")}`;
    case "mkdirat":
      return `${dirfd(req.dirfd)}, ${jsString(ctx, req.path, true)}, ${octalMode(req.mode)}`;
    case "renameat2":
      // tsbpf passes no RENAME_* flag; strace would name them.
      return `${dirfd(req.olddirfd)}, ${jsString(ctx, req.oldpath, true)}, ${dirfd(req.newdirfd)}, ${jsString(ctx, req.newpath, true)}, ${req.flags === 0 ? "0" : X.hex(req.flags)}`;
  }
}
