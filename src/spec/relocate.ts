/**
 * The pure relocation of one linked program against a target BTF (CO-RE).
 * Map references stay symbolic (they need fds); everything else is final.
 * Usable offline: the target can be any BTF file, not only the running kernel's.
 */
import type { Btf } from "../btf/btf.js";
import { CoreCache, type CoreRelocationReport, applyCoreRelocations } from "../core/index.js";
import type { ProgramSpec } from "./object-spec.js";
import { type Instruction, cloneInstruction, isLdImm64 } from "../insn/insn.js";

export interface RelocatedProgram {
  insns: Instruction[];
  core: CoreRelocationReport[];
}

export function hasCoreRelocations(program: ProgramSpec): boolean {
  return program.insns.some((i) => i.coreRelo);
}

/**
 * CO-RE-relocates a copy of the program's instruction array: the instructions
 * it patches are copies, the others the spec's own (read them, never write
 * them: one parse backs every open of a file). Pass one `cache`
 * for all programs of an object (candidate lists narrow as libbpf's do).
 */
export function relocateProgram(
  program: ProgramSpec,
  localBtf: Btf | undefined,
  targetBtf: Btf | undefined,
  cache: CoreCache = new CoreCache(),
  targetName?: string,
): RelocatedProgram {
  // Copy on write: an instruction a relocation may patch (and the second slot of a relocated
  // ld_imm64) is a copy; the others are the spec's own, shared and never written.
  const insns = program.insns.slice();
  let relocations = 0;
  for (let i = 0; i < insns.length; i++) {
    if (!insns[i]!.coreRelo) continue;
    relocations++;
    insns[i] = cloneInstruction(insns[i]!);
    if (isLdImm64(insns[i]!) && i + 1 < insns.length) insns[i + 1] = cloneInstruction(insns[i + 1]!);
  }
  if (relocations === 0) return { insns, core: [] };
  if (!localBtf || !targetBtf) throw new Error(`program ${program.name} has CO-RE relocations but no BTF was given`);
  const core = applyCoreRelocations(insns, localBtf, targetBtf, {
    cache,
    programName: program.name,
    ...(targetName ? { targetName } : {}),
  });
  return { insns, core };
}
