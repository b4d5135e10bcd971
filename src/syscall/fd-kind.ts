/**
 * What kind of BPF object an fd refers to. BPF_OBJ_GET hands back whatever
 * is pinned at a path, and BPF_OBJ_GET_INFO_BY_FD answers for whatever the
 * fd is (a program's info read as a map's gives nonsense sizes), so the kind
 * is read from the fd's anonymous inode: anon_inode:bpf-map, bpf-prog,
 * bpf_link or btf.
 */
import { readlinkSync } from "node:fs";

export type BpfFdKind = "map" | "prog" | "link" | "btf";

const KINDS: Record<string, BpfFdKind> = {
  "anon_inode:bpf-map": "map",
  "anon_inode:bpf-prog": "prog",
  "anon_inode:bpf_link": "link",
  "anon_inode:btf": "btf",
};

/** The kind of BPF object behind `fd`, or undefined for anything else (or when /proc is not readable). */
export function bpfFdKind(fd: number): BpfFdKind | undefined {
  try {
    return KINDS[readlinkSync(`/proc/self/fd/${fd}`)];
  } catch {
    return undefined;
  }
}

/** "a program", "a map", ... for messages. */
export function describeFdKind(kind: BpfFdKind | undefined): string {
  return kind === "prog"
    ? "a program"
    : kind === "map"
      ? "a map"
      : kind === "link"
        ? "a link"
        : kind === "btf"
          ? "a BTF object"
          : "not a BPF object";
}
