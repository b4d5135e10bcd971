/**
 * A small ELF64 little-endian reader: what a clang-built `.bpf.o` needs
 * (section headers and names, section bytes, the symbol table, SHT_REL
 * entries), and, read on demand, what a uprobe needs of an executable or
 * shared library (program headers, the dynamic symbol table, DT_NEEDED,
 * virtual address → file offset). Every offset and count read from the
 * file is checked against the file's size before it is used, so a malformed
 * file ends in an ObjectFormatError naming the part and offset, never in a
 * RangeError.
 */
import { ObjectFormatError } from "../errors.js";

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNAMIC = 6;
export const SHT_DYNSYM = 11;
export const SHT_GNU_VERDEF = 0x6ffffffd;
export const SHT_GNU_VERNEED = 0x6ffffffe;
export const SHT_GNU_VERSYM = 0x6fffffff;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
/** A GNU indirect function: the symbol is the resolver that picks an implementation at load time. */
export const STT_GNU_IFUNC = 10;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;

export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;

/** e_type of relocatable objects (what clang -c produces). */
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;

export const PT_LOAD = 1;
export const PF_X = 1;

/** e_machine of BPF objects. */
export const EM_BPF = 247;

const ELF_HEADER_SIZE = 64;
const SECTION_HEADER_SIZE = 64;
const SYMBOL_SIZE = 24;
const REL_SIZE = 16;
const PROGRAM_HEADER_SIZE = 56;
const DYNAMIC_ENTRY_SIZE = 16;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
/**
 * Default for ElfReadOptions.maxZeroFillSize: 1 GiB. A zero-filled section
 * (.bss) costs nothing to parse or inspect (its zeros are never allocated
 * unless read), but loading creates an array map of that size in the kernel,
 * which accepts values up to INT_MAX bytes (6.18 creates a 1 GiB one). A
 * tiny hostile file must not make a load ask for gigabytes by default.
 */
export const DEFAULT_MAX_ZERO_FILL_SIZE = 1 << 30;

export interface ElfReadOptions {
  /** Largest SHT_NOBITS section accepted, in bytes (default DEFAULT_MAX_ZERO_FILL_SIZE). */
  maxZeroFillSize?: number;
}

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  /** Virtual address of the section in a loaded executable or library (sh_addr; 0 in a .bpf.o). */
  addr: number;
  /** File offset of the section's bytes (meaningless for SHT_NOBITS). */
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /**
   * The section's bytes: a view into the file, or zeros for SHT_NOBITS
   * (`.bss` has no bytes in the file; its size is still real). Those zeros
   * are allocated only when `data` is first read: code that needs only the
   * size must use `size`.
   */
  readonly data: Uint8Array;
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

/** A program header (segment) of an executable or shared library. */
export interface ProgramHeader {
  /** PT_* */
  type: number;
  /** PF_X | PF_W | PF_R */
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
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
  private programHeaderCache: ProgramHeader[] | undefined;
  private dynamicSymbolCache: ElfSymbol[] | undefined;
  private neededCache: string[] | undefined;

  private readonly maxZeroFillSize: number;

