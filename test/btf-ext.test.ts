import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Btf, BtfKind, CoreReloKind, parseBtfExt } from "../src/btf/index.js";
import type { BtfExt, CompositeType } from "../src/btf/index.js";
import { ElfFile } from "../src/elf/elf-file.js";

function load(path: string): { elf: ElfFile; btf: Btf; ext: BtfExt } {
  const elf = new ElfFile(new Uint8Array(readFileSync(path)));
  const btf = Btf.parse(elf.section(".BTF")!.data, { where: "section .BTF" });
  return { elf, btf, ext: parseBtfExt(elf.section(".BTF.ext")!.data, btf) };
}

const count = (m: Map<string, unknown[]>): number => [...m.values()].reduce((n, l) => n + l.length, 0);

describe(".BTF.ext of bootstrap.bpf.o", () => {
  const { elf, btf, ext } = load("bpf/bootstrap.bpf.o");
  const EXEC = "tp/sched/sched_process_exec";
  const EXIT = "tp/sched/sched_process_exit";

  it("has func_info for both programs, pointing at their FUNCs", () => {
    expect([...ext.funcInfo.keys()]).toEqual([EXEC, EXIT]);
    for (const [sec, name] of [
      [EXEC, "handle_exec"],
      [EXIT, "handle_exit"],
    ] as const) {
      const infos = ext.funcInfo.get(sec)!;
      expect(infos).toHaveLength(1);
      expect(infos[0]!.insnIndex).toBe(0);
      expect(btf.type(infos[0]!.typeId)).toMatchObject({ kind: BtfKind.Func, name });
    }
    expect(ext.funcInfoRecSize).toBe(8);
    expect(ext.lineInfoRecSize).toBe(16);
    expect(ext.coreReloRecSize).toBe(16);
  });

  it("has line_info whose text is the source line it names", () => {
    const src = readFileSync("bpf/bootstrap.bpf.c", "utf8").split("\n");
    expect([...ext.lineInfo.keys()]).toEqual([EXEC, EXIT]);
    for (const [sec, infos] of ext.lineInfo) {
      const insns = elf.section(sec)!.size / 8;
      expect(infos[0]!.insnIndex).toBe(0);
      let prev = -1;
      for (const li of infos) {
        expect(li.fileName).toMatch(/bootstrap\.bpf\.c$/);
        expect(li.lineText).toBe(src[li.line - 1]);
        expect(li.lineCol).toBe(li.line * 1024 + li.column);
        expect(btf.string(li.fileNameOff)).toBe(li.fileName);
        expect(btf.string(li.lineOff)).toBe(li.lineText);
        expect(li.insnIndex).toBeGreaterThan(prev);
        expect(li.insnIndex).toBeLessThan(insns);
        prev = li.insnIndex;
      }
    }
    expect(ext.lineInfo.get(EXEC)![0]!.lineText).toContain("int handle_exec(");
    // clang starts handle_exit's line info at its first statement, after the signature.
    const exitStart = src.findIndex((l) => l.startsWith("int handle_exit(")) + 1;
    expect(ext.lineInfo.get(EXIT)![0]!.line).toBeGreaterThan(exitStart);
    expect(ext.lineInfo.get(EXIT)!.every((li) => li.line >= exitStart)).toBe(true);
  });

  it("has CO-RE relocations for BPF_CORE_READ(task, real_parent, tgid)", () => {
    const relos = ext.coreRelos.get(EXEC)!;
    const fields = relos.map((r) => {
      const root = btf.type(btf.skipModifiers(r.typeId)) as CompositeType;
      const idx = r.accessStr.split(":").map(Number);
      expect(idx[0]).toBe(0);
      return `${root.name}.${root.members[idx[1]!]!.name}`;
    });
    expect(fields).toContain("task_struct.real_parent");
    expect(fields).toContain("task_struct.tgid");
    expect(relos.every((r) => r.kind === CoreReloKind.FIELD_BYTE_OFFSET)).toBe(true);
    expect(ext.coreRelos.get(EXIT)!.map((r) => r.accessStr)).toContain(relos[0]!.accessStr);
    for (const r of relos) expect(btf.string(r.accessStrOff)).toBe(r.accessStr);
  });
});

describe(".BTF.ext record counts match the relocations clang emitted", () => {
  // clang relocates the insn_off of every func_info, line_info and core_relo record.
  for (const f of readdirSync("bpf").filter((n) => n.endsWith(".bpf.o"))) {
    it(f, () => {
      const { elf, ext } = load(`bpf/${f}`);
      const rel = elf.relocations.find((r) => r.section.name === ".rel.BTF.ext")!;
      expect(count(ext.funcInfo) + count(ext.lineInfo) + count(ext.coreRelos)).toBe(rel.entries.length);
      // Every program section has func_info.
      for (const sec of elf.sections.filter((s) => (s.flags & 4n) !== 0n && s.size > 0)) {
        expect(ext.funcInfo.has(sec.name)).toBe(true);
      }
    });
  }
});
