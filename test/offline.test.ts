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
});
