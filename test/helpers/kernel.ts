/** Helpers for real-kernel tests: what exists in the kernel and in this process. */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { listObjectIds } from "../../src/syscall/object-ids.js";

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

/** Objects present now that were not in `before`. */
export function newKernelObjects(before: ReturnType<typeof kernelObjects>): Record<string, number[]> {
  const now = kernelObjects();
  const out: Record<string, number[]> = {};
  for (const k of ["prog", "map", "link", "btf"] as const) {
    out[k] = [...now[k]].filter((id) => !before[k].has(id));
  }
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
