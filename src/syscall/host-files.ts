/**
 * The host files a load reads — kernel BTF, tracefs event ids, CPU lists,
 * the kernel version, PMU types, mount tables, kallsyms — opened, read and closed
 * through the choke point, so `--trace` shows every openat/read/close the
 * way strace does and the fake kernel can fail them.
 */
import { ENOENT } from "./errno.js";
import { syscall, trySyscall } from "./kernel.js";
import type { OpenatRequest } from "./requests.js";
import { decodeStat, type FileStat, STAT_SIZE } from "./stat.js";
import { SyscallError } from "./syscall-error.js";

export const AT_FDCWD = -100;
export const O_RDONLY = 0;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
/** An fd that only names the file (for fstat): opening it neither reads nor blocks (a FIFO would). */
export const O_PATH = 0o10000000;
export const F_OK = 0;
export const X_OK = 1;
export const W_OK = 2;
export const R_OK = 4;

/** Node opens every file close-on-exec, and so does tsbpf: a spawned child inherits none of them. */
const READ_FLAGS = O_RDONLY | O_CLOEXEC;

const utf8 = new TextDecoder();

export function openatRequest(path: string, flags = READ_FLAGS): OpenatRequest {
  return { call: "openat", dirfd: AT_FDCWD, path, flags, mode: 0 };
}

/** openat(AT_FDCWD, path, flags); throws SyscallError (its `code` is "ENOENT" for a missing file). */
export function openFile(path: string, flags = READ_FLAGS): number {
  return syscall(openatRequest(path, flags));
}

/** access(path, mode): false for any failure, as existsSync. */
export function pathAccessible(path: string, mode = F_OK): boolean {
  return trySyscall({ call: "access", path, mode }).ret === 0;
}

export function fstatFd(fd: number): FileStat {
  const statbuf = new Uint8Array(STAT_SIZE);
  syscall({ call: "fstat", fd, statbuf });
  return decodeStat(statbuf);
}

/** What fstat says of `path` (through an O_PATH fd), or undefined if it does not exist. */
export function pathStat(path: string): FileStat | undefined {
  try {
    return withOpenFile(path, fstatFd, O_PATH | O_CLOEXEC);
  } catch (e) {
    if (isMissingFile(e)) return undefined;
    throw e;
  }
}

/** One read(2) into `buf`; the byte count (0 at the end of the file). */
export function readFd(fd: number, buf: Uint8Array): number {
  return syscall({ call: "read", fd, buf });
}

/**
 * Everything left in `fd`. With `size` (from fstat) the buffer is that big
 * and reading stops when it is full; without, it grows until read(2) says
 * the end.
 */
export function readAll(fd: number, opts: { size?: number; initial?: number } = {}): Uint8Array {
  let buf = new Uint8Array(opts.size || opts.initial || 4096);
  let used = 0;
  for (;;) {
    if (used === buf.byteLength) {
      if (opts.size) break;
      const bigger = new Uint8Array(buf.byteLength * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const n = readFd(fd, buf.subarray(used));
    if (n === 0) break;
    used += n;
  }
  return used === buf.byteLength ? buf : buf.subarray(0, used);
}

/** close(2), errors ignored (the fd is released either way). */
function closeQuietly(fd: number): void {
  trySyscall({ call: "close", fd });
}

/** Runs `fn` on an open `fd`, closing it afterwards. */
function withFd<T>(fd: number, fn: (fd: number) => T): T {
  try {
    return fn(fd);
  } finally {
    closeQuietly(fd);
  }
}

/** Runs `fn` on `path` opened for reading, closing it afterwards. */
export function withOpenFile<T>(path: string, fn: (fd: number) => T, flags = READ_FLAGS): T {
  return withFd(openFile(path, flags), fn);
}

/** A regular file's bytes: openat, fstat (for the size), read, close. */
export function readHostFile(path: string): Uint8Array {
  return withOpenFile(path, (fd) => readAll(fd, { size: Number(fstatFd(fd).size) }));
}

/**
 * A kernel-made file (procfs, sysfs), which reports a size of 0 or 4096
 * whatever it holds: openat, read until read(2) returns 0, close.
 */
export function readHostBytes(path: string, initial = 4096): Uint8Array {
  return withOpenFile(path, (fd) => readAll(fd, { initial }));
}

/** readHostBytes as UTF-8 text (/proc/mounts, /proc/kallsyms). */
export function readHostText(path: string, initial = 4096): string {
  return utf8.decode(readHostBytes(path, initial));
}

/**
 * A one-value kernel attribute (a tracefs event id, a CPU list, a PMU's
 * type): openat, one read of up to `max` bytes, close. The kernel formats
 * such a value whole on the first read, so no second read is needed to
 * see the end; attaching reads one per tracepoint, so the call saved counts.
 */
export function readHostValue(path: string, max = 4096): string {
  return withOpenFile(path, (fd) => readValue(fd, max));
}

/** One read(2) of up to `max` bytes, as text. */
function readValue(fd: number, max: number): string {
  const buf = new Uint8Array(max);
  return utf8.decode(buf.subarray(0, readFd(fd, buf)));
}

/**
 * readHostValue, or undefined when `path` cannot be opened: for a file whose
 * absence is an answer (/proc/version_signature outside Ubuntu), with no
 * error object built, its stack captured and its message formatted first.
 */
export function readHostValueIfOpenable(path: string, max = 4096): string | undefined {
  const opened = trySyscall(openatRequest(path));
  return opened.ret === -1 ? undefined : withFd(Number(opened.ret), (fd) => readValue(fd, max));
}

/** Whether `e` is the failure of a call on a file that does not exist. */
export function isMissingFile(e: unknown): boolean {
  return e instanceof SyscallError && e.errno === ENOENT;
}
