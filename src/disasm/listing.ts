/**
 * The listing `llvm-objdump -d` prints for a BPF object, reproduced line for
 * line: every non-empty executable section, a label for each function symbol
 * (or the section's name when nothing starts at offset 0), one line per
 * instruction with its slot index and raw bytes, and branch targets named
 * after the nearest symbol at or before them (`goto +0x3 <handle_exec+0x58>`).
 *
 * The walk is exposed as `ListingLine`s so that the annotated listing can
 * add comments to the same lines.
 */
import {
  type ElfFile,
  type ElfSection,
  type ElfSymbol,
  SHF_EXECINSTR,
  SHT_NOBITS,
  STT_FILE,
  STT_FUNC,
  STT_OBJECT,
  STT_SECTION,
} from "../elf/elf-file.js";
import { INSN_SIZE, type Instruction } from "../insn/insn.js";
import { type DecodedInstruction, type DisasmOptions, UNKNOWN, decodeInstruction } from "./decode.js";

/** A symbol as llvm-objdump orders and prints them. */
export interface ListingSymbol {
  name: string;
  /** Byte offset in the section. */
  addr: number;
  /** STT_*; the dummy section symbol counts as STT_FUNC. */
  type: number;
  /** The ELF symbol, absent for the dummy that names the section. */
  elf?: ElfSymbol;
}

export type ListingLine =
  | { kind: "section"; section: ElfSection }
  | { kind: "label"; section: ElfSection; symbol: ListingSymbol }
  /** A run of 8 or more zero bytes that llvm-objdump skips, printing "\t\t...". */
  | { kind: "zeros"; section: ElfSection; addr: number; length: number }
  /** Up to 8 bytes of a range labelled only by data symbols (STT_OBJECT), dumped as hex and ASCII. */
  | { kind: "data"; section: ElfSection; addr: number; bytes: Uint8Array }
  | {
      kind: "insn";
      section: ElfSection;
      /** Byte offset in the section. */
      addr: number;
      /** The bytes llvm-objdump shows on this line (8, or 16 for ld_imm64). */
      bytes: Uint8Array;
      insn: Instruction;
      decoded: DecodedInstruction;
      /** The branch target " <sym+0x..>" suffix, or "". */
      target: string;
      /** The symbol whose range holds this instruction. */
      symbol: ListingSymbol;
    };

function compareBytes(a: string, b: string): number {
  // std::string / StringRef ordering: bytewise on UTF-8.
  const ab = Buffer.from(a, "utf8");
  const bb = Buffer.from(b, "utf8");
  return Buffer.compare(ab, bb);
}

/** llvm-objdump's order: address, then name, then type; the last at an address is the one printed. */
function compareSymbols(a: ListingSymbol, b: ListingSymbol): number {
  return a.addr - b.addr || compareBytes(a.name, b.name) || a.type - b.type;
}

/** Sections llvm-objdump -d disassembles: executable, with bytes in the file, not empty. */
export function isDisassembledSection(s: ElfSection): boolean {
  return (s.flags & BigInt(SHF_EXECINSTR)) !== 0n && s.type !== SHT_NOBITS && s.size > 0;
}

/** The symbols of one section, sorted as llvm-objdump sorts them, with its dummy section symbol when needed. */
export function sectionSymbols(elf: ElfFile, section: ElfSection): ListingSymbol[] {
  const list: ListingSymbol[] = elf.symbols
    .filter((s) => s.index !== 0 && s.sectionIndex === section.index && s.type !== STT_SECTION && s.type !== STT_FILE)
    .map((s) => ({ name: s.name, addr: s.value, type: s.type, elf: s }));
  list.sort(compareSymbols);
  if (list.length === 0 || list[0]!.addr !== 0) {
    const dummy: ListingSymbol = { name: section.name, addr: 0, type: STT_FUNC };
    let at = 0;
    while (at < list.length && compareSymbols(list[at]!, dummy) < 0) at++;
    list.splice(at, 0, dummy);
  }
  return list;
}

/** STT_COMMON: like STT_OBJECT, data rather than code. */
const STT_COMMON = 5;

const U64 = (1n << 64n) - 1n;

