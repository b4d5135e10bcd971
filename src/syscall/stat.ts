/**
 * The kernel's `struct stat` as fstat(2) fills it. x86-64 has its own
 * layout (arch/x86/include/uapi/asm/stat.h); arm64 uses the generic one
 * (include/uapi/asm-generic/stat.h).
 */

export interface FileStat {
  dev: bigint;
  ino: bigint;
  mode: number;
  nlink: bigint;
  uid: number;
  gid: number;
  rdev: bigint;
  size: bigint;
  blksize: bigint;
  blocks: bigint;
  atime: bigint;
  atimeNsec: bigint;
  mtime: bigint;
  mtimeNsec: bigint;
  ctime: bigint;
  ctimeNsec: bigint;
}

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;

const X64 = process.arch === "x64";

/** sizeof(struct stat). */
export const STAT_SIZE = X64 ? 144 : 128;

export function decodeStat(buf: Uint8Array): FileStat {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u64 = (o: number) => v.getBigUint64(o, true);
  const i64 = (o: number) => v.getBigInt64(o, true);
  const times = {
    atime: i64(72),
    atimeNsec: u64(80),
    mtime: i64(88),
    mtimeNsec: u64(96),
    ctime: i64(104),
    ctimeNsec: u64(112),
  };
  if (X64) {
    return {
      dev: u64(0),
      ino: u64(8),
      nlink: u64(16),
      mode: v.getUint32(24, true),
      uid: v.getUint32(28, true),
      gid: v.getUint32(32, true),
      rdev: u64(40),
      size: i64(48),
      blksize: i64(56),
      blocks: i64(64),
      ...times,
    };
  }
  return {
    dev: u64(0),
    ino: u64(8),
    mode: v.getUint32(16, true),
    nlink: BigInt(v.getUint32(20, true)),
    uid: v.getUint32(24, true),
    gid: v.getUint32(28, true),
    rdev: u64(32),
    size: i64(48),
    blksize: BigInt(v.getInt32(56, true)),
    blocks: i64(64),
    ...times,
  };
}
