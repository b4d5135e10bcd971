/**
 * The pure relocation of one linked program against a target BTF (CO-RE).
 * Map references stay symbolic (they need fds); everything else is final.
 * Usable offline: the target can be any BTF file, not only the running kernel's.
 */
import type { Btf } from "../btf/btf.js";
import { CoreCache, type CoreRelocationReport, applyCoreRelocations } from "../core/index.js";
import type { ProgramSpec } from "./object-spec.js";
import { type Instruction, cloneInstruction } from "../insn/insn.js";

export interface RelocatedProgram {
  insns: Instruction[];
  core: CoreRelocationReport[];
}

export function hasCoreRelocations(program: ProgramSpec): boolean {
  return program.insns.some((i) => i.coreRelo);
}

/**
 * CO-RE-relocates a copy of the program's instructions. Pass one `cache`
 * for all programs of an object (candidate lists narrow as libbpf's do).
 */
export function relocateProgram(
  program: ProgramSpec,
  localBtf: Btf | undefined,
  targetBtf: Btf | undefined,
  cache: CoreCache = new CoreCache(),
  targetName?: string,
): RelocatedProgram {
  const insns = program.insns.map(cloneInstruction);
  if (!hasCoreRelocations(program)) return { insns, core: [] };
  if (!localBtf || !targetBtf) throw new Error(`program ${program.name} has CO-RE relocations but no BTF was given`);
  const core = applyCoreRelocations(insns, localBtf, targetBtf, {
    cache,
    programName: program.name,
    ...(targetName ? { targetName } : {}),
  });
  return { insns, core };
}
