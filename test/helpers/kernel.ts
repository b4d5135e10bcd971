/** Helpers for real-kernel tests: what exists in the kernel and in this process. */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { listObjectIds } from "../../src/syscall/object-ids.js";
import { fdById, linkProgId, mapInfo, progInfo } from "../../src/syscall/obj-info.js";
import { closeFd } from "../../src/syscall/bpf.js";

export function openFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Ids of every prog, map, link and BTF object in the kernel right now. */
export function kernelObjects(): Record<"prog" | "map" | "link" | "btf", Set<number>> {
  return {
    prog: new Set(listObjectIds("prog")),
    map: new Set(listObjectIds("map")),
    link: new Set(listObjectIds("link")),
    btf: new Set(listObjectIds("btf")),
  };
}

function nameOf(kind: "prog" | "map", id: number): string | undefined {
  try {
    const fd = fdById(kind, id);
    try {
      return kind === "prog" ? progInfo(fd).name : mapInfo(fd).name;
    } finally {
      closeFd(fd);
    }
  } catch {
    return undefined; // already gone
  }
}

function linkProgName(id: number): string | undefined {
  try {
    const fd = fdById("link", id);
    try {
      return nameOf("prog", linkProgId(fd));
    } finally {
      closeFd(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * Objects present now that were not in `before`. With `ours` (names of the
 * programs and maps the test's objects define), objects other processes
 * create meanwhile are ignored — links by their program's name, BTF not
 * at all (the fd count covers our BTF) — so the check holds on a busy machine.
 */
export function newKernelObjects(
  before: ReturnType<typeof kernelObjects>,
  ours?: { progs: string[]; maps: string[] },
): Record<string, number[]> {
  const now = kernelObjects();
  const out: Record<string, number[]> = {};
  for (const k of ["prog", "map", "link", "btf"] as const) {
    out[k] = [...now[k]].filter((id) => !before[k].has(id));
  }
  if (ours) {
    const progs = new Set(ours.progs.map((n) => n.slice(0, 15)));
    const maps = new Set(ours.maps.map((n) => n.slice(0, 15)));
    out.prog = out.prog!.filter((id) => progs.has(nameOf("prog", id) ?? ""));
    out.map = out.map!.filter((id) => maps.has(nameOf("map", id) ?? ""));
    out.link = out.link!.filter((id) => progs.has(linkProgName(id) ?? ""));
    out.btf = [];
  }
  return out;
}

/** The names `newKernelObjects` should watch for an object file. */
export function namesOf(spec: { programs: ReadonlyArray<{ name: string }>; maps: ReadonlyArray<{ name: string }> }): {
  progs: string[];
  maps: string[];
} {
  return { progs: spec.programs.map((p) => p.name), maps: spec.maps.map((m) => m.name) };
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
export async function remainingKernelObjects(
  before: ReturnType<typeof kernelObjects>,
  ours?: { progs: string[]; maps: string[] },
  ms = 3000,
): Promise<Record<string, number[]>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = newKernelObjects(before, ours);
    if (Object.values(left).every((l) => l.length === 0) || Date.now() > deadline) return left;
    await settle(50);
  }
}
