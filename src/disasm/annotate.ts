/**
 * The annotated listing: llvm-objdump's lines, plus what tsbpf knows about
 * each instruction as trailing comments — the map or global variable an
 * ld_imm64 loads, the helper, subprogram or kfunc a call reaches, the CO-RE
 * access an instruction's constant comes from — and, before the
 * instructions they cover, the C source lines recorded in .BTF.ext
 * (like `llvm-objdump -S`).
 *
 *   ; pid = bpf_get_current_pid_tgid() >> 32;
 *          1:	85 00 00 00 0e 00 00 00	call 0xe	; bpf_get_current_pid_tgid
 *   ...
 *         10:	18 01 00 00 ...	r1 = 0x0 ll	; map: exec_start
 *         30:	b7 01 00 00 00 05 00 00	r1 = 0x500	; CO-RE field_byte_offset task_struct::real_parent
 */
import type { Btf } from "../btf/btf.js";
import { CoreReloKind, type CoreRelo, type LineInfo } from "../btf/ext.js";
import { parseCoreSpec, specPath } from "../core/access-spec.js";
import type { CoreRelocationReport } from "../core/relocate.js";
import { CORE_POISON_IMM } from "../core/patch.js";
import { type ElfFile, type ElfSection, STT_FUNC, STT_NOTYPE, STT_OBJECT, STT_SECTION } from "../elf/elf-file.js";
import { BPF_PSEUDO_CALL, CALL, INSN_SIZE, type Instruction, encodeInstructions } from "../insn/insn.js";
import { helperName } from "../abi/helper-names.js";
import { type DecodedInstruction, decodeInstruction } from "./decode.js";
import {
  type ListingSymbol,
  branchTargetAddress,
  formatInsnLine,
  formatLabel,
  isDisassembledSection,
  renderLine,
  sectionListing,
  symbolizeTarget,
} from "./listing.js";

/** What the annotator can look things up in. Everything is optional: missing knowledge means fewer comments. */
export interface AnnotationContext {
  /**
   * CO-RE answers by instruction index, when the listing is of the
   * instructions as loaded: each relocation site then says what this kernel
   * made of it ("0x318 → 0x320", or poisoned).
   */
  coreAnswers?: ReadonlyMap<number, CoreRelocationReport>;
  /** The object's BTF, to name CO-RE accesses. */
  btf?: Btf;
  /** The ELF, to name global variables by offset inside their data section. */
  elf?: ElfFile;
  /** Map name → the data section it holds ("minimal.rodata" → ".rodata"). */
  mapSections?: ReadonlyMap<string, string>;
}

export interface AnnotateOptions {
  /** Show the raw instruction bytes, as llvm-objdump does (default true). */
  bytes?: boolean;
  /** Print C source lines from line_info before the instructions they cover (default true). */
  source?: boolean;
}

export interface SectionAnnotateOptions extends AnnotateOptions {
  /** Only the ranges starting at these symbols (as llvm-objdump --disassemble-symbols). */
  only?: ReadonlySet<string>;
}

/** "field_byte_offset", "type_exists", ... (CoreReloKind names in lower case). */
export function coreKindName(kind: number): string {
  const name = CoreReloKind[kind];
  return name === undefined ? `kind_${kind}` : name.toLowerCase();
}

/** "CO-RE field_byte_offset task_struct::real_parent" (falls back to the raw record when BTF cannot say more). */
export function describeCoreRelo(relo: CoreRelo, btf: Btf | undefined): string {
  const kind = coreKindName(relo.kind);
  if (btf) {
    try {
      return `CO-RE ${kind} ${specPath(parseCoreSpec(btf, relo))}`;
    } catch {
      // fall through to the raw record
    }
  }
  return `CO-RE ${kind} [${relo.typeId}] ${relo.accessStr}`;
}

/** The data object covering `offset` in section `sectionName`: "min_duration_ns", "counts+4". */
function variableAt(elf: ElfFile | undefined, sectionName: string, offset: number): string | undefined {
  if (!elf) return undefined;
  const section = elf.sections.find((s) => s.name === sectionName);
  if (!section) return undefined;
  let best: string | undefined;
  for (const sym of elf.symbols) {
    if (sym.sectionIndex !== section.index || !sym.name || (sym.type !== STT_OBJECT && sym.type !== STT_NOTYPE)) continue;
    if (offset === sym.value) return sym.name;
    if (offset > sym.value && offset < sym.value + sym.size) best = `${sym.name}+${offset - sym.value}`;
  }
  return best;
}

