/**
 * The index of the running kernel's BTF (where each of its ~127k type records
 * starts, and its name_off), kept on disk between processes.
 *
 * Walking vmlinux's records is the largest fixed cost of a first CO-RE load
 * (~10 ms, most of it before V8 has optimised the loop); an mmap of the
 * kept index costs ~1 ms. vmlinux BTF cannot change without a reboot, so the
 * index is keyed on the boot id (/proc/sys/kernel/random/boot_id) and the
 * BTF's size and section lengths, and Btf.parse still checks a sample of it
 * against the records (btf/scan.ts) before using it.
 *
 * Off unless asked for (a library does not write to its user's home
 * unasked): the tsbpf CLI turns it on, in $XDG_CACHE_HOME/tsbpf or
 * ~/.cache/tsbpf. It is written only where the nearest existing directory
 * belongs to the process's user (not by root into a sudo caller's home),
 * and read only from there, and only a regular file of that user's that
 * others cannot write. Every call goes through the syscall choke point (so
 * --trace shows it); any failure only means no index is kept.
 *
 * Beside it, the table of the types' essential names that CO-RE candidate
 * searches use instead of scanning vmlinux's strings (core/essential-name-
 * table.ts), checked on a sample too.
 *
 * File layout, little-endian u32s: magic "TBIX", version, BTF size, type_len,
 * str_len, type count, boot id (16 bytes), the table's bucket count and entry
 * count, zeros to 64 bytes; then the offsets and the name_offs, one u32 per
 * type each; then the table's bucket starts (buckets + 1) and entries.
 */
import { constants } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { BtfTypeIndex } from "../btf/btf.js";
import type { EssentialNameTable } from "../core/essential-name-table.js";
import { EEXIST, ENOENT } from "../syscall/errno.js";
import { AT_FDCWD, O_CLOEXEC, O_NONBLOCK, fstatFd, pathStat, readHostValue } from "../syscall/host-files.js";
import { trySyscall } from "../syscall/kernel.js";
import { MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../syscall/mman.js";
import { memoryView } from "../syscall/native.js";
import { type FileStat, S_IFDIR, S_IFMT, S_IFREG } from "../syscall/stat.js";

const MAGIC = 0x58494254; // "TBIX"
const VERSION = 2;
const HEADER_SIZE = 64;
const FILE_NAME = "vmlinux.btfidx";

/** What an index is for: the BTF it was made from, on this boot. */
export interface IndexKey {
  btfSize: number;
  typeLen: number;
  strLen: number;
  bootId: Uint8Array;
}

let cacheDir: string | undefined;

/**
 * Keeps the running kernel's BTF index in `dir` (created when missing) from
 * now on in this process, or stops with undefined. `dir` must be absolute.
 */
export function cacheKernelBtfIndex(dir: string | undefined): void {
  if (dir !== undefined && !isAbsolute(dir))
    throw new TypeError(`the kernel BTF index cache needs an absolute directory, not ${JSON.stringify(dir)}`);
  cacheDir = dir;
}

/** The directory set by cacheKernelBtfIndex, if any. */
export function kernelBtfIndexCacheDir(): string | undefined {
  return cacheDir;
}

/** Where a user's caches go: $XDG_CACHE_HOME/tsbpf, else $HOME/.cache/tsbpf (undefined without either). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, "tsbpf");
  const home = env.HOME;
  return home && isAbsolute(home) ? join(home, ".cache", "tsbpf") : undefined;
}

/** The 16 bytes of this boot's id, or undefined where the kernel does not say. */
function bootId(): Uint8Array | undefined {
  let text: string;
  try {
    text = readHostValue("/proc/sys/kernel/random/boot_id", 64);
  } catch {
    return undefined;
  }
  const hex = text.trim().replaceAll("-", "");
  return /^[0-9a-f]{32}$/.test(hex) ? Uint8Array.from(Buffer.from(hex, "hex")) : undefined;
}

/** The key for vmlinux BTF `bytes` on this boot (undefined: no boot id, no index). */
export function indexKey(bytes: Uint8Array): IndexKey | undefined {
  const id = bootId();
  if (!id || bytes.byteLength < 24) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 24);
  return { btfSize: bytes.byteLength, typeLen: dv.getUint32(12, true), strLen: dv.getUint32(20, true), bootId: id };
}

