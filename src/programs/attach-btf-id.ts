/**
 * Programs that attach through BTF (tp_btf, fentry/fexit/fmod_ret, lsm,
 * iter) name their target at load time: PROG_LOAD's attach_btf_id is the id
 * of a type in the kernel's BTF, found by the naming convention of each kind.
 */
import type { Btf } from "../btf/btf.js";
import { BtfKind } from "../btf/types.js";
import { NotFoundError, UnsupportedError } from "../errors.js";
import { BpfAttachType, BpfProgType } from "../abi/uapi-enums.js";
import type { SectionMatch } from "../spec/section-types.js";

/** The kernel BTF type a program attaches to: [name, kind]. */
export function attachBtfTarget(section: SectionMatch, program: string): { name: string; kind: BtfKind } {
  const { def, target } = section;
  if (!target)
    throw new UnsupportedError(
      `program ${program}: section ${def.pattern.replace(/\+$/, "")} needs a target after "/" (e.g. tp_btf/sched_switch)`,
    );
  if (def.progType === BpfProgType.LSM) return { name: `bpf_lsm_${target}`, kind: BtfKind.Func };
  switch (def.expectedAttachType) {
    case BpfAttachType.TRACE_RAW_TP:
      return { name: `btf_trace_${target}`, kind: BtfKind.Typedef };
    case BpfAttachType.TRACE_ITER:
      return { name: `bpf_iter_${target}`, kind: BtfKind.Func };
    case BpfAttachType.TRACE_FENTRY:
    case BpfAttachType.TRACE_FEXIT:
    case BpfAttachType.MODIFY_RETURN:
      return { name: target, kind: BtfKind.Func };
    default:
      throw new UnsupportedError(
        `program ${program}: section ${section.def.pattern} attaches to another BPF program (freplace), which tsbpf does not support yet`,
      );
  }
}

export function resolveAttachBtfId(kernelBtf: Btf, section: SectionMatch, program: string): number {
  const { name, kind } = attachBtfTarget(section, program);
  const id = kernelBtf.idsByName(name).find((i) => kernelBtf.kind(i) === kind);
  if (id === undefined) {
    const what =
      section.def.expectedAttachType === BpfAttachType.TRACE_RAW_TP
        ? "raw tracepoint"
        : section.def.expectedAttachType === BpfAttachType.TRACE_ITER
          ? "iterator"
          : "kernel function";
    throw new NotFoundError(
      `program ${program}: no ${what} "${section.target}" in the kernel (no ${BtfKind[kind].toUpperCase()} ${name} in kernel BTF)`,
    );
  }
  return id;
}
