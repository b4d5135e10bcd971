/**
 * Pinning maps in the BPF filesystem (LIBBPF_PIN_BY_NAME): a map declared
 * with `__uint(pinning, LIBBPF_PIN_BY_NAME)` lives at <root>/<name> and is
 * shared by every object that pins the same name. A pinned map is reused
 * only if it is compatible (same type, sizes, entries and flags), as
 * libbpf's map_is_reuse_compat decides.
 */
import { join, resolve } from "node:path";
import { TsbpfError } from "../errors.js";
import { closeFd, tryBpf } from "../syscall/bpf.js";
import { EEXIST, ENOENT } from "../syscall/errno.js";
import { syscall } from "../syscall/kernel.js";
import { bpfFdKind, describeFdKind } from "../syscall/fd-kind.js";
import { type MapInfo, mapInfo } from "../syscall/obj-info.js";
import { BPF_FS_MAGIC, filesystemMagic } from "../syscall/statfs.js";
import { SyscallError } from "../syscall/syscall-error.js";
import { BpfCmd } from "../abi/uapi-enums.js";
import { cString } from "../syscall/c-string.js";
import { pinObject } from "../syscall/pin.js";
import type { MapSpec } from "../spec/map-spec.js";

export const DEFAULT_PIN_ROOT = "/sys/fs/bpf";

/** f_type of sysfs: /sys/fs/bpf with nothing mounted on it is a plain sysfs directory. */
const SYSFS_MAGIC = 0x62656572;

/**
 * Makes sure maps can be pinned under `root`. Only /sys/fs/bpf itself is
 * ever mounted, and only when nothing is mounted there (as `mount -t bpf`
 * at boot would have): mounting over any other directory would hide what
 * it holds, and stay mounted after exit. Any other root must already be on
 * a BPF filesystem, as libbpf requires ("… is not on a BPF filesystem").
 */
export function ensureBpffs(root = DEFAULT_PIN_ROOT): void {
  let magic: number;
  try {
    magic = filesystemMagic(root);
  } catch (e) {
    if (e instanceof SyscallError && e.code === "ENOENT") throw new TsbpfError(`cannot pin maps under ${root}: it does not exist`);
    throw e;
  }
  if (magic === BPF_FS_MAGIC) return;
  if (resolve(root) === DEFAULT_PIN_ROOT && magic === SYSFS_MAGIC) {
    syscall({ call: "mount", source: "bpf", target: DEFAULT_PIN_ROOT, fstype: "bpf", flags: 0 });
    return;
  }
  throw new TsbpfError(
    `cannot pin maps under ${root}: it is not on a BPF filesystem (f_type 0x${magic.toString(16)}, not BPF_FS_MAGIC 0xcafe4a11); ` +
      `use a directory under ${DEFAULT_PIN_ROOT}, or mount one there first (mount -t bpf bpf ${root})`,
  );
}

export function pinPath(root: string, spec: MapSpec): string {
  return join(root, spec.name);
}

/** An fd for the map pinned at `path`, or undefined if nothing is pinned there (OBJ_GET's ENOENT). */
export function openPinned(path: string): number | undefined {
  const r = tryBpf(BpfCmd.OBJ_GET, { pathname: cString(path), bpf_fd: 0, file_flags: 0 });
  if (r.ret === -1) {
    if (r.errno === ENOENT) return undefined;
    throw new SyscallError(r.req, r.errno, `opening pinned map ${path}`);
  }
  const fd = Number(r.ret);
  // OBJ_GET opens whatever is pinned there; a program's info read as a map's would be nonsense.
  const kind = bpfFdKind(fd);
  if (kind !== "map") {
    closeFd(fd);
    throw new TsbpfError(`${path} holds ${describeFdKind(kind)}, not a map; unpin it (rm ${path}) or choose another pin root`);
  }
  return fd;
}

/** How an existing map differs from `spec` in what makes it usable in its place (empty: compatible). */
export function mapIncompatibilities(info: MapInfo, spec: MapSpec): string[] {
  const diffs: string[] = [];
  if (info.type !== spec.type) diffs.push(`type ${info.type} ≠ ${spec.type}`);
  if (info.keySize !== spec.keySize) diffs.push(`key_size ${info.keySize} ≠ ${spec.keySize}`);
  if (info.valueSize !== spec.valueSize) diffs.push(`value_size ${info.valueSize} ≠ ${spec.valueSize}`);
  if (info.maxEntries !== spec.maxEntries) diffs.push(`max_entries ${info.maxEntries} ≠ ${spec.maxEntries}`);
  if (info.flags !== spec.flags) diffs.push(`map_flags 0x${info.flags.toString(16)} ≠ 0x${spec.flags.toString(16)}`);
  return diffs;
}

/** Throws unless the pinned map behind `fd` can stand in for `spec`. */
export function checkPinnedCompatible(fd: number, spec: MapSpec, path: string): void {
  const diffs = mapIncompatibilities(mapInfo(fd), spec);
  if (diffs.length) {
    closeFd(fd);
    throw new TsbpfError(
      `the map pinned at ${path} is not compatible with map ${spec.name}: ${diffs.join(", ")}; unpin it (rm ${path}) to recreate it`,
    );
  }
}

export function pinMap(fd: number, path: string): void {
  pinObject(fd, path, "map");
}

/**
 * Pins a map at `path`, unless something is pinned there already (EEXIST):
 * between finding the path free and pinning, a concurrent load of the same
 * object may have pinned its own map there. Returns false then, so the
 * caller reuses that map instead (as it would have, had it been first).
 */
export function pinMapUnlessTaken(fd: number, path: string): boolean {
  const r = tryBpf(BpfCmd.OBJ_PIN, { pathname: cString(path), bpf_fd: fd, file_flags: 0 });
  if (r.ret !== -1) return true;
  if (r.errno === EEXIST) return false;
  throw new SyscallError(r.req, r.errno, `pinning map at ${path}`);
}
