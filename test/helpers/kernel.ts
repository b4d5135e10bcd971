/** Helpers for real-kernel tests: what exists in the kernel and in this process. */
import { execFileSync } from "node:child_process";
import { type Dirent, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { BpfCmd } from "../../src/abi/uapi-enums.js";
import { cString } from "../../src/syscall/c-string.js";
import { observeSyscalls } from "../../src/syscall/kernel.js";
import { listObjectIds } from "../../src/syscall/object-ids.js";
import { fdById, mapInfo, progInfo } from "../../src/syscall/obj-info.js";
import { linkProgId } from "../../src/syscall/link-info.js";
import { closeFd, tryBpf } from "../../src/syscall/bpf.js";

export const PIN_ROOT = "/sys/fs/bpf";

export function openFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

export type ObjectKind = "prog" | "map" | "link" | "btf";
export const KINDS: readonly ObjectKind[] = ["prog", "map", "link", "btf"];
export type Ids = Record<ObjectKind, Set<number>>;
export const emptyIds = (): Ids => ({ prog: new Set(), map: new Set(), link: new Set(), btf: new Set() });

/** Ids of every prog, map, link and BTF object in the kernel right now, whoever made them. */
export function kernelIds(): Ids {
  const out = emptyIds();
  for (const k of KINDS) for (const id of listObjectIds(k)) out[k].add(id);
  return out;
}

/** The kind and id of the BPF object behind fd `fd` of process `pid` (from /proc), if it is one. */
export function fdObject(pid: number | string, fd: number | string): { kind: ObjectKind; id: number } | undefined {
  try {
    const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    const kind: ObjectKind | undefined = target.includes("bpf_link")
      ? "link"
      : target.includes("bpf-prog")
        ? "prog"
        : target.includes("bpf-map")
          ? "map"
          : target === "anon_inode:btf"
            ? "btf"
            : undefined;
    if (!kind) return undefined;
    // A link's fdinfo also names its program: only the fd's own kind counts.
    const m = new RegExp(`^${kind}_id:\\s+(\\d+)$`, "m").exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"));
    return m ? { kind, id: Number(m[1]) } : undefined;
  } catch {
    return undefined; // the fd or the process went away while we looked
  }
}

/** Program, map, link and BTF ids behind the BPF fds of process `pid`, added to `into`. */
export function idsHeldBy(pid: number | string, into: Ids = emptyIds()): Ids {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return into;
  }
  for (const fd of fds) {
    const o = fdObject(pid, fd);
    if (o) into[o.kind].add(o.id);
  }
  return into;
}

/** Every file under a bpffs directory (pins), recursively; missing or vanishing entries are skipped. */
function pinsUnder(dir: string, out: string[] = []): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) pinsUnder(path, out);
    else out.push(path);
  }
  return out;
}

/** Runs `fn` on an fd for object `id`, closing it after; undefined if the object is gone. */
function withObjectFd<T>(kind: ObjectKind, id: number, fn: (fd: number) => T): T | undefined {
  let fd = -1;
  try {
    fd = fdById(kind, id);
    return fn(fd);
  } catch {
    return undefined;
  } finally {
    closeFd(fd);
  }
}

/**
 * Ids of the objects something alive keeps: an fd of any process, a pin in
 * /sys/fs/bpf, and what those use in turn (a program's maps and BTF, a map's
 * BTF, a link's program). An object outside this set that a test's child
 * process created and no longer holds is a leak (attached through netlink,
 * a cgroup, ...); objects of other BPF users on the machine are inside it.
 */
export function reachableIds(): Ids {
  const out = emptyIds();
  for (const pid of readdirSync("/proc")) if (/^\d+$/.test(pid)) idsHeldBy(pid, out);
  for (const path of pinsUnder(PIN_ROOT)) {
    const r = tryBpf(BpfCmd.OBJ_GET, { pathname: cString(path), bpf_fd: 0, file_flags: 0 });
    if (r.ret === -1) continue; // not an object, or unpinned meanwhile
    const o = fdObject("self", Number(r.ret));
    if (o) out[o.kind].add(o.id);
    closeFd(Number(r.ret));
  }
  for (const id of out.link) {
    const prog = withObjectFd("link", id, linkProgId);
    if (prog) out.prog.add(prog);
  }
  for (const id of out.prog) {
    const info = withObjectFd("prog", id, (fd) => progInfo(fd));
    for (const m of info?.mapIds ?? []) out.map.add(m);
    if (info?.btfId) out.btf.add(info.btfId);
  }
  for (const id of out.map) {
    const btf = withObjectFd("map", id, (fd) => mapInfo(fd).btfId);
    if (btf) out.btf.add(btf);
  }
  return out;
}

// ---- what this process created ---------------------------------------------------

/** bpf() commands whose fd is a new kernel object. */
const CREATING = new Set<number>([BpfCmd.MAP_CREATE, BpfCmd.PROG_LOAD, BpfCmd.BTF_LOAD, BpfCmd.LINK_CREATE, BpfCmd.RAW_TRACEPOINT_OPEN]);
/** Every object this process created since tracking began, in order. */
const created: Array<{ kind: ObjectKind; id: number }> = [];
let tracking = false;

/**
 * Starts recording the objects this process creates (once per process): as
 * each creating bpf() call returns its fd, the fd's object id is read from
 * /proc/self/fdinfo. Other processes (other test runs, bpftool, a load
 * loop) create objects too, even with the same names; leak checks look only
 * at these ids.
 */
function trackCreatedObjects(): void {
  if (tracking) return;
  tracking = true;
  observeSyscalls((req, result) => {
    if (req.call !== "bpf" || !CREATING.has(req.cmd) || Number(result.ret) < 0) return;
    const o = fdObject("self", Number(result.ret));
    if (o) created.push(o);
  });
}

/** A point in this process's record of created objects; newKernelObjects() looks at what came after. */
export interface CreatedMark {
  readonly index: number;
}

/** Marks now; objects created from here on are counted by newKernelObjects(). */
export function kernelObjects(): CreatedMark {
  trackCreatedObjects();
  return { index: created.length };
}

/** Objects this process created since `mark` that still exist in the kernel. */
export function newKernelObjects(mark: CreatedMark): Record<ObjectKind, number[]> {
  const now = kernelIds();
  const out: Record<ObjectKind, number[]> = { prog: [], map: [], link: [], btf: [] };
  for (const o of created.slice(mark.index)) if (now[o.kind].has(o.id)) out[o.kind].push(o.id);
  return out;
}

/** Closing fds frees objects asynchronously (RCU); give the kernel a moment. */
export async function settle(ms = 50): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export const NO_NEW_OBJECTS = { prog: [], map: [], link: [], btf: [] };

/** Mounts the BPF filesystem at /sys/fs/bpf if nothing is mounted there (bpftool pins need it). */
export function ensureBpffs(): void {
  const mounts = readFileSync("/proc/mounts", "utf8");
  if (mounts.split("\n").some((l) => l.split(" ")[1] === "/sys/fs/bpf")) return;
  execFileSync("mount", ["-t", "bpf", "bpf", "/sys/fs/bpf"]);
}

/**
 * newKernelObjects(), polled until it is empty or `ms` pass: the kernel frees
 * a program at once but the maps it held only after an RCU grace period and
 * a workqueue run, which can take a while on a busy machine.
 */
export async function remainingKernelObjects(mark: CreatedMark, ms = 3000): Promise<Record<string, number[]>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = newKernelObjects(mark);
    if (Object.values(left).every((l) => l.length === 0) || Date.now() > deadline) return left;
    await settle(50);
  }
}
