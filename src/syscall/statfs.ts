/**
 * statfs(2): the magic number of the filesystem a path lives on. Pinning
 * needs to know whether a directory is on the BPF filesystem before it puts
 * anything there, as libbpf's check_path() does.
 */
import { trySyscall } from "./kernel.js";
import { SyscallError } from "./syscall-error.js";

/** f_type of the BPF filesystem (include/uapi/linux/magic.h). */
export const BPF_FS_MAGIC = 0xcafe4a11;
/** sizeof(struct statfs) on x86-64 and arm64 (every field a 64-bit word but f_fsid). */
const STATFS_SIZE = 120;

/** The f_type of the filesystem holding `path`; throws SyscallError (ENOENT, ...) when it cannot be read. */
export function filesystemMagic(path: string, context?: string): number {
  const req = { call: "statfs" as const, path, buf: new Uint8Array(STATFS_SIZE) };
  const r = trySyscall(req);
  if (r.ret === -1) throw new SyscallError(req, r.errno, context);
  // f_type is a long; every magic number fits 32 bits.
  return new DataView(req.buf.buffer).getUint32(0, true);
}
