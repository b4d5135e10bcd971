/**
 * BPF-to-BPF linking: a program is its own function followed by a copy of
 * every subprogram it (transitively) calls (a copy of the array: instruction
 * objects are shared, and only the calls patched here are copies). The kernel verifies the whole as
 * one instruction array, so calls are relative slot offsets inside it.
 *
 * Subprograms are appended depth-first in order of first call, as libbpf
 * does, so the instructions tsbpf loads are the ones libbpf loads.
 */
import { RelocationError } from "../errors.js";
import type { BpfFunction } from "./code-sections.js";
import { BPF_PSEUDO_FUNC, type Instruction, cloneInstruction } from "../insn/insn.js";

export interface LinkedCode {
  insns: Instruction[];
  /** Where each function starts in the linked array (the program itself at 0). */
  functionStarts: Map<string, number>;
}

export function linkProgram(main: BpfFunction, functions: ReadonlyMap<string, BpfFunction>): LinkedCode {
  const insns: Instruction[] = [];
  const functionStarts = new Map<string, number>();

  const append = (fn: BpfFunction): void => {
    functionStarts.set(fn.name, insns.length);
    const start = insns.length;
    // The function's own instruction objects: only the calls patched below are copied.
    // (Index loops, here and below: this runs once per program before V8 optimises it,
    // and an unoptimised for-of allocates an iterator result per element.)
    const own = fn.insns;
    for (let i = 0; i < own.length; i++) insns.push(own[i]!);
    // Walk what was just appended; a callee appended meanwhile is walked by its own append().
    for (let i = start; i < start + own.length; i++) {
      const ref = insns[i]!.reference;
      if (!ref || (ref.kind !== "call" && ref.kind !== "func_addr")) continue;
      if (functionStarts.has(ref.function)) continue;
      const callee = functions.get(ref.function);
      if (!callee) throw new RelocationError(`${main.name}: call to unknown function ${ref.function}`);
      if (callee.isProgram && callee.name !== main.name) {
        // libbpf allows calling another program's function only through .text.
        throw new RelocationError(
          `${main.name}: calls ${callee.name}, which is a program in section ${callee.section}, not a subprogram in .text`,
        );
      }
      append(callee);
    }
  };
  append(main);

  // Now every callee has a place: write the relative offsets.
  for (let i = 0; i < insns.length; i++) {
    const ref = insns[i]!.reference;
    if (!ref || (ref.kind !== "call" && ref.kind !== "func_addr")) continue;
    const insn = (insns[i] = cloneInstruction(insns[i]!));
    insn.imm = functionStarts.get(ref.function)! - (i + 1);
    // A callback's address: the kernel resolves BPF_PSEUDO_FUNC like a call, relative to the next slot.
    if (ref.kind === "func_addr") {
      insn.src = BPF_PSEUDO_FUNC;
      const next = (insns[i + 1] = cloneInstruction(insns[i + 1]!));
      next.imm = 0;
    }
  }
  return { insns, functionStarts };
}