  constructor(
    readonly bytes: Uint8Array,
    opts: ElfReadOptions = {},
  ) {
    this.maxZeroFillSize = opts.maxZeroFillSize ?? DEFAULT_MAX_ZERO_FILL_SIZE;
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

  /** The program header table (e_phoff, e_phentsize, e_phnum); empty for a relocatable object. */
  get programHeaders(): ProgramHeader[] {
    this.programHeaderCache ??= this.readProgramHeaders();
    return this.programHeaderCache;
  }

  /** The SHT_DYNSYM table (the symbols an executable or library exports and imports), if any. */
  get dynamicSymbols(): ElfSymbol[] {
    const dynsym = this.sections.find((s) => s.type === SHT_DYNSYM);
    this.dynamicSymbolCache ??= dynsym ? this.readSymbolTable(dynsym) : [];
    return this.dynamicSymbolCache;
  }

  /** DT_NEEDED entries of the dynamic section: the libraries this file links against. */
  get neededLibraries(): string[] {
    this.neededCache ??= this.readNeeded();
    return this.neededCache;
  }

  /**
   * The file offset of virtual address `vaddr`, through the PT_LOAD segment
   * containing it (offset = vaddr - p_vaddr + p_offset: right for PIE and
   * non-PIE executables and shared libraries alike); for files without
   * program headers, through the section `sectionIndex` (st_value - sh_addr
   * + sh_offset), as libbpf does.
   */
  fileOffset(vaddr: number, sectionIndex?: number): number {
    const hex = (n: number): string => `0x${n.toString(16)}`;
    const loads = this.programHeaders.filter((p) => p.type === PT_LOAD);
    if (loads.length > 0) {
      for (const p of loads) {
        if (vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz) return vaddr - p.vaddr + p.offset;
      }
      const inMemory = loads.find((p) => vaddr >= p.vaddr && vaddr < p.vaddr + p.memsz);
      throw new ObjectFormatError(
        "program headers",
        0,
        inMemory
          ? `address ${hex(vaddr)} lies in the zero-filled part of a segment (like .bss): it has no bytes in the file`
          : `address ${hex(vaddr)} is in no PT_LOAD segment`,
      );
    }
    const section = sectionIndex !== undefined ? this.sections[sectionIndex] : undefined;
    if (!section) throw new ObjectFormatError("program headers", 0, `no program headers, and address ${hex(vaddr)} names no section`);
    if (!Number.isSafeInteger(section.addr))
      throw new ObjectFormatError(`section ${section.name}`, 0, `sh_addr ${section.addr} is too large`);
    return vaddr - section.addr + section.offset;
  }

  /** The string table a section's sh_link names (for symbol, version and dynamic sections). */
  linkedStrings(section: ElfSection): Uint8Array {
    const strtab = this.sections[section.link];
    if (!strtab || strtab.type !== SHT_STRTAB) {
      throw new ObjectFormatError(`section ${section.name}`, 0, `sh_link ${section.link} is not a string table`);
    }
    return strtab.data;
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
        // Only host binaries' section addresses are used (fileOffset checks them); a .bpf.o's may be anything.
        addr: Number(this.view.getBigUint64(h + 16, true)),
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
      const header = {
        index,
        name,
        type: r.type,
        flags: r.flags,
        addr: r.addr,
        offset: r.offset,
        size: r.size,
        link: r.link,
        info: r.info,
        addralign: r.addralign,
        entsize: r.entsize,
      };
      if (r.type === SHT_NULL) return { ...header, data: new Uint8Array(0) };
      if (r.type === SHT_NOBITS) {
        if (r.size > this.maxZeroFillSize) {
          throw new ObjectFormatError(
            `section ${name}`,
            r.header + 32,
            `SHT_NOBITS size ${r.size} is larger than the ${this.maxZeroFillSize}-byte limit (the maxZeroFillSize option)`,
          );
        }
        // Never the next section's bytes; zeros, allocated on first read only.
        return zeroFilled(header);
      }
      this.checkRange(`section ${name}`, r.header + 24, r.offset, r.size);
      return { ...header, data: this.bytes.subarray(r.offset, r.offset + r.size) };
    });
  }

  private readSymbols(): ElfSymbol[] {
    const symtab = this.sections.find((s) => s.type === SHT_SYMTAB);
    return symtab ? this.readSymbolTable(symtab) : [];
  }

  /** The entries of a SHT_SYMTAB or SHT_DYNSYM section. */
  private readSymbolTable(symtab: ElfSection): ElfSymbol[] {
    const where = `section ${symtab.name}`;
    if (symtab.entsize !== SYMBOL_SIZE) {
      throw new ObjectFormatError(where, 0, `sh_entsize is ${symtab.entsize}, expected ${SYMBOL_SIZE}`);
    }
    if (symtab.size % SYMBOL_SIZE !== 0) {
      throw new ObjectFormatError(where, 0, `size ${symtab.size} is not a multiple of ${SYMBOL_SIZE}`);
    }
    const strings = this.linkedStrings(symtab);
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
        name: readCString(strings, d.getUint32(off, true), `${where} symbol #${i} name`, off),
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

  private readProgramHeaders(): ProgramHeader[] {
    const phoff = this.u64(32, "ELF header e_phoff");
    const phentsize = this.view.getUint16(54, true);
    const phnum = this.view.getUint16(56, true);
    if (phoff === 0 || phnum === 0) return [];
    if (phentsize !== PROGRAM_HEADER_SIZE) {
      throw new ObjectFormatError("ELF header", 54, `e_phentsize is ${phentsize}, expected ${PROGRAM_HEADER_SIZE}`);
    }
    this.checkRange("program header table", 32, phoff, phnum * PROGRAM_HEADER_SIZE);
    const out: ProgramHeader[] = [];
    for (let i = 0; i < phnum; i++) {
      const h = phoff + i * PROGRAM_HEADER_SIZE;
      const where = `program header #${i}`;
      out.push({
        type: this.view.getUint32(h, true),
        flags: this.view.getUint32(h + 4, true),
        offset: this.u64(h + 8, where),
        vaddr: this.u64(h + 16, where),
        filesz: this.u64(h + 32, where),
        memsz: this.u64(h + 40, where),
      });
    }
    return out;
  }

  /** DT_NEEDED names from the SHT_DYNAMIC section. */
  private readNeeded(): string[] {
    const section = this.sections.find((s) => s.type === SHT_DYNAMIC);
    if (!section) return [];
    const strings = this.linkedStrings(section);
    const d = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
    const out: string[] = [];
    for (let off = 0; off + DYNAMIC_ENTRY_SIZE <= section.data.byteLength; off += DYNAMIC_ENTRY_SIZE) {
      const tag = d.getBigInt64(off, true);
      if (tag === DT_NULL) break;
      if (tag === DT_NEEDED) {
        const val = d.getBigUint64(off + 8, true);
        if (val < BigInt(strings.byteLength)) out.push(readCString(strings, Number(val), `section ${section.name}`, off + 8));
      }
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

/** An SHT_NOBITS section whose `data` (zeros) is created when first read. */
function zeroFilled(header: Omit<ElfSection, "data">): ElfSection {
  let zeros: Uint8Array | undefined;
  return Object.defineProperty({ ...header }, "data", {
    get: () => (zeros ??= new Uint8Array(header.size)),
    // Not enumerable: spreading or printing a section must not allocate its zeros.
    enumerable: false,
  }) as ElfSection;
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
