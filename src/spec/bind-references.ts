/**
 * The last relocation step, the only one that needs the kernel: symbolic
 * map references become fds in ld_imm64 instructions, and .ksyms externs
 * become kernel BTF ids or addresses.
 *   map       → src_reg BPF_PSEUDO_MAP_FD,    imm = map fd
 *   map_value → src_reg BPF_PSEUDO_MAP_VALUE, imm = map fd, 2nd slot imm = offset
 */
import { RelocationError, UnsupportedError } from "../errors.js";
import {
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  type Instruction,
  cloneInstruction,
} from "../insn/insn.js";

/** How an extern (.ksyms) is bound at load time. */
export type ExternBinding =
  /** kfunc call: src_reg BPF_PSEUDO_KFUNC_CALL, imm = FUNC id in kernel BTF. */
  | { kind: "kfunc"; btfId: number }
  /** typed kernel variable: ld_imm64 src_reg BPF_PSEUDO_BTF_ID, imm = VAR id. */
  | { kind: "btf_var"; btfId: number }
  /** untyped kernel symbol: ld_imm64 of its address. */
  | { kind: "address"; address: bigint };

export function bindMapReferences(
  program: string,
  insns: readonly Instruction[],
  mapFd: (name: string) => number | undefined,
  externs: ReadonlyMap<string, ExternBinding> = new Map(),
): Instruction[] {
  const out = insns.map(cloneInstruction);
  for (let i = 0; i < out.length; i++) {
    const insn = out[i]!;
    const ref = insn.reference;
    if (!ref) continue;
    if (ref.kind === "map" || ref.kind === "map_value") {
      const fd = mapFd(ref.map);
      if (fd === undefined) throw new RelocationError(`${program}: instruction ${i} refers to map ${ref.map}, which was not created`);
      insn.src = ref.kind === "map" ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE;
      insn.imm = fd;
      out[i + 1]!.imm = ref.kind === "map" ? 0 : ref.offset;
    } else if (ref.kind === "extern") {
      const b = externs.get(ref.name);
      if (!b) throw new UnsupportedError(`${program}: instruction ${i} uses extern ${ref.name}, which was not resolved`);
      if (b.kind === "kfunc") {
        insn.src = BPF_PSEUDO_KFUNC_CALL;
        insn.imm = b.btfId;
        insn.off = 0; // index into fd_array: 0 is vmlinux
      } else if (b.kind === "btf_var") {
        insn.src = BPF_PSEUDO_BTF_ID;
        insn.imm = b.btfId;
        out[i + 1]!.imm = 0; // BTF object fd: 0 is vmlinux
      } else {
        insn.src = 0;
        insn.imm = Number(BigInt.asIntN(32, b.address & 0xffffffffn));
        out[i + 1]!.imm = Number(BigInt.asIntN(32, b.address >> 32n));
      }
    }
  }
  return out;
}
