/**
 * `tsbpf disasm` shows programs as loaded by default: CO-RE applied against
 * the running kernel's BTF by the loader's own relocation code, each site
 * saying what it became; `--as-compiled` shows clang's values. The as-loaded
 * instructions are checked against what a real load sends to BPF_PROG_LOAD.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BpfCmd } from "../src/abi/uapi-enums.js";
import { CoreCache } from "../src/core/index.js";
import { LD_IMM64, decodeInstructions } from "../src/insn/insn.js";
import { loadKernelBtf } from "../src/object/kernel-btf.js";
import { BpfObject } from "../src/object/bpf-object.js";
import { parseObject } from "../src/spec/object-spec.js";
import { readFileSync } from "node:fs";
import { relocateProgram } from "../src/spec/relocate.js";
import { observeSyscalls } from "../src/syscall/kernel.js";
import { type BpfRequest, isBpfCmd } from "../src/syscall/requests.js";

const CLI = "dist/src/cli/tsbpf.cjs";
const disasm = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, "disasm", ...args, "--no-bytes"], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
};

describe("disasm as loaded", () => {
  it("labels both views; as loaded, CO-RE sites show this kernel's answers, poisoned ones are marked", () => {
    const loaded = disasm("bpf/core.bpf.o");
    const compiled = disasm("bpf/core.bpf.o", "--as-compiled");
    expect(loaded).toContain("instructions, as loaded, CO-RE against the running kernel's BTF):");
    expect(compiled).toContain("instructions, as compiled):");
    expect(compiled).not.toContain("; loaded:");
    // The examples: a field that moved, and field_exists of a field this kernel lacks.
    expect(loaded).toMatch(/\tr7 = 0x320\t; CO-RE field_byte_offset signal_struct::rlim\[7\]\.rlim_cur; loaded: 0x318 → 0x320\n/);
    expect(compiled).toMatch(/\tr7 = 0x318\t; CO-RE field_byte_offset signal_struct::rlim\[7\]\.rlim_cur\n/);
    expect(loaded).toMatch(/\tr1 = 0x0\t; CO-RE field_exists task_struct___old::no_such_field; loaded: 0x1 → 0x0\n/);
    expect(loaded).toMatch(
      /\tcall 0xbad2310\t; CO-RE poison: .*; POISONED at load: task_struct___old::no_such_field not found in kernel BTF/,
    );
  });

  it("--btf FILE relocates against that BTF; --btf with --as-compiled is a usage error", () => {
    expect(disasm("bpf/core.bpf.o", "--btf", "/sys/kernel/btf/vmlinux")).toContain(
      "as loaded, CO-RE against BTF of /sys/kernel/btf/vmlinux):",
    );
    const r = spawnSync(process.execPath, [CLI, "disasm", "bpf/core.bpf.o", "--as-compiled", "--btf", "/sys/kernel/btf/vmlinux"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
  });

  it("the as-loaded instructions are those BPF_PROG_LOAD receives, map fds and kernel ids aside", () => {
    for (const path of ["bpf/bootstrap.bpf.o", "bpf/core.bpf.o", "bpf/globals.bpf.o"]) {
      const spec = parseObject(readFileSync(path), { path });
      const sent = new Map<string, BpfRequest<BpfCmd.PROG_LOAD>>();
      const stop = observeSyscalls((req) => {
        if (isBpfCmd(req, BpfCmd.PROG_LOAD) && typeof req.values.prog_name === "string") sent.set(req.values.prog_name, req);
      });
      try {
        using obj = BpfObject.open(path);
        // Its poisoned relocations are reached: the verifier refuses it (core.test.ts covers that).
        if (obj.spec.programs.some((p) => p.name === "core_poison")) obj.editProgram("core_poison").setAutoload(false);
        obj.load();
      } finally {
        stop();
      }
      const cache = new CoreCache();
      for (const p of spec.programs.filter((p) => p.name !== "core_poison")) {
        const req = sent.get(p.name.slice(0, 15));
        expect(req, `${path} ${p.name}`).toBeDefined();
        const actual = decodeInstructions(req!.values.insns as Uint8Array, "sent");
        const { insns } = relocateProgram(p, spec.btf?.btf, loadKernelBtf(), cache);
        expect(actual.length, p.name).toBe(insns.length);
        insns.forEach((insn, i) => {
          // An ld_imm64 reference gets its fd / address / BTF id only in a load (both slots' imm).
          const bound = insn.reference || (i > 0 && insns[i - 1]!.opcode === LD_IMM64 && insns[i - 1]!.reference);
          const a = actual[i]!;
          const shape = (x: typeof a) => [x.opcode, x.dst, bound ? "-" : x.src, x.off, bound ? "-" : x.imm];
          expect(shape(a), `${p.name} #${i}`).toEqual(shape(insn));
        });
      }
    }
  });
});