/** " <name+0x10>" for a branch to byte address `target` (uint64 arithmetic, as llvm-objdump does). */
export function symbolizeTarget(symbols: readonly ListingSymbol[], target: bigint): string {
  let found: ListingSymbol | undefined;
  for (const s of symbols) {
    if (BigInt(s.addr) <= target) found = s;
    else break;
  }
  if (!found) return "";
  const disp = (target - BigInt(found.addr)) & U64;
  return disp === 0n ? ` <${found.name}>` : ` <${found.name}+0x${disp.toString(16)}>`;
}

/** The branch target's byte address (uint64) for an instruction at `addr`, or undefined if not a branch. */
export function branchTargetAddress(addr: number, decoded: DecodedInstruction): bigint | undefined {
  if (decoded.jump === undefined) return undefined;
  return (BigInt(addr) + BigInt(INSN_SIZE) + BigInt(decoded.jump) * BigInt(INSN_SIZE)) & U64;
}

const NO_SLOT: Instruction = { opcode: 0, dst: 0, src: 0, off: 0, imm: 0 };

function readSlot(data: Uint8Array, at: number): Instruction | undefined {
  if (at + INSN_SIZE > data.byteLength) return undefined;
  const view = new DataView(data.buffer, data.byteOffset + at, INSN_SIZE);
  const regs = view.getUint8(1);
  return { opcode: view.getUint8(0), dst: regs & 0x0f, src: regs >> 4, off: view.getInt16(2, true), imm: view.getInt32(4, true) };
}

export interface SectionListingOptions extends DisasmOptions {
  /** Metadata for the instruction at a slot (see sectionListing). */
  insnAt?: (slot: number) => Instruction | undefined;
  /** Only ranges starting at one of these symbols, as llvm-objdump --disassemble-symbols=... does. */
  only?: ReadonlySet<string>;
}

/**
 * Walks one section as llvm-objdump does. `insnAt` may supply the
 * instruction object for a slot, whose metadata (reference, CO-RE, line
 * info) is copied onto the instruction decoded from the bytes.
 */
export function* sectionListing(elf: ElfFile, section: ElfSection, opts: SectionListingOptions = {}): Generator<ListingLine> {
  const symbols = sectionSymbols(elf, section);
  const data = section.data;
  let printedSection = false;
  for (let si = 0; si < symbols.length; ) {
    const first = si;
    const start = symbols[si]!.addr;
    while (si < symbols.length && symbols[si]!.addr === start) si++;
    // The label is the last symbol here that is not data; a range with only data symbols is dumped as data.
    let display = si - 1;
    let asData = true;
    for (let i = first; i < si; i++) {
      if (symbols[i]!.type !== STT_OBJECT && symbols[i]!.type !== STT_COMMON) {
        asData = false;
        display = i;
      }
    }
    const symbol = symbols[display]!;
    if (opts.only && !symbols.slice(first, si).some((s) => opts.only!.has(s.name))) continue;
    let end = section.size;
    if (si < symbols.length) end = Math.min(end, symbols[si]!.addr);
    if (start >= end) continue;
    if (!printedSection) {
      printedSection = true;
      yield { kind: "section", section };
    }
    if (opts.only) {
      // --disassemble-symbols prints every requested symbol at this address.
      for (const s of symbols.slice(first, si)) if (opts.only.has(s.name)) yield { kind: "label", section, symbol: s };
    } else {
      yield { kind: "label", section, symbol };
    }
    if (asData) {
      for (let addr = start; addr < end; addr += 8)
        yield { kind: "data", section, addr, bytes: data.subarray(addr, Math.min(end, addr + 8)) };
      continue;
    }
    for (let addr = start; addr < end; ) {
      let zeros = 0;
      while (addr + zeros < end && data[addr + zeros] === 0) zeros++;
      if (zeros >= 8) {
        // llvm-objdump skips runs of zero bytes (in multiples of 4, so as not to cut an instruction short).
        yield { kind: "zeros", section, addr, length: zeros & ~3 };
        addr += zeros & ~3;
        continue;
      }
      const slot = addr % INSN_SIZE === 0 ? addr / INSN_SIZE : -1;
      const raw = readSlot(data, addr);
      if (!raw) {
        // Fewer than 8 bytes left: LLVM cannot read an instruction; objdump skips one byte.
        yield {
          kind: "insn",
          section,
          addr,
          bytes: data.subarray(addr, addr + 1),
          insn: { opcode: data[addr]!, dst: 0, src: 0, off: 0, imm: 0 },
          decoded: { text: UNKNOWN, slots: 1, known: false },
          target: "",
          symbol,
        };
        addr += 1;
        continue;
      }
      // The text always comes from the bytes; `insnAt` only contributes metadata.
      const meta = slot >= 0 ? opts.insnAt?.(slot) : undefined;
      const insn: Instruction = meta ? { ...meta, ...raw } : raw;
      const next = readSlot(data, addr + INSN_SIZE);
      const decoded = decodeInstruction(insn, next, opts);
      let size = decoded.slots * INSN_SIZE;
      // An ld_imm64 short of its second slot: LLVM reports no size at all, and llvm-objdump skips one byte.
      if (!next && decodeInstruction(insn, NO_SLOT, opts).slots === 2) size = 1;
      const targetAddr = branchTargetAddress(addr, decoded);
      const target = targetAddr === undefined ? "" : symbolizeTarget(symbols, targetAddr);
      yield { kind: "insn", section, addr, bytes: data.subarray(addr, addr + size), insn, decoded, target, symbol };
      addr += size;
    }
  }
}