/** The header's first 40 bytes: what the file is for (the table's counts follow). */
const KEY_SIZE = 40;

function headerFor(key: IndexKey, count: number, buckets: number, entries: number): Uint8Array {
  const header = new Uint8Array(HEADER_SIZE);
  new Uint32Array(header.buffer, 0, 6).set([MAGIC, VERSION, key.btfSize, key.typeLen, key.strLen, count]);
  header.set(key.bootId, 24);
  new Uint32Array(header.buffer, KEY_SIZE, 2).set([buckets, entries]);
  return header;
}

/** A kept index as mapped: unmap() when the BTF did not take it. */
export interface KeptIndex extends BtfTypeIndex {
  /** The essential-name table kept with it (still to be checked against the BTF: essentialNameTableFits). */
  names: EssentialNameTable;
  unmap(): void;
}

/** The index kept in `dir` for `key`, mapped copy-on-write; undefined when there is none for it. */
export function readIndex(dir: string, key: IndexKey): KeptIndex | undefined {
  // Only from a directory of this user's: root with a sudo caller's HOME reads no file that user made.
  const dirStat = pathStatOrUndefined(dir);
  if (!dirStat || (dirStat.mode & S_IFMT) !== S_IFDIR || dirStat.uid !== process.geteuid?.()) return undefined;
  const path = join(dir, FILE_NAME);
  // O_NONBLOCK: a FIFO put in its place must not hang the load.
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  const fd = Number(trySyscall({ call: "openat", dirfd: AT_FDCWD, path, flags, mode: 0 }).ret);
  if (fd < 0) return undefined;
  try {
    const st = fstatFd(fd);
    if (!writtenByUs(st)) return undefined;
    const size = Number(st.size);
    if (size < HEADER_SIZE + 8 || size % 4 !== 0) return undefined;
    // Private and writable: Btf.invalidate() may write its name_offs, which must never reach the file.
    const r = trySyscall({ call: "mmap", addr: 0n, length: size, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE, fd, offset: 0 });
    if (r.ret === -1) return undefined;
    const addr = BigInt(r.ret);
    const unmap = () => void trySyscall({ call: "munmap", addr, length: size });
    try {
      return keptAt(new Uint8Array(memoryView(addr, size)), key, unmap);
    } catch {
      unmap();
      return undefined;
    }
  } catch {
    return undefined; // fstat refused...: no index, as for any failure here
  } finally {
    trySyscall({ call: "close", fd });
  }
}

/** The index in `mapped` (the whole file), or undefined (and unmapped) when it is not one for `key`. */
function keptAt(mapped: Uint8Array, key: IndexKey, unmap: () => void): KeptIndex | undefined {
  const size = mapped.byteLength;
  const words = new Uint32Array(mapped.buffer, mapped.byteOffset, size >>> 2);
  const [count = 0, buckets = 0, entries = 0] = [words[5], words[KEY_SIZE / 4], words[KEY_SIZE / 4 + 1]];
  // The counts are the file's own: they must account for its size before anything is sized by them.
  const fits =
    size === HEADER_SIZE + 4 * (2 * count + buckets + 1 + entries) &&
    headerFor(key, count, buckets, entries).every((b, i) => b === mapped[i]);
  if (!fits) {
    unmap();
    return undefined;
  }
  const u32s = (at: number, length: number) => new Uint32Array(mapped.buffer, mapped.byteOffset + at, length);
  const tableAt = HEADER_SIZE + 8 * count;
  // Once a Btf takes it, never unmapped: that Btf is kept for the life of the process.
  return {
    offsets: u32s(HEADER_SIZE, count),
    nameOffs: u32s(HEADER_SIZE + 4 * count, count),
    names: { bucketStarts: u32s(tableAt, buckets + 1), entries: u32s(tableAt + 4 * (buckets + 1), entries) },
    unmap,
  };
}