/** BPF_STX | BPF_ATOMIC | BPF_W with BPF_FETCH set. */
function isFetchingAtomic32(insn: Instruction): boolean {
  return insn.opcode === 0xc3 && (insn.imm & 0x1) !== 0;
}

/** The trailing comments for one instruction (without the leading "; "). */
export function annotationsFor(insn: Instruction, decoded: DecodedInstruction, ctx: AnnotationContext = {}, index?: number): string[] {
  const notes: string[] = [];
  const ref = insn.reference;
  if (ref) {
    switch (ref.kind) {
      case "map":
        notes.push(`map: ${ref.map}`);
        break;
      case "map_value": {
        const section = ctx.mapSections?.get(ref.map) ?? ref.map;
        const variable = variableAt(ctx.elf, section, ref.offset) ?? ref.symbol;
        notes.push(`${section}+${ref.offset}${variable ? ` ${variable}` : ""}`);
        break;
      }
      case "call":
        notes.push(`subprog: ${ref.function}`);
        break;
      case "func_addr":
        notes.push(`func: ${ref.function}`);
        break;
      case "extern":
        notes.push(insn.opcode === CALL ? `kfunc: ${ref.name}` : `extern: ${ref.name}`);
        break;
    }
  } else if (insn.opcode === CALL && insn.src === 0 && insn.imm === CORE_POISON_IMM) {
    notes.push("CO-RE poison: the verifier refuses it if reached, drops it as dead code otherwise");
  } else if (insn.opcode === CALL && insn.src === 0 && decoded.known) {
    const name = helperName(insn.imm);
    notes.push(name ?? `unknown helper ${insn.imm}`);
  } else if (insn.opcode === CALL && insn.src === BPF_PSEUDO_CALL) {
    notes.push("subprog");
  }
  if (insn.coreRelo) notes.push(describeCoreRelo(insn.coreRelo, ctx.btf));
  const answer = index === undefined ? undefined : ctx.coreAnswers?.get(index);
  if (answer) notes.push(coreAnswerNote(answer));
  if (!decoded.known || isFetchingAtomic32(insn)) {
    // llvm-objdump's default subtarget lacks alu32: it cannot decode 32-bit xchg/cmpxchg, and shows a
    // 32-bit fetch-and-op as a plain `lock ... +=`. Say what the instruction is when alu32 knows it.
    const alt = decodeInstruction(insn, undefined, { alu32: true });
    if (alt.known) notes.push(`alu32: ${alt.text}`);
  }
  return notes;
}

/** What a CO-RE relocation became at load: the value as compiled and as patched, or POISONED and why. */
function coreAnswerNote(r: CoreRelocationReport): string {
  if (r.poisoned) return `POISONED at load: ${r.failure ?? r.explanation}`;
  const hexOf = (v: bigint) => `0x${v.toString(16)}`;
  const value = r.targetValue === r.localValue ? `${hexOf(r.localValue)} unchanged` : `${hexOf(r.localValue)} → ${hexOf(r.targetValue!)}`;
  return `loaded: ${value}${r.resized ? `, ${r.resized.from}-byte access → ${r.resized.to}` : ""}`;
}

function sourceKey(li: LineInfo): string {
  return `${li.fileName}:${li.line}`;
}

/** Emits "; <source>" lines when the line changes. */
class SourceTracker {
  private last: string | undefined;
  constructor(private readonly enabled: boolean) {}
  reset(): void {
    this.last = undefined;
  }
  /** The source line that starts at `insn` (trimmed), if a new one does. */
  line(insn: Instruction): string | undefined {
    const li = insn.lineInfo;
    if (!this.enabled || !li) return undefined;
    const key = sourceKey(li);
    if (key === this.last) return undefined;
    this.last = key;
    const text = li.lineText.trim();
    return text || undefined;
  }
}

function line(addr: number, bytes: Uint8Array, text: string, notes: string[], showBytes: boolean): string {
  const body = showBytes ? formatInsnLine(addr, bytes, text) : `${String(Math.floor(addr / INSN_SIZE)).padStart(8)}:\t${text}`;
  return `${body}${notes.length ? `\t; ${notes.join("; ")}` : ""}\n`;
}

/**
 * An annotated listing of one section, laid out exactly as llvm-objdump -d
 * lays it out (same labels, same branch targets). `insnAt` gives the
 * section's instruction objects (with their metadata) by slot.
 */
