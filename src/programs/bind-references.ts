/**
 * The last relocation step, the only one that needs the kernel: symbolic
 * map references become fds in ld_imm64 instructions.
 *   map       → src_reg BPF_PSEUDO_MAP_FD,    imm = map fd
 *   map_value → src_reg BPF_PSEUDO_MAP_VALUE, imm = map fd, 2nd slot imm = offset
 */
import { RelocationError, UnsupportedError } from "../errors.js";
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, type Instruction, cloneInstruction } from "./insn.js";

export function bindMapReferences(
  program: string,
  insns: readonly Instruction[],
  mapFd: (name: string) => number | undefined,
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
      throw new UnsupportedError(`${program}: instruction ${i} uses extern ${ref.name}; externs (.kconfig/.ksyms) are not supported yet`);
    }
  }
  return out;
}