/**
 * Whether the nearest existing directory of `dir` (itself or an ancestor) is
 * this process's user's: root run through sudo with the caller's HOME must
 * not leave root-owned files in that home, where the user could no longer
 * replace them.
 */
function ownedByUs(dir: string): boolean {
  const euid = process.geteuid?.();
  for (let d = dir; ; d = dirname(d)) {
    const st = pathStatOrUndefined(d);
    if (st) return st.uid === euid;
    if (st === null || dirname(d) === d) return false;
  }
}

/** What fstat says of `path`; undefined if it does not exist, null if it cannot be asked (ENOTDIR, EACCES...). */
function pathStatOrUndefined(path: string): FileStat | undefined | null {
  try {
    return pathStat(path);
  } catch {
    return null;
  }
}

/** Whether `st` is a regular file of this process's user that no one else may write (as writeIndex leaves it). */
function writtenByUs(st: FileStat): boolean {
  return (st.mode & S_IFMT) === S_IFREG && st.uid === process.geteuid?.() && (st.mode & 0o022) === 0;
}

/** mkdir -p, through the choke point; whether `dir` exists afterwards. */
function makeDirs(dir: string): boolean {
  const mkdir = () => trySyscall({ call: "mkdirat", dirfd: AT_FDCWD, path: dir, mode: 0o755 });
  let r = mkdir();
  if (r.ret === -1 && r.errno === ENOENT && dirname(dir) !== dir && makeDirs(dirname(dir))) r = mkdir();
  return r.ret === 0 || r.errno === EEXIST;
}

/**
 * Keeps `index` and its essential-name table in `dir` for `key`: written under a name of this process's
 * own, then renamed over the old one, so that a reader never sees half a file
 * and concurrent writers do not mix. Best effort. `buildNames` is called only
 * where the directory is there and the user's; returns what it built, kept or not.
 */
export function writeIndex(
  dir: string,
  key: IndexKey,
  index: BtfTypeIndex,
  buildNames: () => EssentialNameTable | undefined,
): EssentialNameTable | undefined {
  if (!ownedByUs(dir) || !makeDirs(dir)) return undefined;
  // Built only once it can be kept (~35 ms for vmlinux: more than a process's lookups would save).
  const names = buildNames();
  if (!names) return undefined;
  const path = join(dir, FILE_NAME);
  // Random too: a file left by a writer that was killed must not block a later process with its pid.
  const temporary = `${path}.${process.pid}.${Math.random().toString(16).slice(2, 10)}`;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | O_CLOEXEC;
  const fd = Number(trySyscall({ call: "openat", dirfd: AT_FDCWD, path: temporary, flags, mode: 0o644 }).ret);
  if (fd < 0) return names;
  let written = false;
  try {
    const header = headerFor(key, index.offsets.length, names.bucketStarts.length - 1, names.entries.length);
    const parts = [header, index.offsets, index.nameOffs, names.bucketStarts, names.entries].map(
      (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
    );
    written = parts.every((part) => writeWhole(fd, part));
  } finally {
    trySyscall({ call: "close", fd });
  }
  if (
    !written ||
    trySyscall({ call: "renameat2", olddirfd: AT_FDCWD, oldpath: temporary, newdirfd: AT_FDCWD, newpath: path, flags: 0 }).ret !== 0
  )
    trySyscall({ call: "unlink", path: temporary });
  // Built for this BTF either way: usable in this process even if it could not be kept.
  return names;
}

function writeWhole(fd: number, bytes: Uint8Array): boolean {
  let rest = bytes;
  while (rest.byteLength > 0) {
    const n = Number(trySyscall({ call: "write", fd, buf: rest }).ret);
    if (n <= 0) return false;
    rest = rest.subarray(n);
  }
  return true;
}
