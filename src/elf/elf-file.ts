/**
 * A small ELF64 little-endian reader: exactly what a clang-built `.bpf.o`
 * needs (section headers and names, section bytes, the symbol table, SHT_REL
 * entries). Every offset and count read from the file is checked against the
 * file's size before it is used, so a malformed object ends in an
 * ObjectFormatError naming the part and offset, never in a RangeError.
 */
import { ObjectFormatError } from "../errors.js";

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export const STV_DEFAULT = 0;
export const STV_HIDDEN = 2;

export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;

/** e_type of relocatable objects (what clang -c produces). */
export const ET_REL = 1;

/** e_machine of BPF objects. */
export const EM_BPF = 247;

const ELF_HEADER_SIZE = 64;
const SECTION_HEADER_SIZE = 64;
const SYMBOL_SIZE = 24;
const REL_SIZE = 16;
/** Largest SHT_NOBITS section (.bss) read: 256 MiB. */
const MAX_NOBITS_SIZE = 1 << 28;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  /** File offset of the section's bytes (meaningless for SHT_NOBITS). */
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /**
   * The section's bytes: a view into the file, or zeros for SHT_NOBITS
   * (`.bss` has no bytes in the file; its size is still real).
   */
  data: Uint8Array;
}

export interface ElfSymbol {
  index: number;
  name: string;
  value: number;
  size: number;
  /** STT_* */
  type: number;
  /** STB_* */
  bind: number;
  /** STV_* */
  visibility: number;
  /** Section index (st_shndx); SHN_UNDEF for externs. */
  sectionIndex: number;
}

export interface ElfRelocation {
  /** Byte offset inside the target section. */
  offset: number;
  /** Index into the symbol table. */
  symbolIndex: number;
  /** R_BPF_* type. */
  type: number;
}

export interface ElfRelocationSection {
  /** The SHT_REL section itself. */
  section: ElfSection;
  /** Index of the section the relocations apply to (sh_info). */
  targetIndex: number;
  entries: ElfRelocation[];
}

