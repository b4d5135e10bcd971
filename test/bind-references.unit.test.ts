/**
 * Binding fds and externs copies each instruction it patches and the slot
 * after it; the caller's instructions (the parse's own, shared by every open
 * of a file) are never written, even where a malformed object put a map or
 * extern reference on an instruction that is not an ld_imm64.
 */
import { describe, expect, it } from "vitest";
import { CALL, EXIT, type Instruction, LD_IMM64 } from "../src/insn/insn.js";
import { bindMapReferences } from "../src/spec/bind-references.js";

const frozen = (insns: Instruction[]): Instruction[] => insns.map((i) => Object.freeze({ ...i }));
const exit = (): Instruction => ({ opcode: EXIT, dst: 0, src: 0, off: 0, imm: 0 });

describe("bindMapReferences", () => {
  it("patches copies of an ld_imm64 and its second slot", () => {
    const insns = frozen([
      { opcode: LD_IMM64, dst: 1, src: 0, off: 0, imm: 0, reference: { kind: "map_value", map: "data", offset: 8 } },
      { opcode: 0, dst: 0, src: 0, off: 0, imm: 0 },
      exit(),
    ]);
    const out = bindMapReferences("p", insns, () => 7);
    expect(out.map((i) => i.imm)).toEqual([7, 8, 0]);
    expect(insns.map((i) => i.imm)).toEqual([0, 0, 0]);
    expect(out[2]).toBe(insns[2]);
  });

  it("writes no shared instruction when a reference sits on another kind of instruction", () => {
    const onCall = frozen([{ opcode: CALL, dst: 0, src: 0, off: 0, imm: 0, reference: { kind: "extern", name: "v" } }, exit()]);
    expect(() => bindMapReferences("p", onCall, () => 3, new Map([["v", { kind: "btf_var", btfId: 42 }]]))).not.toThrow();
    const onLoad = frozen([
      { opcode: 0x61, dst: 1, src: 2, off: 0, imm: 0, reference: { kind: "map_value", map: "data", offset: 4 } },
      exit(),
    ]);
    expect(() => bindMapReferences("p", onLoad, () => 3)).not.toThrow();
    expect([...onCall, ...onLoad].map((i) => i.imm)).toEqual([0, 0, 0, 0]);
  });
});
