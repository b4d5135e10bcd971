import { describe, expect, it } from "vitest";
import { BpfObject } from "../src/object/bpf-object.js";
import { parseObject } from "../src/spec/object-spec.js";
import { readFileSync } from "node:fs";
import { BPF_F_MMAPABLE, BPF_F_RDONLY_PROG } from "../src/abi/uapi-flags.js";
import { internalMapName } from "../src/spec/data-sections.js";

const GLOBALS = "bpf/globals.bpf.o";
const i32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(0, true);

describe("global data and subprograms (pure)", () => {
  const spec = parseObject(readFileSync(GLOBALS), { path: GLOBALS });

  it("makes one map per data section, named as libbpf names them", () => {
    const byName = Object.fromEntries(spec.maps.map((m) => [m.name, m]));
    expect(Object.keys(byName).sort()).toEqual([".data.custom", ".rodata.custom", "globals.bss", "globals.data", "globals.rodata"]);
    expect(byName["globals.rodata"]!.flags).toBe(BPF_F_RDONLY_PROG | BPF_F_MMAPABLE);
    expect(byName["globals.rodata"]!.freeze).toBe(true);
    expect(byName["globals.bss"]!.flags).toBe(BPF_F_MMAPABLE);
    expect(byName["globals.bss"]!.valueSize).toBe(40);
    expect([...byName["globals.bss"]!.data!.initial].every((b) => b === 0)).toBe(true);
  });

  it("cuts names like libbpf's internal_map_name", () => {
    expect(internalMapName("bootstrap", ".rodata")).toBe("bootstra.rodata");
    expect(internalMapName("minimal", ".bss")).toBe("minimal.bss");
    expect(internalMapName("x", ".rodata.str1.1")).toBe(".rodata.str1.1");
    expect(internalMapName("verylongname", ".kconfig")).toBe("verylon.kconfig"); // 7 + 8: the suffix keeps its whole length;
  });

  it("appends each called subprogram once, depth-first, and fixes call offsets", () => {
    const count = spec.programs.find((p) => p.name === "count_calls")!;
    const calls = count.insns.map((insn, i) => ({ insn, i })).filter(({ insn }) => insn.reference?.kind === "call");
    const starts = new Map<string, number>();
    count.insns.forEach((insn, i) => {
      if (insn.symbol) starts.set(insn.symbol, i);
    });
    // count_calls calls bump and twice; twice calls add3. Depth-first: bump, twice, add3.
    expect([...starts.keys()]).toEqual(["count_calls", "bump", "twice", "add3"]);
    for (const { insn, i } of calls) {
      const ref = insn.reference as { function: string };
      expect(i + insn.imm + 1).toBe(starts.get(ref.function));
    }
    const sum = spec.programs.find((p) => p.name === "sum_globals")!;
    expect(sum.insns.filter((x) => x.symbol).map((x) => x.symbol)).toEqual(["sum_globals", "add3"]);
  });
});

describe("global data and subprograms (real kernel)", () => {
  it("programs see .data/.rodata initial values and settable rodata", () => {
    using obj = BpfObject.open(GLOBALS);
    obj.setVariable("knob", 10);
    obj.load();
    // 42 + 10 + 5 + 100
    expect(obj.program("sum_globals").testRun().retval).toBe(157);
  });

  it(".bss is shared live between program and JS through the mmap", () => {
    using obj = BpfObject.open(GLOBALS);
    obj.load();
    const counter = obj.variable("counter");
    expect(obj.program("count_calls").testRun().retval).toBe(2); // twice(1)
    expect(i32(counter)).toBe(1);
    counter.set([41, 0, 0, 0]);
    expect(obj.program("count_calls").testRun().retval).toBe(84); // twice(42)
    const big = obj.variable("big_bss");
    expect(new DataView(big.buffer, big.byteOffset).getBigUint64(24, true)).toBe(42n);
  });

  it("refuses to change .rodata after load", () => {
    using obj = BpfObject.open(GLOBALS);
    obj.load();
    expect(() => obj.setVariable("knob", 1)).toThrow(/read-only once loaded/);
    expect(i32(obj.variable("knob"))).toBe(7);
  });
});
