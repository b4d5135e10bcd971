/**
 * statfs(2) and capget(2) as strace 6.1 prints them:
 *
 *     statfs("/sys/fs/bpf", {f_type=BPF_FS_MAGIC, f_bsize=4096, ..., f_flags=ST_VALID|ST_RELATIME}) = 0
 *     capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_CHOWN|..., permitted=..., inheritable=0}) = 0
 */
import type { CapgetRequest, StatfsRequest, SyscallResult } from "../syscall/requests.js";
import { type Xlat, hex, printflags, printxval } from "./xlat.js";

/** strace's fsmagic.in, the filesystems a pin root or tracefs is likely to be on. */
const FS_MAGIC: Xlat = [
  [0x1cd1n, "DEVPTS_SUPER_MAGIC"],
  [0x6969n, "NFS_SUPER_MAGIC"],
  [0x9fa0n, "PROC_SUPER_MAGIC"],
  [0xef53n, "EXT2_SUPER_MAGIC"],
  [0x01021994n, "TMPFS_MAGIC"],
  [0x01021997n, "V9FS_MAGIC"],
  [0x58465342n, "XFS_SB_MAGIC"],
  [0x62656572n, "SYSFS_MAGIC"],
  [0x63677270n, "CGROUP2_SUPER_MAGIC"],
  [0x64626720n, "DEBUGFS_MAGIC"],
  [0x65735546n, "FUSE_SUPER_MAGIC"],
  [0x74726163n, "TRACEFS_MAGIC"],
  [0x794c7630n, "OVERLAYFS_SUPER_MAGIC"],
  [0x858458f6n, "RAMFS_MAGIC"],
  [0x9123683en, "BTRFS_SUPER_MAGIC"],
  [0xcafe4a11n, "BPF_FS_MAGIC"],
];

/** strace's statfs_flags.in, in its order. */
const STATFS_FLAGS: Xlat = [
  [0x20n, "ST_VALID"],
  [0x1n, "ST_RDONLY"],
  [0x2n, "ST_NOSUID"],
  [0x4n, "ST_NODEV"],
  [0x8n, "ST_NOEXEC"],
  [0x10n, "ST_SYNCHRONOUS"],
  [0x40n, "ST_MANDLOCK"],
  [0x80n, "ST_WRITE"],
  [0x100n, "ST_APPEND"],
  [0x200n, "ST_IMMUTABLE"],
  [0x400n, "ST_NOATIME"],
  [0x800n, "ST_NODIRATIME"],
  [0x1000n, "ST_RELATIME"],
  [0x2000n, "ST_NOSYMFOLLOW"],
];

/** `path` is the path argument already quoted; `pointer` prints the buffer's address (shown on failure). */
export function formatStatfsArgs(req: StatfsRequest, result: SyscallResult, path: string, pointer: string): string {
  if (Number(result.ret) !== 0) return `${path}, ${pointer}`;
  const v = new DataView(req.buf.buffer, req.buf.byteOffset, req.buf.byteLength);
  const u64 = (i: number) => v.getBigUint64(i * 8, true).toString();
  const fields = [
    `f_type=${printxval(FS_MAGIC, v.getBigUint64(0, true), "???")}`,
    `f_bsize=${u64(1)}`,
    `f_blocks=${u64(2)}`,
    `f_bfree=${u64(3)}`,
    `f_bavail=${u64(4)}`,
    `f_files=${u64(5)}`,
    `f_ffree=${u64(6)}`,
    `f_fsid={val=[${hex(v.getUint32(56, true))}, ${hex(v.getUint32(60, true))}]}`,
    `f_namelen=${u64(8)}`,
    `f_frsize=${u64(9)}`,
    `f_flags=${printflags(STATFS_FLAGS, v.getBigUint64(80, true), "ST_???")}`,
  ];
  return `${path}, {${fields.join(", ")}}`;
}

/** linux/capability.h, CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40). */
const CAP_NAMES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
];
// Made when first printed: 41 BigInts and strings are not worth every process's start.
let capBits: Xlat | undefined;
const CAP_VERSIONS: Xlat = [
  [0x19980330n, "_LINUX_CAPABILITY_VERSION_1"],
  [0x20071026n, "_LINUX_CAPABILITY_VERSION_2"],
  [0x20080522n, "_LINUX_CAPABILITY_VERSION_3"],
];

export function formatCapgetArgs(req: CapgetRequest, result: SyscallResult, pointer: string): string {
  const h = new DataView(req.header.buffer, req.header.byteOffset, req.header.byteLength);
  const header = `{version=${printxval(CAP_VERSIONS, h.getUint32(0, true), "_LINUX_CAPABILITY_VERSION_???")}, pid=${h.getInt32(4, true)}}`;
  if (Number(result.ret) !== 0) return `${header}, ${pointer}`;
  const d = new DataView(req.data.buffer, req.data.byteOffset, req.data.byteLength);
  const set = (i: number) =>
    printflags(
      (capBits ??= CAP_NAMES.map((n, i) => [1n << BigInt(i), `1<<CAP_${n}`] as const)),
      (BigInt(d.getUint32(12 + i * 4, true)) << 32n) | BigInt(d.getUint32(i * 4, true)),
      null,
    ) || "0";
  return `${header}, {effective=${set(0)}, permitted=${set(1)}, inheritable=${set(2)}}`;
}
