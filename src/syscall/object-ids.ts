/**
 * Walking the kernel's BPF object ids (BPF_*_GET_NEXT_ID): every program,
 * map, link or BTF object currently loaded, whoever loaded it. Used by
 * introspection verbs and by tests that prove nothing was leaked.
 */
import { ENOENT } from "./errno.js";
import { readAttrU32, tryBpf } from "./bpf.js";
import { SyscallError } from "./syscall-error.js";
import { BpfCmd } from "../abi/uapi-enums.js";

export type BpfObjectKind = "prog" | "map" | "link" | "btf";

const NEXT_ID: Record<BpfObjectKind, BpfCmd> = {
  prog: BpfCmd.PROG_GET_NEXT_ID,
  map: BpfCmd.MAP_GET_NEXT_ID,
  link: BpfCmd.LINK_GET_NEXT_ID,
  btf: BpfCmd.BTF_GET_NEXT_ID,
};

/** All ids of one kind, ascending. */
export function listObjectIds(kind: BpfObjectKind): number[] {
  const ids: number[] = [];
  let start = 0;
  for (;;) {
    const r = tryBpf(NEXT_ID[kind], { start_id: start });
    if (r.ret === -1) {
      if (r.errno === ENOENT) return ids;
      throw new SyscallError(r.req, r.errno, `listing ${kind} ids`);
    }
    start = readAttrU32(r.req, "next_id");
    ids.push(start);
  }
}
