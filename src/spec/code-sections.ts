/**
 * Reads the executable sections of a BPF object into functions whose
 * instructions carry symbolic references: ELF relocations become
 * `Reference`s ("this ld_imm64 is map `rb`", "this call goes to `add3`"),
 * and .BTF.ext records (func_info, line_info, CO-RE) are attached to the
 * instructions they describe. Nothing here knows about fds.
 */
import {
  type ElfFile,
  type ElfSection,
  type ElfSymbol,
  SHF_EXECINSTR,
  SHN_UNDEF,
  STT_FUNC,
  STT_SECTION,
  SHT_PROGBITS,
} from "../elf/elf-file.js";
import { ObjectFormatError, RelocationError } from "../errors.js";
import type { BtfExt } from "../btf/ext.js";
import { dataSectionKind } from "./data-sections.js";
import { BPF_PSEUDO_FUNC, INSN_SIZE, type Instruction, type Reference, decodeInstructions, isLdImm64, isPseudoCall } from "../insn/insn.js";

/** R_BPF_64_64 (ld_imm64), R_BPF_64_ABS64/ABS32 (data, in .BTF/.BTF.ext/.maps), R_BPF_64_32 (call). */
const R_BPF_64_64 = 1;
const R_BPF_64_32 = 10;

export interface BpfFunction {
  name: string;
  section: string;
  /** Slot index of the first instruction inside its section. */
  start: number;
  /** The function's instructions (copied out of the section, metadata attached). */
  insns: Instruction[];
  /** True for functions in a program section (not .text): these are programs. */
  isProgram: boolean;
  /** STB_GLOBAL functions: global BPF-to-BPF functions are verified on their own. */
  global: boolean;
}

export interface CodeSections {
  functions: Map<string, BpfFunction>;
  /** Functions per section, ordered by start. */
  bySection: Map<string, BpfFunction[]>;
}

function isCodeSection(s: ElfSection): boolean {
  return s.type === SHT_PROGBITS && (s.flags & BigInt(SHF_EXECINSTR)) !== 0n && s.size > 0;
}

/** A call relocated against a section + slot, resolved to a function name once every section is read. */
interface PendingCall {
  kind: "pending_call";
  section: string;
  slot: number;
  asAddress: boolean;
}

/** Which map a relocation's symbol points into, by section. */
function mapForSymbol(elf: ElfFile, sym: ElfSymbol, dataMapNames: Map<string, string>): { map: string; isData: boolean } | undefined {
  const section = elf.sections[sym.sectionIndex];
  if (!section) return undefined;
  if (section.name === ".maps") {
    // Maps are told apart by name, so the symbol must at least lie inside .maps.
    if (sym.value >= section.size) {
      throw new ObjectFormatError(
        "section .maps",
        sym.value,
        `map symbol ${sym.name || `#${sym.index}`} (symbol #${sym.index}) lies past the end of the ${section.size}-byte section`,
      );
    }
    return { map: sym.name, isData: false };
  }
  if (dataSectionKind(section)) {
    if (sym.value + sym.size > section.size) {
      throw new ObjectFormatError(
        `section ${section.name}`,
        sym.value,
        `symbol ${sym.name || `#${sym.index}`} (symbol #${sym.index}, ${sym.size} bytes) lies past the end of the ${section.size}-byte section`,
      );
    }
    const map = dataMapNames.get(section.name);
    return map ? { map, isData: true } : undefined;
  }
  return undefined;
}

export function readCodeSections(elf: ElfFile, ext: BtfExt | undefined, dataMapNames: Map<string, string>): CodeSections {
  const functions = new Map<string, BpfFunction>();
  const bySection = new Map<string, BpfFunction[]>();
  const pendingCalls = new Map<Instruction, PendingCall>();

  for (const section of elf.sections.filter(isCodeSection)) {
    const where = `section ${section.name}`;
    const insns = decodeInstructions(section.data, where);
    attachExtInfo(insns, section.name, ext);
    const rel = elf.relocations.find((r) => r.targetIndex === section.index);
    for (const entry of rel?.entries ?? []) {
      const idx = entry.offset / INSN_SIZE;
      const insn = insns[idx];
      if (!Number.isInteger(idx) || !insn) {
        throw new ObjectFormatError(`relocations for ${section.name}`, entry.offset, "relocation does not point at an instruction");
      }
      const sym = elf.symbols[entry.symbolIndex]!;
      const ref = referenceFor(elf, section, idx, insn, sym, entry.type, dataMapNames);
      if (ref.kind === "pending_call") pendingCalls.set(insn, ref);
      else insn.reference = ref;
    }

    const syms = elf.symbols.filter((s) => s.sectionIndex === section.index && s.type === STT_FUNC).sort((a, b) => a.value - b.value);
    if (syms.length === 0) throw new ObjectFormatError(where, 0, "code section has no function symbols");
    const list: BpfFunction[] = [];
    for (const sym of syms) {
      if (sym.value % INSN_SIZE !== 0 || sym.size % INSN_SIZE !== 0 || sym.value + sym.size > section.size) {
        throw new ObjectFormatError(where, sym.value, `function ${sym.name} lies outside the section or is misaligned`);
      }
      const start = sym.value / INSN_SIZE;
      const fn: BpfFunction = {
        name: sym.name,
        section: section.name,
        start,
        insns: insns.slice(start, start + sym.size / INSN_SIZE),
        isProgram: section.name !== ".text",
        global: sym.bind !== 0,
      };
      if (fn.insns.length === 0) throw new ObjectFormatError(where, sym.value, `function ${sym.name} is empty`);
      fn.insns[0]!.symbol = sym.name;
      if (functions.has(sym.name)) throw new ObjectFormatError(where, sym.value, `function ${sym.name} is defined twice`);
      functions.set(sym.name, fn);
      list.push(fn);
    }
    // Calls within one section that clang resolved itself carry no relocation.
    for (const fn of list) {
      fn.insns.forEach((insn, i) => {
        if (insn.reference || pendingCalls.has(insn) || !(isPseudoCall(insn) || (isLdImm64(insn) && insn.src === BPF_PSEUDO_FUNC))) return;
        const target = fn.start + i + insn.imm + 1;
        insn.reference = {
          kind: isPseudoCall(insn) ? "call" : "func_addr",
          function: functionAt(list, target, section.name, (fn.start + i) * INSN_SIZE),
        };
      });
    }
    bySection.set(section.name, list);
  }
  // Relocated calls name their target by section + slot; resolve to names now all sections are read.
  for (const [insn, ref] of pendingCalls) {
    const fn = functionAt(bySection.get(ref.section) ?? [], ref.slot, ref.section, ref.slot * INSN_SIZE);
    insn.reference = { kind: ref.asAddress ? "func_addr" : "call", function: fn };
  }
  return { functions, bySection };
}

