/**
 * Offline relocation (no kernel): bootstrap.bpf.o relocated against
 * /sys/kernel/btf/vmlinux read as a plain file gives the instructions a real
 * load sends, map fds aside.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Btf, BpfObject, encodeInstructions, parseObject, relocateProgram } from "../src/index.js";

describe("offline relocation", () => {
  it("matches the instructions of a real load, except the map fds", () => {
    const bytes = readFileSync("bpf/bootstrap.bpf.o");
    const spec = parseObject(bytes, { path: "bootstrap.bpf.o" });
    const vmlinux = Btf.parse(readFileSync("/sys/kernel/btf/vmlinux"), { where: "vmlinux file" });
    using obj = BpfObject.open(bytes, { path: "bootstrap.bpf.o" });
    obj.load();
    for (const p of spec.programs) {
      const offline = relocateProgram(p, spec.btf!.btf, vmlinux);
      expect(offline.core.length).toBeGreaterThan(0);
      expect(offline.core.every((r) => !r.poisoned)).toBe(true);
      const real = obj.program(p.name).loadedInsns;
      const mine = encodeInstructions(offline.insns);
      expect(mine.length).toBe(real.length);
      // Map references are the only difference: ld_imm64 imm (fd) and src_reg set at load.
      const mapSlots = new Set(offline.insns.flatMap((insn, i) => (insn.reference?.kind.startsWith("map") ? [i, i + 1] : [])));
      for (let i = 0; i < mine.length / 8; i++) {
        if (mapSlots.has(i)) continue;
        expect(Buffer.from(mine.subarray(i * 8, i * 8 + 8)).toString("hex"), `${p.name} insn ${i}`).toBe(
          Buffer.from(real.subarray(i * 8, i * 8 + 8)).toString("hex"),
        );
      }
    }
  });

  // Relocation, linking and binding copy only the instructions they patch (copy on write); the
  // others are the parse's own objects, shared by every open of the file (spec-cache.ts). Frozen
  // here, a write to one throws (ES modules are strict code), so this fails if a patch of a
  // call, a callback address, a CO-RE relocation, a map reference or an ld_imm64's second slot
  // writes the shared object instead of a copy.
  it.each([
    "bootstrap.bpf.o",
    "bench_many.bpf.o",
    "externs.bpf.o",
  ])("%s: relocating, binding and loading never write the parsed instructions", (file) => {
    const bytes = readFileSync(`bpf/${file}`);
    const reference = BpfObject.open(bytes, { path: file });
    reference.load();
    const spec = parseObject(bytes, { path: file });
    const before = spec.programs.map((p) => Buffer.from(encodeInstructions(p.insns)).toString("hex"));
    for (const p of spec.programs) for (const insn of p.insns) Object.freeze(insn);
    const vmlinux = Btf.parse(readFileSync("/sys/kernel/btf/vmlinux"), { where: "vmlinux file" });
    for (const p of spec.programs) relocateProgram(p, spec.btf?.btf, vmlinux);
    using obj = BpfObject.fromSpec(spec);
    obj.load();
    try {
      for (const p of spec.programs) {
        // The same instructions as a load of an unfrozen parse, map fds aside (the two loads' maps differ).
        const mine = obj.program(p.name).loadedInsns;
        const theirs = reference.program(p.name).loadedInsns;
        expect(mine.length, p.name).toBe(theirs.length);
        const mapSlots = new Set(p.insns.flatMap((insn, i) => (insn.reference?.kind.startsWith("map") ? [i, i + 1] : [])));
        for (let i = 0; i < mine.length / 8; i++) {
          if (mapSlots.has(i)) continue;
          expect(Buffer.from(mine.subarray(i * 8, i * 8 + 8)).toString("hex"), `${p.name} insn ${i}`).toBe(
            Buffer.from(theirs.subarray(i * 8, i * 8 + 8)).toString("hex"),
          );
        }
      }
      expect(spec.programs.map((p) => Buffer.from(encodeInstructions(p.insns)).toString("hex"))).toEqual(before);
    } finally {
      reference.destroy();
    }
  });
});
