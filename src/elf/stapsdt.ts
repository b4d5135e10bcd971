/**
 * SystemTap SDT probes (USDT) as an executable or library describes them:
 * one ELF note per probe site in `.note.stapsdt` (owner "stapsdt", type 3),
 * whose descriptor is three addresses (the probe's NOP, the link-time
 * address of `.stapsdt.base`, the semaphore or 0) followed by three
 * NUL-terminated strings: provider, name, and the argument specification,
 * e.g. "-4@%eax 8@-8(%rbp) -4@$5" (size@location, in the assembler's
 * operand syntax; a negative size is a signed argument).
 * See https://sourceware.org/systemtap/wiki/UserSpaceProbeImplementation.
 *
 * Pure: bytes in, probes and parsed arguments out.
 */
import { ObjectFormatError, UnsupportedError } from "../errors.js";
import { type ElfFile, SHT_NOTE } from "./elf-file.js";

const STAPSDT_NOTE_SECTION = ".note.stapsdt";
const STAPSDT_BASE_SECTION = ".stapsdt.base";
const STAPSDT_OWNER = "stapsdt";
const NT_STAPSDT = 3;

/** e_machine of x86-64 ELF files. */
const EM_X86_64 = 62;

export interface StapsdtNote {
  provider: string;
  name: string;
  /** The argument specification, "" for a probe without arguments. */
  args: string;
  /** Link-time address of the probe's instruction. */
  location: number;
  /** Link-time address of `.stapsdt.base` when the note was made (0: none). */
  base: number;
  /** Link-time address of the probe's 2-byte semaphore (0: none). */
  semaphore: number;
}

/** Every SDT probe site in the file's `.note.stapsdt` section ([] when there is none). */
export function readStapsdtNotes(elf: ElfFile): StapsdtNote[] {
  const section = elf.section(STAPSDT_NOTE_SECTION);
  if (!section) return [];
  const where = `section ${STAPSDT_NOTE_SECTION}`;
  if (section.type !== SHT_NOTE) throw new ObjectFormatError(where, 0, `type is ${section.type}, not SHT_NOTE (7)`);
  const data = section.data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // Name and descriptor are padded to the section's alignment (4, or 8 for 8-aligned note sections).
  const align = section.addralign === 8 ? 8 : 4;
  const pad = (n: number) => (n + align - 1) & ~(align - 1);
  const notes: StapsdtNote[] = [];
  for (let off = 0; off + 12 <= data.byteLength; ) {
    const namesz = view.getUint32(off, true);
    const descsz = view.getUint32(off + 4, true);
    const type = view.getUint32(off + 8, true);
    const nameAt = off + 12;
    const descAt = nameAt + pad(namesz);
    const next = descAt + pad(descsz);
    if (descAt + descsz > data.byteLength) {
      throw new ObjectFormatError(where, off, `note of ${namesz}+${descsz} bytes runs past the end of the section`);
    }
    const owner = cString(data.subarray(nameAt, nameAt + namesz));
    if (owner === STAPSDT_OWNER && type === NT_STAPSDT) {
      notes.push(parseNote(data.subarray(descAt, descAt + descsz), where, off));
    }
    off = next;
  }
  return notes;
}

function parseNote(desc: Uint8Array, where: string, at: number): StapsdtNote {
  // Three addresses, then provider, name and arguments: at least three NULs.
  if (desc.byteLength < 24 + 3) throw new ObjectFormatError(where, at, `SDT note descriptor is ${desc.byteLength} bytes, too short`);
  const view = new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
  const address = (i: number) => {
    const v = view.getBigUint64(i * 8, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ObjectFormatError(where, at, `SDT note address 0x${v.toString(16)} is too large`);
    return Number(v);
  };
  const strings: string[] = [];
  let pos = 24;
  for (let i = 0; i < 3; i++) {
    const end = desc.indexOf(0, pos);
    if (end < 0) {
      // libbpf accepts a missing arguments string only as the empty one; a missing name is an error.
      if (i === 2 && pos === desc.byteLength) break;
      throw new ObjectFormatError(where, at, "SDT note strings are not NUL-terminated");
    }
    strings.push(new TextDecoder().decode(desc.subarray(pos, end)));
    pos = end + 1;
  }
  const [provider = "", name = "", args = ""] = strings;
  if (!name) throw new ObjectFormatError(where, at, `SDT note of provider ${JSON.stringify(provider)} has no probe name`);
  return {
    provider,
    name,
    // Some producers append ":..." metadata; libbpf treats it, like "", as no arguments.
    args: args.startsWith(":") ? "" : args,
    location: address(0),
    base: address(1),
    semaphore: address(2),
  };
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? bytes.subarray(0, end) : bytes);
}

