/**
 * What kind of BPF object an fd refers to. BPF_OBJ_GET hands back whatever
 * is pinned at a path, and BPF_OBJ_GET_INFO_BY_FD answers for whatever the
 * fd is (a program's info read as a map's gives nonsense sizes), so the kind
 * is read from the fd's /proc/self/fdinfo (through the choke point), whose
 * first own field names it: link_type, prog_type, map_type, or btf_id.
 */
import { readHostText } from "./host-files.js";

export type BpfFdKind = "map" | "prog" | "link" | "btf";

/** The kind of BPF object behind `fd`, or undefined for anything else (or when fdinfo cannot be read). */
export function bpfFdKind(fd: number): BpfFdKind | undefined {
  let info: string;
  try {
    info = readHostText(`/proc/self/fdinfo/${fd}`);
  } catch {
    return undefined;
  }
  // A link's fdinfo also shows its program's fields: test the link first.
  if (/^link_type:/m.test(info)) return "link";
  if (/^prog_type:/m.test(info)) return "prog";
  if (/^map_type:/m.test(info)) return "map";
  if (/^btf_id:/m.test(info)) return "btf";
  return undefined;
}

const KIND_WORDS: Record<BpfFdKind, string> = { prog: "a program", map: "a map", link: "a link", btf: "a BTF object" };

/** "a program", "a map", ... for messages. */
export function describeFdKind(kind: BpfFdKind | undefined): string {
  return kind ? KIND_WORDS[kind] : "not a BPF object";
}