function functionAt(list: BpfFunction[], slot: number, section: string, at: number): string {
  const fn = list.find((f) => f.start === slot);
  if (!fn) throw new RelocationError(`call at byte ${at} of ${section} targets instruction ${slot}, which does not start a function`);
  return fn.name;
}

function referenceFor(
  elf: ElfFile,
  section: ElfSection,
  idx: number,
  insn: Instruction,
  sym: ElfSymbol,
  relType: number,
  dataMapNames: Map<string, string>,
): Reference | PendingCall {
  const at = `${section.name} instruction ${idx}`;
  if (sym.sectionIndex === SHN_UNDEF && sym.type !== STT_SECTION) {
    return { kind: "extern", name: sym.name };
  }
  const target = elf.sections[sym.sectionIndex];
  if (isPseudoCall(insn)) {
    if (!target || !isCodeSection(target)) throw new RelocationError(`${at}: call relocation to a symbol outside code`);
    // libbpf's rule: the callee slot is symbol value / 8 + imm + 1 (imm is -1 for STT_FUNC symbols).
    return { kind: "pending_call", section: target.name, slot: sym.value / INSN_SIZE + insn.imm + 1, asAddress: false };
  }
  if (isLdImm64(insn) && target && isCodeSection(target)) {
    // A function's address (a callback for bpf_loop & co.): here imm is a byte offset.
    const byteOffset = sym.value + insn.imm;
    if (byteOffset % INSN_SIZE !== 0) throw new RelocationError(`${at}: callback address is not at an instruction boundary`);
    return { kind: "pending_call", section: target.name, slot: byteOffset / INSN_SIZE, asAddress: true };
  }
  if (!isLdImm64(insn)) {
    throw new RelocationError(
      `${at}: relocation of type ${relType} against ${sym.name || target?.name} on an instruction that is not ld_imm64 (opcode 0x${insn.opcode.toString(16)})`,
    );
  }
  if (relType !== R_BPF_64_64 && relType !== R_BPF_64_32 && relType !== 0) {
    // clang only emits R_BPF_64_64 for ld_imm64; anything else is a malformed object.
    throw new RelocationError(`${at}: unexpected relocation type ${relType} on ld_imm64`);
  }
  const m = mapForSymbol(elf, sym, dataMapNames);
  if (!m)
    throw new RelocationError(
      `${at}: ld_imm64 refers to ${sym.name || "a symbol"} in section ${target?.name ?? sym.sectionIndex}, which is neither a map nor global data`,
    );
  if (!m.isData) return { kind: "map", map: m.map };
  // Section symbols carry the offset in imm; variable symbols in st_value (imm is an addend).
  const offset = (sym.type === STT_SECTION ? 0 : sym.value) + insn.imm;
  return { kind: "map_value", map: m.map, offset, ...(sym.type !== STT_SECTION && sym.name ? { symbol: sym.name } : {}) };
}

function attachExtInfo(insns: Instruction[], section: string, ext: BtfExt | undefined): void {
  if (!ext) return;
  // A record for an instruction the section does not have is malformed, whichever kind it is.
  const at = <T extends { insnIndex: number; at?: number }>(kind: string, rec: T): Instruction => {
    const insn = insns[rec.insnIndex];
    if (!insn) {
      throw new ObjectFormatError(
        "section .BTF.ext",
        rec.at ?? 0,
        `${kind} record for ${section} instruction ${rec.insnIndex} is past the end of the section (${insns.length} instructions)`,
      );
    }
    return insn;
  };
  for (const fi of ext.funcInfo.get(section) ?? []) at("func_info", fi).funcInfo = fi;
  for (const li of ext.lineInfo.get(section) ?? []) at("line_info", li).lineInfo = li;
  for (const cr of ext.coreRelos.get(section) ?? []) at("CO-RE relocation", cr).coreRelo = cr;
}