function hexBytes(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (i ? " " : "") + bytes[i]!.toString(16).padStart(2, "0");
  return s;
}

/** "      12:\t18 01 ...\tr1 = 0x0 ll" — the index is the byte address / 8, as llvm-objdump prints BPF. */
export function formatInsnLine(addr: number, bytes: Uint8Array, text: string): string {
  return `${String(Math.floor(addr / INSN_SIZE)).padStart(8)}:\t${hexBytes(bytes)}\t${text}`;
}

export function formatLabel(addr: number, name: string): string {
  return `${addr.toString(16).padStart(16, "0")} <${name}>:`;
}

/** Renders listing lines as llvm-objdump does (each line ends with "\n"; blank lines before headers and labels). */
export function renderLine(line: ListingLine): string {
  switch (line.kind) {
    case "section":
      return `\nDisassembly of section ${line.section.name}:\n`;
    case "label":
      return `\n${formatLabel(line.symbol.addr, line.symbol.name)}\n`;
    case "insn":
      return formatInsnLine(line.addr, line.bytes, line.decoded.text + line.target) + "\n";
    case "zeros":
      return "\t\t...\n";
    case "data":
      return formatDataLine(line.addr, line.bytes) + "\n";
  }
}

/** llvm-objdump's dump of data in a code section: "      3a: 68 65 6c 6c 6f 2c 20 77         hello, w". */
export function formatDataLine(addr: number, bytes: Uint8Array): string {
  let hexPart = "";
  let ascii = "";
  for (const b of bytes) {
    hexPart += ` ${b.toString(16).padStart(2, "0")}`;
    ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
  }
  return `${addr.toString(16).padStart(8)}:${hexPart}${" ".repeat(3 * (8 - bytes.length) + 9)}${ascii}`;
}

export interface ObjdumpOptions extends DisasmOptions {
  /** The file name for the header line (llvm-objdump prints the path it was given). */
  path?: string;
  /** Only these symbols, as `llvm-objdump -d --disassemble-symbols=a,b` prints them. */
  symbols?: readonly string[];
}

/** Exactly `llvm-objdump-19 -d <path>`'s output for this object. */
export function objdumpListing(elf: ElfFile, opts: ObjdumpOptions = {}): string {
  let out = `\n${opts.path ?? "a.o"}:\tfile format elf64-bpf\n`;
  for (const section of elf.sections) {
    if (!isDisassembledSection(section)) continue;
    const only = opts.symbols ? new Set(opts.symbols) : undefined;
    for (const line of sectionListing(elf, section, { ...opts, ...(only ? { only } : {}) })) out += renderLine(line);
  }
  return out;
}
