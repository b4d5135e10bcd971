/**
 * Pinning maps in the BPF filesystem (LIBBPF_PIN_BY_NAME): a map declared
 * with `__uint(pinning, LIBBPF_PIN_BY_NAME)` lives at <root>/<name> and is
 * shared by every object that pins the same name. A pinned map is reused
 * only if it is compatible (same type, sizes, entries and flags), as
 * libbpf's map_is_reuse_compat decides.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TsbpfError } from "../errors.js";
import { bpf, closeFd } from "../syscall/bpf.js";
import { syscall } from "../syscall/kernel.js";
import { type MapInfo, mapInfo } from "../syscall/obj-info.js";
import { BpfCmd } from "../abi/uapi-enums.js";
import { cString } from "../syscall/c-string.js";
import type { MapSpec } from "../spec/map-spec.js";

export const DEFAULT_PIN_ROOT = "/sys/fs/bpf";

/** The filesystem type `path` lives on: that of the longest mount point containing it. */
function filesystemOf(path: string): string | undefined {
  let best: { point: string; type: string } | undefined;
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    const [, point, type] = line.split(" ");
    if (!point || !type) continue;
    const inside = path === point || path.startsWith(point.endsWith("/") ? point : point + "/");
    if (inside && (!best || point.length >= best.point.length)) best = { point, type };
  }
  return best?.type;
}

/** Mounts the BPF filesystem at `root` unless `root` already is on one. */
export function ensureBpffs(root = DEFAULT_PIN_ROOT): void {
  if (filesystemOf(root) === "bpf") return;
  if (!existsSync(root)) throw new TsbpfError(`cannot pin maps: ${root} does not exist`);
  syscall({ call: "mount", source: "bpf", target: root, fstype: "bpf", flags: 0 });
}

export function pinPath(root: string, spec: MapSpec): string {
  return join(root, spec.name);
}

/** An fd for the map pinned at `path`, or undefined if nothing is pinned there. */
export function openPinned(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  return bpf(BpfCmd.OBJ_GET, { pathname: cString(path), bpf_fd: 0, file_flags: 0 }, `opening pinned map ${path}`);
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
  bpf(BpfCmd.OBJ_PIN, { pathname: cString(path), bpf_fd: fd, file_flags: 0 }, `pinning map at ${path}`);
}