/**
 * The probe's address in this file: prelink moves `.stapsdt.base` (and the
 * code) but cannot rewrite the unallocated notes, so the note's address is
 * shifted by how far the section moved since the note was made.
 */
export function probeAddress(elf: ElfFile, note: StapsdtNote): number {
  const base = elf.section(STAPSDT_BASE_SECTION)?.addr ?? 0;
  return base && note.base ? note.location + base - note.base : note.location;
}

// ---- argument specifications --------------------------------------------------

/** Where a USDT argument's value is found when the probe fires. */
export type UsdtArgLocation =
  /** "$5": the constant itself. */
  | { kind: "const"; value: bigint }
  /** "%eax": a register (read as the full register, then narrowed to the size). */
  | { kind: "reg"; reg: string }
  /** "-8(%rbp)" or "(%rsp)": memory at register + offset. */
  | { kind: "deref"; reg: string; offset: bigint }
  /** "-96(%rbp,%rax,8)": memory at base + index * scale + offset. */
  | { kind: "sib"; reg: string; indexReg: string; scale: 1 | 2 | 4 | 8; offset: bigint };

export interface UsdtArg {
  /** Size in bytes. */
  size: 1 | 2 | 4 | 8;
  signed: boolean;
  location: UsdtArgLocation;
  /** The argument's text, as written in the note. */
  text: string;
}

const NUM = String.raw`([-+]?\d+)`;
const REG = "%([A-Za-z0-9]+)";
const S = String.raw`\s*`;
/**
 * x86 AT&T operands, in the order libbpf tries them (SIB forms first, as a
 * plain "(%reg)" pattern would also match their prefix).
 */
const X86_FORMS: Array<[RegExp, (m: RegExpExecArray) => UsdtArgLocation]> = [
  [
    new RegExp(`${S}${NUM}${S}@${S}${NUM}?${S}\\(${S}${REG}${S},${S}${REG}${S}(?:,${S}${NUM}${S})?\\)${S}`, "y"),
    (m) => ({ kind: "sib", reg: m[3]!, indexReg: m[4]!, scale: scaleOf(m[5] ?? "1"), offset: BigInt(m[2] ?? "0") }),
  ],
  [
    new RegExp(`${S}${NUM}${S}@${S}${NUM}?${S}\\(${S}${REG}${S}\\)${S}`, "y"),
    (m) => ({ kind: "deref", reg: m[3]!, offset: BigInt(m[2] ?? "0") }),
  ],
  [new RegExp(`${S}${NUM}${S}@${S}${REG}(?:\\s+|$)`, "y"), (m) => ({ kind: "reg", reg: m[2]! })],
  [new RegExp(`${S}${NUM}${S}@${S}\\$${NUM}(?:\\s+|$)`, "y"), (m) => ({ kind: "const", value: BigInt(m[2]!) })],
];

function scaleOf(text: string): 1 | 2 | 4 | 8 {
  const n = Number(text);
  if (n === 1 || n === 2 || n === 4 || n === 8) return n;
  throw new UnsupportedError(`scale ${text} of an indexed USDT argument is not 1, 2, 4 or 8`);
}

/**
 * Parses a probe's argument specification. Only x86-64 notes are
 * understood (each architecture writes operands in its own assembler
 * syntax). Throws UnsupportedError naming the argument that is not
 * understood: other operand forms (e.g. a symbol's address,
 * "4@counter(%rip)") cannot be read by usdt.bpf.h, as with libbpf.
 */
export function parseUsdtArgs(args: string, machine: number = EM_X86_64): UsdtArg[] {
  if (machine !== EM_X86_64) {
    throw new UnsupportedError(`USDT arguments of ELF machine ${machine} are not supported; tsbpf reads x86-64 (EM_X86_64) probes`);
  }
  const out: UsdtArg[] = [];
  let pos = 0;
  while (pos < args.length && /\S/.test(args.slice(pos))) {
    let parsed: UsdtArg | undefined;
    for (const [re, make] of X86_FORMS) {
      re.lastIndex = pos;
      const m = re.exec(args);
      if (!m) continue;
      const sized = Number(m[1]);
      const size = Math.abs(sized);
      if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
        throw new UnsupportedError(`USDT argument #${out.length} "${m[0].trim()}" has size ${sized}; sizes are 1, 2, 4 or 8 bytes`);
      }
      parsed = { size, signed: sized < 0, location: make(m), text: m[0].trim() };
      pos = re.lastIndex;
      break;
    }
    if (!parsed) {
      const text = args.slice(pos).trim().split(/\s+/)[0] ?? "";
      throw new UnsupportedError(
        `USDT argument #${out.length} "${text}" is not a form tsbpf reads (a constant "N@$V", a register "N@%reg", ` +
          `or memory "N@OFF(%reg)" / "N@OFF(%base,%index,SCALE)")`,
      );
    }
    out.push(parsed);
  }
  return out;
}
