/**
 * The kernel-free sub-path exports, in a process where koffi cannot be
 * loaded: parse an object (tsbpf/spec, tsbpf/elf), read its BTF and dump a
 * type as C (tsbpf/btf), CO-RE-relocate its programs against the running
 * kernel's BTF file (tsbpf/core through relocateProgram), decode and
 * disassemble instructions (tsbpf/insn, tsbpf/disasm).
 *
 *   node offline.js OBJECT BTF
 */
import { readFileSync } from "node:fs";
import { Btf, dumpC } from "tsbpf/btf";
import { CoreCache } from "tsbpf/core";
import { disassembleObject } from "tsbpf/disasm";
import { ElfFile } from "tsbpf/elf";
import { encodeInstructions } from "tsbpf/insn";
import { hasCoreRelocations, inspectObject, parseObject, relocateProgram } from "tsbpf/spec";
import { report } from "./report.js";

const [objectPath, btfPath] = process.argv.slice(2) as [string, string];
const bytes = new Uint8Array(readFileSync(objectPath));
const elf = new ElfFile(bytes);
const spec = parseObject(bytes, { path: objectPath });
const target = Btf.parse(new Uint8Array(readFileSync(btfPath)));
const cache = new CoreCache();
const programs = spec.programs.map((p) => {
  const relocated = relocateProgram(p, spec.btf?.btf, hasCoreRelocations(p) ? target : undefined, cache);
  return {
    name: p.name,
    insns: encodeInstructions(relocated.insns).byteLength / 8,
    core: relocated.core.length,
    poisoned: relocated.core.filter((r) => r.poisoned).length,
  };
});
const report1 = inspectObject(spec);
report({
  sections: elf.sections.length,
  programs,
  maps: spec.maps.map((m) => m.name),
  inspected: Object.keys(report1),
  dumpC: dumpC(spec.btf!.btf).includes("struct"),
  disassembly: disassembleObject(bytes).split("\n").length,
});
