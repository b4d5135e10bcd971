/**
 * BPF_PROG_BIND_MAP of the object's read-only data maps (.rodata and
 * .rodata.*) to every program, as libbpf does after each PROG_LOAD (when
 * the kernel supports it): a program that never reads .rodata still holds
 * it, so `bpftool prog show` lists the map and prints the object's
 * `bpf_metadata_*` variables as `metadata:` lines. A refused bind costs
 * only that, as in libbpf: the load goes on.
 */
import { BpfCmd } from "../abi/uapi-enums.js";
import type { BpfMap } from "../maps/bpf-map.js";
import { tryBpf } from "../syscall/bpf.js";
import { errnoName } from "../syscall/errno.js";
import { canBindMaps } from "./kernel-features.js";
import type { LoadStep } from "./load-steps.js";

export function bindReadOnlyData(program: string, progFd: number, maps: Iterable<BpfMap>, step: (s: LoadStep) => void): void {
  const rodata = [...maps].filter((m) => m.spec.data?.kind === "rodata");
  if (rodata.length === 0 || !canBindMaps(step)) return;
  for (const map of rodata) {
    step({ kind: "map-bind", program, map: map.name });
    const r = tryBpf(BpfCmd.PROG_BIND_MAP, { prog_fd: progFd, map_fd: map.fd, flags: 0 });
    if (r.ret === -1) step({ kind: "warning", message: `program ${program}: could not bind map ${map.name}: ${errnoName(r.errno)}` });
  }
}
