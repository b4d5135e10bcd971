/**
 * What a report shows of an object without loading it, as plain data (JSON
 * in the page): the ELF sections to scale, symbols, `inspectObject`'s
 * programs, maps, globals and relocations, each program's instructions as
 * compiled and with CO-RE applied (the disassembler's rows), and a table of
 * every CO-RE relocation. Pure: the CLI builds it in Node and the page
 * builds it again in the browser for a dropped object.
 */
import type { Btf } from "../btf/btf.js";
import { CoreCache, type CoreRelocationReport } from "../core/index.js";
import { annotationContext, instructionRows, type InstructionRow } from "../disasm/disasm.js";
import {
  SHF_EXECINSTR,
  SHF_WRITE,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_REL,
  SHT_STRTAB,
  SHT_SYMTAB,
  STB_LOCAL,
  STT_FILE,
} from "../elf/elf-file.js";
import type { Instruction } from "../insn/insn.js";
import { type InspectReport, inspectObject } from "../spec/inspect.js";
import type { ObjectSpec } from "../spec/object-spec.js";
import { hasCoreRelocations, relocateProgram } from "../spec/relocate.js";

/** What a section holds, for colour and legend: drawn from its type, flags and name. */
export type SectionKind = "code" | "data" | "rodata" | "bss" | "maps" | "btf" | "relocations" | "symbols" | "strings" | "other";

export interface SectionView {
  index: number;
  name: string;
  kind: SectionKind;
  /** File offset and size; a NOBITS section has a size but no bytes in the file. */
  offset: number;
  size: number;
  nobits: boolean;
}

export interface SymbolView {
  name: string;
  section: string;
  value: number;
  size: number;
  type: "func" | "object" | "section" | "notype" | "other";
  global: boolean;
}

/** One row of the listing, JSON-safe (the bytes as hex). */
export interface RowView {
  index: number;
  label?: string;
  source?: string;
  text: string;
  notes: string[];
  hex: string;
  /** A map, global, subprogram or extern the instruction refers to ("map:rb", "call:add3"). */
  ref?: string;
  /** Index in the object's CO-RE table, when a relocation applies here. */
  core?: number;
}

export interface CoreRowView {
  program: string;
  insn: number;
  kind: string;
  /** The local access, "task_struct::real_parent (0:95)". */
  access: string;
  target?: string;
  local: string;
  answer?: string;
  poisoned: boolean;
  candidates: number;
  explanation: string;
}

export interface ProgramView {
  name: string;
  section: string;
  type: string;
  attach: string;
  compiled: RowView[];
  /** With CO-RE applied against `ObjectView.coreAgainst` (in a load: the bytes PROG_LOAD sent). */
  loaded?: RowView[];
  /** `bpftool prog dump xlated`'s lines, in a load. */
  xlated?: string[];
  /** The verifier's statistics, in a load: instructions processed, states. */
  verifier?: { processed: number; states: number; peakStates: number; lines: string[] };
}

export interface ObjectView {
  name: string;
  fileSize: number;
  inspect: InspectReport;
  sections: SectionView[];
  symbols: SymbolView[];
  programs: ProgramView[];
  core: CoreRowView[];
  /** What CO-RE was applied against, when any program has relocations and a BTF was given. */
  coreAgainst?: string;
}

export interface ObjectViewOptions {
  /** The BTF to apply CO-RE against, and how to name it. */
  target?: { btf: Btf; against: string };
}

export function sectionKind(s: { name: string; type: number; flags: bigint }): SectionKind {
  if (s.type === SHT_NOBITS) return "bss";
  if (s.type === SHT_REL) return "relocations";
  if (s.type === SHT_SYMTAB) return "symbols";
  if (s.type === SHT_STRTAB) return "strings";
  if (s.name === ".BTF" || s.name === ".BTF.ext") return "btf";
  if (s.name === ".maps" || s.name === "maps") return "maps";
  if (s.type !== SHT_PROGBITS) return "other";
  if (s.flags & BigInt(SHF_EXECINSTR)) return "code";
  if (s.name.startsWith(".rodata")) return "rodata";
  if (s.flags & BigInt(SHF_WRITE) || s.name.startsWith(".data")) return "data";
  return "other";
}

const SYMBOL_TYPES = ["notype", "object", "func", "section"] as const;