export function annotateSection(
  elf: ElfFile,
  section: ElfSection,
  insnAt: (slot: number) => Instruction | undefined,
  ctx: AnnotationContext = {},
  opts: SectionAnnotateOptions = {},
): string {
  const source = new SourceTracker(opts.source ?? true);
  let out = "";
  for (const l of sectionListing(elf, section, { insnAt, ...(opts.only ? { only: opts.only } : {}) })) {
    if (l.kind === "label") source.reset();
    if (l.kind !== "insn") {
      out += renderLine(l);
      continue;
    }
    const text = source.line(l.insn);
    if (text !== undefined) out += `; ${text}\n`;
    out += line(l.addr, l.bytes, l.decoded.text + l.target, annotationsFor(l.insn, l.decoded, ctx), opts.bytes ?? true);
  }
  return out;
}

/** Every disassembled section of an object, annotated (`insnAt(section, slot)` supplies metadata). */
export function annotateSections(
  elf: ElfFile,
  insnAt: (section: string, slot: number) => Instruction | undefined,
  ctx: AnnotationContext = {},
  opts: SectionAnnotateOptions = {},
): string {
  let out = "";
  for (const section of elf.sections) {
    if (!isDisassembledSection(section)) continue;
    out += annotateSection(elf, section, (slot) => insnAt(section.name, slot), { elf, ...ctx }, opts);
  }
  return out;
}

/**
 * An annotated listing of an instruction array as the kernel counts it (a
 * linked program: the program followed by its subprograms). Labels come
 * from the instructions' `symbol`; branch targets are named after them.
 */
export function annotateInstructions(insns: readonly Instruction[], ctx: AnnotationContext = {}, opts: AnnotateOptions = {}): string {
  let out = "";
  for (const row of instructionRows(insns, ctx, opts)) {
    if (row.label !== undefined) out += `\n${formatLabel(row.index * INSN_SIZE, row.label)}\n`;
    if (row.source !== undefined) out += `; ${row.source}\n`;
    out += line(row.index * INSN_SIZE, row.bytes, row.text, row.notes, opts.bytes ?? true);
  }
  return out;
}

/** One instruction of a listing, as data: what annotateInstructions prints, and what a report lays out in columns. */
export interface InstructionRow {
  /** Slot of the instruction (an ld_imm64 takes two; the row stands at the first). */
  index: number;
  /** The function that starts here (or "prog" at 0 when no symbol names it). */
  label?: string;
  /** The C source line that starts here (line_info), once per line. */
  source?: string;
  /** llvm-objdump's text, with the branch target's symbol. */
  text: string;
  /** What the instruction refers to and, as loaded, what CO-RE made of it. */
  notes: string[];
  bytes: Uint8Array;
}

/** The listing's rows; branch targets are named after the instructions' `symbol`. */
export function instructionRows(insns: readonly Instruction[], ctx: AnnotationContext = {}, opts: AnnotateOptions = {}): InstructionRow[] {
  const symbols: ListingSymbol[] = [];
  insns.forEach((insn, i) => {
    if (insn.symbol) symbols.push({ name: insn.symbol, addr: i * INSN_SIZE, type: STT_FUNC });
  });
  if (symbols.length === 0 || symbols[0]!.addr !== 0) symbols.unshift({ name: "prog", addr: 0, type: STT_SECTION });
  const source = new SourceTracker(opts.source ?? true);
  const rows: InstructionRow[] = [];
  for (let i = 0; i < insns.length; ) {
    const insn = insns[i]!;
    const row: Partial<InstructionRow> = { index: i };
    if (insn.symbol || i === 0) {
      source.reset();
      row.label = insn.symbol ?? symbols[0]!.name;
    }
    const next = insns[i + 1];
    const decoded = decodeInstruction(insn, next);
    const targetAddr = branchTargetAddress(i * INSN_SIZE, decoded);
    const target = targetAddr === undefined ? "" : symbolizeTarget(symbols, targetAddr);
    const text = source.line(insn);
    if (text !== undefined) row.source = text;
    rows.push({
      ...row,
      index: i,
      text: decoded.text + target,
      notes: annotationsFor(insn, decoded, ctx, i),
      bytes: encodeInstructions(decoded.slots === 2 && next ? [insn, next] : [insn]),
    });
    i += decoded.slots;
  }
  return rows;
}
