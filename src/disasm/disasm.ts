/**
 * The BPF disassembler.
 *
 * - `disassemble(insn, next)`: one instruction in llvm-objdump-19's syntax
 *   (`r1 = 0x0 ll`, `*(u32 *)(r10 - 0x4) = r1`, `if r1 != r2 goto +0x3`).
 * - `disassembleObject(bytes)`: exactly what `llvm-objdump -d` prints for
 *   an object (section headers, function labels, raw bytes, branch targets).
 * - `annotateObjectSections` / `annotateProgram`: the same listing with
 *   tsbpf's knowledge as trailing comments (maps, global variables, helper
 *   and subprogram names, CO-RE accesses) and the C source lines from
 *   line_info; per ELF section, or per linked program as it is loaded.
 *
 * Pure: bytes in, text out.
 */
import type { Btf } from "../btf/btf.js";
import { ElfFile } from "../elf/elf-file.js";
import { dataSectionKind } from "../spec/data-sections.js";
import type { ObjectSpec, ProgramSpec } from "../spec/object-spec.js";
import { ObjectBtf } from "../spec/object-btf.js";
import { readCodeSections } from "../spec/code-sections.js";
import type { Instruction } from "../insn/insn.js";
import type { CoreRelocationReport } from "../core/relocate.js";
import { type AnnotateOptions, type AnnotationContext, annotateInstructions, annotateSections } from "./annotate.js";
import { type ObjdumpOptions, objdumpListing } from "./listing.js";

export { decodeInstruction, disassemble, hex, UNKNOWN } from "./decode.js";
export type { DecodedInstruction, DisasmOptions } from "./decode.js";
export {
  branchTargetAddress,
  formatDataLine,
  formatInsnLine,
  formatLabel,
  isDisassembledSection,
  objdumpListing,
  renderLine,
  sectionListing,
  sectionSymbols,
  symbolizeTarget,
} from "./listing.js";
export type { ListingLine, ListingSymbol, ObjdumpOptions, SectionListingOptions } from "./listing.js";
export {
  annotateInstructions,
  annotateSection,
  annotateSections,
  annotationsFor,
  coreKindName,
  describeCoreRelo,
  instructionRows,
} from "./annotate.js";
export type { AnnotateOptions, AnnotationContext, InstructionRow, SectionAnnotateOptions } from "./annotate.js";
export { HELPER_NAMES, helperName } from "../abi/helper-names.js";

function asElf(obj: Uint8Array | ElfFile): ElfFile {
  if (obj instanceof ElfFile) return obj;
  const elf = new ElfFile(obj);
  elf.assertBpf();
  return elf;
}

/** The first line llvm-objdump prints for a file (after a blank line). */
export function objdumpHeader(path: string): string {
  return `\n${path}:\tfile format elf64-bpf\n`;
}

/** Exactly `llvm-objdump-19 -d <path>` (with `symbols`: `--disassemble-symbols=...`). */
export function disassembleObject(obj: Uint8Array | ElfFile, opts: ObjdumpOptions = {}): string {
  return objdumpListing(asElf(obj), opts);
}

export interface ObjectAnnotateOptions extends AnnotateOptions {
  /** Only these functions (by symbol name), as --disassemble-symbols. */
  symbols?: readonly string[];
}

/**
 * Every code section, laid out as llvm-objdump -d lays it out, annotated.
 * Metadata comes from the ELF relocations and .BTF.ext; when the object's
 * BTF or relocations cannot be read, the listing carries what it can and
 * `warning` says why.
 */
export function annotateObjectSections(obj: Uint8Array | ElfFile, opts: ObjectAnnotateOptions = {}): { text: string; warning?: string } {
  const elf = asElf(obj);
  let btf: Btf | undefined;
  const bySlot = new Map<string, Map<number, Instruction>>();
  let warning: string | undefined;
  try {
    const objBtf = ObjectBtf.read(elf);
    btf = objBtf?.btf;
    // Name global data by its section: the listing is about the file, not the maps tsbpf would create.
    const dataSections = new Map<string, string>();
    for (const s of elf.sections) if (dataSectionKind(s)) dataSections.set(s.name, s.name);
    const code = readCodeSections(elf, objBtf?.ext, dataSections);
    for (const [section, fns] of code.bySection) {
      const slots = new Map<number, Instruction>();
      for (const fn of fns)
        fn.insns.forEach((insn, i) => {
          slots.set(fn.start + i, insn);
        });
      bySlot.set(section, slots);
    }
  } catch (e) {
    warning = `metadata unavailable: ${(e as Error).message}`;
  }
  const ctx: AnnotationContext = { elf, ...(btf ? { btf } : {}) };
  const only = opts.symbols ? new Set(opts.symbols) : undefined;
  const text = annotateSections(elf, (section, slot) => bySlot.get(section)?.get(slot), ctx, { ...opts, ...(only ? { only } : {}) });
  return { text, ...(warning ? { warning } : {}) };
}

/** Context for annotating a parsed object's programs: its BTF, ELF and map → data section names. */
export function annotationContext(spec: ObjectSpec): AnnotationContext {
  const mapSections = new Map<string, string>();
  for (const m of spec.maps) if (m.sectionName) mapSections.set(m.name, m.sectionName);
  return { elf: spec.elf, mapSections, ...(spec.btf ? { btf: spec.btf.btf } : {}) };
}

/** What CO-RE made of a program against one kernel's BTF (relocateProgram's result, and that BTF's name). */
export interface LoadedView {
  insns: readonly Instruction[];
  core: readonly CoreRelocationReport[];
  /** "the running kernel's BTF", "BTF of FILE". */
  against: string;
}

/**
 * One program's linked instructions (the program and then its
 * subprograms), annotated, under a "Disassembly of program" header: as
 * compiled, or — given `loaded` — with CO-RE applied as the loader applies
 * it, each relocation site saying what it became. Map, global-variable and
 * kernel-symbol references stay symbolic (the fds and addresses exist only
 * in a load).
 */
export function annotateProgram(spec: ObjectSpec, program: ProgramSpec, opts: AnnotateOptions = {}, loaded?: LoadedView): string {
  const view = loaded ? `as loaded, CO-RE against ${loaded.against}` : "as compiled";
  const header = `\nDisassembly of program ${program.name} (section ${program.sectionName}, ${program.insns.length} instructions, ${view}):\n`;
  const ctx = annotationContext(spec);
  if (!loaded) return header + annotateInstructions(program.insns, ctx, opts);
  const coreAnswers = new Map(loaded.core.map((r) => [r.insnIndex, r]));
  return header + annotateInstructions(loaded.insns, { ...ctx, coreAnswers }, opts);
}