export function objectView(spec: ObjectSpec, fileSize: number, opts: ObjectViewOptions = {}): ObjectView {
  const elf = spec.elf;
  const sections = elf.sections
    .filter((s) => s.index !== 0)
    .map((s) => ({ index: s.index, name: s.name, kind: sectionKind(s), offset: s.offset, size: s.size, nobits: s.type === SHT_NOBITS }));
  const symbols = elf.symbols
    .filter((s) => s.name !== "" && s.type !== STT_FILE)
    .map((s) => ({
      name: s.name,
      section: elf.sections[s.sectionIndex]?.name ?? "",
      value: s.value,
      size: s.size,
      type: SYMBOL_TYPES[s.type] ?? ("other" as const),
      global: s.bind !== STB_LOCAL,
    }));
  const core: CoreRowView[] = [];
  const cache = new CoreCache();
  const ctx = annotationContext(spec);
  const programs = spec.programs.map((p): ProgramView => {
    const view: ProgramView = {
      name: p.name,
      section: p.sectionName,
      type: p.section.def.progType === undefined ? "unknown" : String(p.section.def.progType),
      attach: p.section.def.attach,
      compiled: rowsOf(p.insns, instructionRows(p.insns, ctx)),
    };
    if (!hasCoreRelocations(p) || !opts.target) return view;
    const { insns, core: reports } = relocateProgram(p, spec.btf?.btf, opts.target.btf, cache, opts.target.against);
    const coreIndex = new Map<number, number>();
    for (const r of reports) {
      coreIndex.set(r.insnIndex, core.length);
      core.push(coreRow(p.name, r));
    }
    for (const row of view.compiled) if (coreIndex.has(row.index)) row.core = coreIndex.get(row.index)!;
    const answers = new Map(reports.map((r) => [r.insnIndex, r]));
    view.loaded = rowsOf(insns, instructionRows(insns, { ...ctx, coreAnswers: answers }), coreIndex);
    return view;
  });
  const inspect = inspectObject(spec);
  // Program types by name, as inspect prints them.
  for (const v of programs) v.type = inspect.programs.find((p) => p.name === v.name)?.type ?? v.type;
  return {
    name: spec.name,
    fileSize,
    inspect,
    sections,
    symbols,
    programs,
    core,
    ...(opts.target && programs.some((p) => p.loaded) ? { coreAgainst: opts.target.against } : {}),
  };
}

/** Every CO-RE relocation of every program, resolved against `btf` (what objectView's table shows). */
export function coreReports(spec: ObjectSpec, btf: Btf): CoreRelocationReport[] {
  const cache = new CoreCache();
  return spec.programs.filter(hasCoreRelocations).flatMap((p) => relocateProgram(p, spec.btf?.btf, btf, cache).core);
}

/** JSON-safe rows, each with what it refers to and its CO-RE table index. */
export function rowsOf(insns: readonly Instruction[], rows: readonly InstructionRow[], coreIndex?: ReadonlyMap<number, number>): RowView[] {
  return rows.map((r) => {
    const ref = insns[r.index]?.reference;
    const core = coreIndex?.get(r.index);
    return {
      index: r.index,
      ...(r.label !== undefined ? { label: r.label } : {}),
      ...(r.source !== undefined ? { source: r.source } : {}),
      text: r.text,
      notes: r.notes,
      hex: [...r.bytes].map((b) => b.toString(16).padStart(2, "0")).join(" "),
      ...(ref ? { ref: refKey(ref) } : {}),
      ...(core !== undefined ? { core } : {}),
    };
  });
}

function refKey(ref: NonNullable<Instruction["reference"]>): string {
  switch (ref.kind) {
    case "map":
    case "map_value":
      return `map:${ref.map}`;
    case "call":
    case "func_addr":
      return `func:${ref.function}`;
    case "extern":
      return `extern:${ref.name}`;
  }
}

function coreRow(program: string, r: CoreRelocationReport): CoreRowView {
  return {
    program,
    insn: r.insnIndex,
    kind: r.kindName,
    access: r.localSpec,
    ...(r.targetSpec !== undefined ? { target: r.targetSpec } : {}),
    local: `0x${r.localValue.toString(16)}`,
    ...(r.targetValue !== undefined ? { answer: `0x${r.targetValue.toString(16)}` } : {}),
    poisoned: r.poisoned,
    candidates: r.candidates.length,
    explanation: r.explanation,
  };
}