/** A parsed ELF64 file. Construction validates everything it reads. */
export class ElfFile {
  readonly sections: ElfSection[];
  readonly symbols: ElfSymbol[];
  readonly relocations: ElfRelocationSection[];
  readonly machine: number;
  readonly type: number;

  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < ELF_HEADER_SIZE) {
      throw new ObjectFormatError("ELF header", 0, `file is ${bytes.byteLength} bytes, shorter than the 64-byte ELF64 header`);
    }
    if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
      throw new ObjectFormatError("ELF header", 0, "not an ELF file (bad magic)");
    }
    if (bytes[4] !== 2) throw new ObjectFormatError("ELF header", 4, "not a 64-bit ELF (EI_CLASS is not ELFCLASS64)");
    if (bytes[5] !== 1) throw new ObjectFormatError("ELF header", 5, "not little-endian (EI_DATA is not ELFDATA2LSB)");
    this.type = this.view.getUint16(16, true);
    this.machine = this.view.getUint16(18, true);
    this.sections = this.readSections();
    this.symbols = this.readSymbols();
    this.relocations = this.readRelocations();
  }

  /** The first section with this name, if any. */
  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** Throws unless this is a BPF relocatable object (e_machine EM_BPF, ET_REL, with sections). */
  assertBpf(): void {
    if (this.machine !== EM_BPF) {
      throw new ObjectFormatError(
        "ELF header",
        18,
        `e_machine is ${this.machine}, not EM_BPF (247): this is not a BPF object (was it built with -target bpf?)`,
      );
    }
    if (this.type !== ET_REL) {
      throw new ObjectFormatError("ELF header", 16, `e_type is ${this.type}, not ET_REL (1): BPF objects are relocatable files`);
    }
    if (this.sections.length === 0) {
      throw new ObjectFormatError("ELF header", 40, "no section header table (e_shoff is 0): nothing to load");
    }
  }

  private u64(off: number, where: string): number {
    const v = this.view.getBigUint64(off, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ObjectFormatError(where, off, `value ${v} is too large`);
    return Number(v);
  }

  private checkRange(where: string, at: number, off: number, size: number): void {
    if (off < 0 || size < 0 || off + size > this.bytes.byteLength) {
      throw new ObjectFormatError(where, at, `range [${off}, ${off + size}) lies outside the ${this.bytes.byteLength}-byte file`);
    }
  }

  private readSections(): ElfSection[] {
    const shoff = this.u64(40, "ELF header e_shoff");
    const shentsize = this.view.getUint16(58, true);
    let shnum = this.view.getUint16(60, true);
    let shstrndx = this.view.getUint16(62, true);
    if (shoff === 0) return [];
    if (shentsize !== SECTION_HEADER_SIZE) {
      throw new ObjectFormatError("ELF header", 58, `e_shentsize is ${shentsize}, expected ${SECTION_HEADER_SIZE}`);
    }
    this.checkRange("section header table", 40, shoff, SECTION_HEADER_SIZE);
    // Extended numbering: counts that do not fit 16 bits live in section 0.
    if (shnum === 0) shnum = this.u64(shoff + 32, "section 0 sh_size");
    if (shstrndx === 0xffff) shstrndx = this.view.getUint32(shoff + 40, true);
    this.checkRange("section header table", 40, shoff, shnum * SECTION_HEADER_SIZE);

    const raw = [];
    for (let i = 0; i < shnum; i++) {
      const h = shoff + i * SECTION_HEADER_SIZE;
      const where = `section header #${i}`;
      raw.push({
        nameOff: this.view.getUint32(h, true),
        type: this.view.getUint32(h + 4, true),
        flags: this.view.getBigUint64(h + 8, true),
        offset: this.u64(h + 24, where),
        size: this.u64(h + 32, where),
        link: this.view.getUint32(h + 40, true),
        info: this.view.getUint32(h + 44, true),
        addralign: this.u64(h + 48, where),
        entsize: this.u64(h + 56, where),
        header: h,
      });
    }
    if (shstrndx >= raw.length) {
      throw new ObjectFormatError("ELF header", 62, `e_shstrndx ${shstrndx} is not a section (there are ${raw.length})`);
    }
    const names = raw[shstrndx]!;
    this.checkRange(`section header #${shstrndx} (section names)`, names.header + 24, names.offset, names.size);
    const nameBytes = this.bytes.subarray(names.offset, names.offset + names.size);

    return raw.map((r, index) => {
      const name = readCString(nameBytes, r.nameOff, `section header #${index} name`, r.header);
      let data: Uint8Array;
      if (r.type === SHT_NOBITS || r.type === SHT_NULL) {
        // Never hand out the next section's bytes as .bss contents.
        // The zeros are allocated (and copied again as a map's initial value): a 2 KB file must not
        // cost gigabytes and seconds. No kernel takes a map value this large (array maps stop at
        // KMALLOC_MAX_SIZE, 4 MiB on x86-64).
        if (r.size > MAX_NOBITS_SIZE) {
          throw new ObjectFormatError(
            `section ${name}`,
            r.header + 32,
            `SHT_NOBITS size ${r.size} is absurd (more than ${MAX_NOBITS_SIZE} bytes)`,
          );
        }
        data = new Uint8Array(r.type === SHT_NULL ? 0 : r.size);
      } else {
        this.checkRange(`section ${name}`, r.header + 24, r.offset, r.size);
        data = this.bytes.subarray(r.offset, r.offset + r.size);
      }
      return {
        index,
        name,
        type: r.type,
        flags: r.flags,
        offset: r.offset,
        size: r.size,
        link: r.link,
        info: r.info,
        addralign: r.addralign,
        entsize: r.entsize,
        data,
      };
    });
  }

  private readSymbols(): ElfSymbol[] {
    const symtab = this.sections.find((s) => s.type === SHT_SYMTAB);
    if (!symtab) return [];
    const where = `section ${symtab.name}`;
    if (symtab.entsize !== SYMBOL_SIZE) {
      throw new ObjectFormatError(where, 0, `sh_entsize is ${symtab.entsize}, expected ${SYMBOL_SIZE}`);
    }
    if (symtab.size % SYMBOL_SIZE !== 0) {
      throw new ObjectFormatError(where, 0, `size ${symtab.size} is not a multiple of ${SYMBOL_SIZE}`);
    }
    const strtab = this.sections[symtab.link];
    if (!strtab || strtab.type !== SHT_STRTAB) {
      throw new ObjectFormatError(where, 0, `sh_link ${symtab.link} is not a string table`);
    }
    const d = new DataView(symtab.data.buffer, symtab.data.byteOffset, symtab.data.byteLength);
    const out: ElfSymbol[] = [];
    for (let i = 0, off = 0; off < symtab.size; i++, off += SYMBOL_SIZE) {
      const info = d.getUint8(off + 4);
      const value = d.getBigUint64(off + 8, true);
      const size = d.getBigUint64(off + 16, true);
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || size > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new ObjectFormatError(where, off + 8, `symbol #${i} has an out-of-range value or size`);
      }
      out.push({
        index: i,
        name: readCString(strtab.data, d.getUint32(off, true), `${where} symbol #${i} name`, off),
        type: info & 0xf,
        bind: info >> 4,
        visibility: d.getUint8(off + 5) & 0x3,
        sectionIndex: d.getUint16(off + 6, true),
        value: Number(value),
        size: Number(size),
      });
    }
    return out;
  }

  private readRelocations(): ElfRelocationSection[] {
    const out: ElfRelocationSection[] = [];
    for (const section of this.sections) {
      if (section.type === SHT_RELA) {
        // Host objects use RELA; let assertBpf() say what is really wrong.
        if (this.machine !== EM_BPF) continue;
        throw new ObjectFormatError(`section ${section.name}`, 0, "SHT_RELA relocations are not used by BPF objects");
      }
      if (section.type !== SHT_REL) continue;
      const where = `section ${section.name}`;
      if (section.size % REL_SIZE !== 0) {
        throw new ObjectFormatError(where, 0, `size ${section.size} is not a multiple of ${REL_SIZE}`);
      }
      if (section.info >= this.sections.length) {
        throw new ObjectFormatError(where, 0, `sh_info ${section.info} is not a section`);
      }
      const d = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
      const entries: ElfRelocation[] = [];
      for (let off = 0; off < section.size; off += REL_SIZE) {
        const offset = d.getBigUint64(off, true);
        const info = d.getBigUint64(off + 8, true);
        const symbolIndex = Number(info >> 32n);
        if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new ObjectFormatError(where, off, `r_offset ${offset} is too large`);
        if (symbolIndex >= this.symbols.length) {
          throw new ObjectFormatError(
            where,
            off + 8,
            `symbol index ${symbolIndex} is outside the symbol table (${this.symbols.length} symbols)`,
          );
        }
        entries.push({ offset: Number(offset), symbolIndex, type: Number(info & 0xffffffffn) });
      }
      out.push({ section, targetIndex: section.info, entries });
    }
    return out;
  }
}

const decoder = new TextDecoder();

/** A NUL-terminated string at `off` in a string table, bounds-checked. */
export function readCString(table: Uint8Array, off: number, where: string, at: number): string {
  if (off >= table.byteLength) {
    if (off === 0) return "";
    throw new ObjectFormatError(where, at, `string offset ${off} is outside the ${table.byteLength}-byte string table`);
  }
  const end = table.indexOf(0, off);
  if (end < 0) throw new ObjectFormatError(where, at, `string at offset ${off} is not NUL-terminated`);
  return decoder.decode(table.subarray(off, end));
}
