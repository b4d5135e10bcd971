/**
 * BPF-to-BPF linking shares instruction objects between the programs that
 * append the same subprogram and copies only the calls it patches. A call
 * inside a subprogram gets a different relative offset in each program
 * when the callee lands on another side of it, so each program must patch
 * its own copy.
 */
import { describe, expect, it } from "vitest";
import { BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, CALL, EXIT, type Instruction, LD_IMM64 } from "../src/insn/insn.js";
import type { BpfFunction } from "../src/spec/code-sections.js";
import { linkProgram } from "../src/spec/link-subprograms.js";

const exit = (): Instruction => ({ opcode: EXIT, dst: 0, src: 0, off: 0, imm: 0 });
const call = (fn: string): Instruction => ({
  opcode: CALL,
  dst: 0,
  src: BPF_PSEUDO_CALL,
  off: 0,
  imm: -1,
  reference: { kind: "call", function: fn },
});
const funcAddr = (fn: string): Instruction[] => [
  { opcode: LD_IMM64, dst: 2, src: 0, off: 0, imm: -1, reference: { kind: "func_addr", function: fn } },
  { opcode: 0, dst: 0, src: 0, off: 0, imm: 7 },
];
const fn = (name: string, insns: Instruction[], isProgram = false): BpfFunction => ({
  name,
  section: isProgram ? `tp/${name}` : ".text",
  start: 0,
  insns,
  isProgram,
  global: false,
});

describe("linkProgram", () => {
  // a: calls t, then s; b: calls s only; s calls t and takes t's address.
  const t = fn("t", [exit()]);
  const s = fn("s", [call("t"), ...funcAddr("t"), exit()]);
  const a = fn("a", [call("t"), call("s"), exit()], true);
  const b = fn("b", [call("s"), exit()], true);
  const functions = new Map([t, s, a, b].map((f) => [f.name, f]));

  it("patches each program's own copy of a shared subprogram's calls", () => {
    const linkedA = linkProgram(a, functions);
    const linkedB = linkProgram(b, functions);
    // a = [a0 a1 a2 | t3 | s4 s5 s6 s7]: s's call (slot 4) and its address of t (slot 5) point back at 3.
    expect(linkedA.insns.map((i) => i.imm)).toEqual([2, 2, 0, 0, -2, -3, 0, 0]);
    // b = [b0 b1 | s2 s3 s4 s5 | t6]: the same instructions of s point forward at 6.
    expect(linkedB.insns.map((i) => i.imm)).toEqual([1, 0, 3, 2, 0, 0, 0]);
    expect(linkedA.insns[5]!.src).toBe(BPF_PSEUDO_FUNC);
    // Linking b did not rewrite a's calls, nor the parsed functions' own instructions.
    expect(linkedA.insns[4]!.imm).toBe(-2);
    expect(s.insns.map((i) => i.imm)).toEqual([-1, -1, 7, 0]);
    // Instructions nothing patched are shared, not copied.
    expect(linkedA.insns[3]).toBe(t.insns[0]);
    expect(linkedB.insns[5]).toBe(s.insns[3]);
  });
});
