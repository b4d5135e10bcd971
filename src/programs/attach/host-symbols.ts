/**
 * Host binaries (executables and shared libraries) for uprobes: find a
 * binary by name the way libbpf does, find a function's symbol in .symtab
 * and .dynsym (with GNU symbol versions), and turn its virtual address into
 * the file offset the kernel's uprobe PMU wants (config2).
 *
 * Virtual address → file offset goes through the PT_LOAD program header
 * that contains the address (offset = vaddr - p_vaddr + p_offset), which
 * works for PIE and non-PIE executables and for shared libraries alike.
 * Files without program headers (relocatable .o) fall back to the symbol's
 * section header (st_value - sh_addr + sh_offset), as libbpf does.
 *
 * Pure apart from reading files: no syscalls through the kernel choke point.
 */
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { delimiter, resolve } from "node:path";
import { NotFoundError, ObjectFormatError, TsbpfError } from "../../errors.js";
import {
  ElfFile,
  type ElfSection,
  SHN_ABS,
  SHN_UNDEF,
  SHT_STRTAB,
  SHT_SYMTAB,
  STB_GLOBAL,
  STB_WEAK,
  STT_FUNC,
  readCString,
} from "../../elf/elf-file.js";

export const SHT_DYNAMIC = 6;
export const SHT_DYNSYM = 11;
export const SHT_GNU_VERDEF = 0x6ffffffd;
export const SHT_GNU_VERNEED = 0x6ffffffe;
export const SHT_GNU_VERSYM = 0x6fffffff;

export const STT_GNU_IFUNC = 10;

export const ET_EXEC = 2;
export const ET_DYN = 3;

export const PT_LOAD = 1;
export const PF_X = 1;

const DT_NULL = 0n;
const DT_NEEDED = 1n;
const VERSYM_HIDDEN = 0x8000;
const VERSYM_VERSION = 0x7fff;
const PROGRAM_HEADER_SIZE = 56;
const SYMBOL_SIZE = 24;

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

export interface HostSymbol {
  /** The name without any "@VERSION" part. */
  name: string;
  /** GNU symbol version ("GLIBC_2.2.5"), when the symbol has one. */
  version?: string;
  /** A non-default version ("name@VER", not "name@@VER"): only explicit references bind to it. */
  hiddenVersion: boolean;
  table: ".symtab" | ".dynsym";
  value: number;
  size: number;
  /** STT_* */
  type: number;
  /** STB_* */
  bind: number;
  /** st_shndx; SHN_UNDEF for symbols imported from another object. */
  sectionIndex: number;
  /** For imports with a version: the library that version comes from (.gnu.version_r). */
  library?: string;
}

/** A function symbol resolved to where a uprobe goes. */
export interface ResolvedFunction {
  symbol: HostSymbol;
  /** Virtual address (st_value). */
  address: number;
  /** File offset of the function's first byte: what the uprobe PMU takes as config2. */
  offset: number;
  /** STT_GNU_IFUNC: the symbol is the resolver, not the implementation. */
  ifunc: boolean;
}

/** A function name that is not defined in the binary (absent, or only imported). */
export class SymbolNotFoundError extends NotFoundError {
  override name = "SymbolNotFoundError";
  constructor(
    readonly binary: string,
    readonly symbol: string,
    /** Defined function names that look like `symbol` (at most a handful). */
    readonly similar: string[],
    /** When the binary only imports `symbol`: the library it comes from (or the candidates). */
    readonly importedFrom: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Several different functions answer to one name with equal precedence. */
export class AmbiguousSymbolError extends TsbpfError {
  override name = "AmbiguousSymbolError";
}

const SYMBOL_TYPE_NAMES: Record<number, string> = {
  0: "an untyped symbol (STT_NOTYPE)",
  1: "a variable (STT_OBJECT)",
  3: "a section",
  4: "a file name",
  5: "a common block",
  6: "thread-local data (STT_TLS)",
};

const hex = (n: number): string => `0x${n.toString(16)}`;

function symbolKey(s: HostSymbol): string {
  return s.version ? `${s.name}${s.hiddenVersion ? "@" : "@@"}${s.version}` : s.name;
}

/** An executable or shared library, parsed once. */
export class HostBinary {
  readonly programHeaders: ProgramHeader[];
  private symbolCache: HostSymbol[] | undefined;
  private neededCache: string[] | undefined;

  constructor(
    readonly path: string,
    readonly elf: ElfFile,
  ) {
    this.programHeaders = readProgramHeaders(elf);
  }

  /** Reads and parses `path` (an ELF64 little-endian file). */
  static open(path: string): HostBinary {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) throw new NotFoundError(`${path} does not exist`);
    if (!st.isFile()) throw new NotFoundError(`${path} is not a regular file`);
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const hit = cache.get(path);
    if (hit && hit.key === key) return hit.binary;
    let elf: ElfFile;
    try {
      elf = new ElfFile(new Uint8Array(readFileSync(path)));
    } catch (e) {
      if (e instanceof ObjectFormatError) throw new ObjectFormatError(`${path}: ${e.where}`, e.offset, e.problem);
      throw e;
    }
    const binary = new HostBinary(path, elf);
    if (st.size > CACHE_MAX_FILE) return binary;
    cache.delete(path);
    cache.set(path, { key, binary });
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
    return binary;
  }

  /** Every symbol of .symtab and .dynsym (in that order). */
  get symbols(): HostSymbol[] {
    this.symbolCache ??= [...readSymtab(this.elf), ...readDynsym(this.elf)];
    return this.symbolCache;
  }

  /** DT_NEEDED entries of the dynamic section: the libraries this file links against. */
  get neededLibraries(): string[] {
    this.neededCache ??= readNeeded(this.elf);
    return this.neededCache;
  }

  /**
   * The file offset of virtual address `vaddr`, through the PT_LOAD segment
   * containing it; for files without program headers, through the section
   * `sectionIndex` (st_value - sh_addr + sh_offset).
   */
  fileOffset(vaddr: number, sectionIndex?: number): number {
    const loads = this.programHeaders.filter((p) => p.type === PT_LOAD);
    if (loads.length > 0) {
      for (const p of loads) {
        if (vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz) return vaddr - p.vaddr + p.offset;
      }
      const inMemory = loads.find((p) => vaddr >= p.vaddr && vaddr < p.vaddr + p.memsz);
      throw new ObjectFormatError(
        this.path,
        0,
        inMemory
          ? `address ${hex(vaddr)} lies in the zero-filled part of a segment (like .bss): it has no bytes in the file`
          : `address ${hex(vaddr)} is in no PT_LOAD segment`,
      );
    }
    const section = sectionIndex !== undefined ? this.elf.sections[sectionIndex] : undefined;
    if (!section) throw new ObjectFormatError(this.path, 0, `no program headers, and address ${hex(vaddr)} names no section`);
    const sectionAddr = sectionHeaderAddress(this.elf, section);
    return vaddr - sectionAddr + section.offset;
  }

  /**
   * Resolves a function name to its file offset. `spec` is "name",
   * "name@VERSION" or "name@@VERSION". Among defined STT_FUNC / STT_GNU_IFUNC
   * symbols of .symtab and .dynsym with that name, the default version wins
   * over hidden ones, then GLOBAL over WEAK over LOCAL; if the winners still
   * point at different code, the name is ambiguous.
   */
  resolveFunction(spec: string): ResolvedFunction {
    const at = spec.indexOf("@");
    const name = at < 0 ? spec : spec.slice(0, at);
    const version = at < 0 ? undefined : spec.slice(spec[at + 1] === "@" ? at + 2 : at + 1);
    const isFunc = (s: HostSymbol) => s.type === STT_FUNC || s.type === STT_GNU_IFUNC;
    const candidates = this.symbols.filter((s) => s.name === name && (version === undefined || s.version === version));
    const defined = candidates.filter((s) => isFunc(s) && s.sectionIndex !== SHN_UNDEF && s.sectionIndex !== SHN_ABS);

    if (defined.length === 0) {
      const imported = candidates.filter((s) => s.sectionIndex === SHN_UNDEF);
      if (imported.length > 0) {
        const lib = imported.find((s) => s.library)?.library;
        const ver = imported.find((s) => s.version)?.version;
        const needed = this.neededLibraries;
        const from = lib ?? (needed.length ? needed.join(", ") : undefined);
        throw new SymbolNotFoundError(
          this.path,
          spec,
          [],
          from,
          `${this.path} does not define ${spec}: it imports it` +
            (lib
              ? ` from ${lib}${ver ? ` (version ${ver})` : ""}`
              : needed.length
                ? ` from one of the libraries it links against (${needed.join(", ")})`
                : " from another object") +
            `; probe it there, e.g. { binary: "${lib ?? needed[0] ?? "libc.so.6"}", func: "${name}" }`,
        );
      }
      const nonFunc = candidates.find((s) => s.sectionIndex !== SHN_UNDEF);
      const similar = this.similarFunctions(name);
      throw new SymbolNotFoundError(
        this.path,
        spec,
        similar,
        undefined,
        (nonFunc
          ? `${spec} in ${this.path} is not a function (it is ${SYMBOL_TYPE_NAMES[nonFunc.type] ?? `a symbol of type ${nonFunc.type}`})`
          : `no function ${spec} in ${this.path}` +
            (this.symbols.length === 0
              ? " (it has no symbol table at all: stripped?)"
              : this.elf.sections.some((s) => s.type === SHT_SYMTAB)
                ? ""
                : " (it has no .symtab, only exported .dynsym symbols: stripped?)")) +
          (similar.length ? `; similar names: ${similar.join(", ")}` : ""),
      );
    }

    const rank = (s: HostSymbol) => (s.hiddenVersion ? 4 : 0) + (s.bind === STB_GLOBAL ? 0 : s.bind === STB_WEAK ? 1 : 2);
    const best = Math.min(...defined.map(rank));
    const winners = defined.filter((s) => rank(s) === best).map((s) => ({ s, offset: this.fileOffset(s.value, s.sectionIndex) }));
    const offsets = new Set(winners.map((w) => w.offset));
    if (offsets.size > 1) {
      throw new AmbiguousSymbolError(
        `${spec} is ambiguous in ${this.path}: ` +
          winners.map((w) => `${symbolKey(w.s)} (${w.s.table}, file offset ${hex(w.offset)})`).join(", ") +
          (version === undefined && winners.some((w) => w.s.version) ? "; name a version (name@VERSION) or" : ";") +
          " pass the file offset as `offset` without `func`",
      );
    }
    const { s, offset } = winners[0]!;
    return { symbol: s, address: s.value, offset, ifunc: s.type === STT_GNU_IFUNC };
  }

  /** Defined function names close to `name` (edit distance or substring), best first. */
  similarFunctions(name: string, max = 5): string[] {
    const names = new Set<string>();
    for (const s of this.symbols) {
      if ((s.type === STT_FUNC || s.type === STT_GNU_IFUNC) && s.sectionIndex !== SHN_UNDEF && s.name) names.add(s.name);
    }
    const lower = name.toLowerCase();
    const limit = Math.max(1, Math.floor(name.length / 4));
    const scored: [number, string][] = [];
    for (const n of names) {
      const l = n.toLowerCase();
      const d = editDistance(lower, l, limit + 1);
      if (d <= limit) scored.push([d, n]);
      else if (lower.length >= 3 && l.length >= 3 && (l.includes(lower) || lower.includes(l)))
        scored.push([limit + 0.5 + Math.abs(l.length - lower.length) / 1000, n]);
    }
    scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
    return scored.slice(0, max).map(([, n]) => n);
  }
}

/** Parsed binaries kept for repeated attaches (libc is probed often); big files are not kept. */
const CACHE_SIZE = 8;
const CACHE_MAX_FILE = 64 << 20;
const cache = new Map<string, { key: string; binary: HostBinary }>();

/** Levenshtein distance, giving up (returning `cap`) once it cannot be below `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return Math.min(prev[b.length]!, cap);
}

// ---- path resolution --------------------------------------------------------

const ARCH_TRIPLES: Record<string, string> = {
  x64: "x86_64-linux-gnu",
  arm64: "aarch64-linux-gnu",
  arm: "arm-linux-gnueabihf",
  ia32: "i386-linux-gnu",
  s390x: "s390x-linux-gnu",
  ppc64: "powerpc64le-linux-gnu",
  riscv64: "riscv64-linux-gnu",
};

/** Where a bare library name ("libc.so.6") is looked for, in order. */
export function librarySearchPath(env: NodeJS.ProcessEnv = process.env, arch: string = process.arch): string[] {
  const triple = ARCH_TRIPLES[arch];
  return [
    ...(env.LD_LIBRARY_PATH ?? "").split(delimiter).filter(Boolean),
    ...(triple ? [`/lib/${triple}`, `/usr/lib/${triple}`] : []),
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
  ];
}

/** Where a bare program name ("bash") is looked for: $PATH, then /usr/bin and /usr/sbin. */
export function programSearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...(env.PATH ?? "").split(delimiter).filter(Boolean), "/usr/bin", "/usr/sbin"];
}

export function isLibraryName(file: string): boolean {
  return /\.so$/.test(file) || file.includes(".so.");
}

function usable(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The absolute path of a binary named by the user. A name with a slash is a
 * path (relative to the current directory); a bare name ending in ".so" or
 * containing ".so." is a library, searched in LD_LIBRARY_PATH and the
 * standard library directories; any other bare name is a program, searched
 * in $PATH (like libbpf's resolve_full_path).
 */
export function resolveBinaryPath(file: string, env: NodeJS.ProcessEnv = process.env): string {
  if (file === "") throw new NotFoundError("no binary named: the path is empty");
  if (file.includes("/")) {
    const path = resolve(file);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) throw new NotFoundError(`binary ${file} does not exist`);
    if (!st.isFile()) throw new NotFoundError(`${file} is not a regular file`);
    return path;
  }
  const library = isLibraryName(file);
  const dirs = library ? librarySearchPath(env) : programSearchPath(env);
  const mode = library ? constants.R_OK : constants.R_OK | constants.X_OK;
  const seen = new Set<string>();
  for (const dir of dirs) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    const path = resolve(dir, file);
    if (usable(path, mode)) return path;
  }
  throw new NotFoundError(
    `cannot find ${library ? "library" : "program"} ${file}: not in ${[...seen].join(":")}` +
      (library ? " (give its full path, or set LD_LIBRARY_PATH)" : " (give its full path)"),
  );
}

// ---- ELF parts ElfFile does not read -------------------------------------------

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function safeNumber(v: bigint, where: string, at: number): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ObjectFormatError(where, at, `value ${v} is too large`);
  return Number(v);
}

/** The program header table (e_phoff, e_phentsize, e_phnum). */
export function readProgramHeaders(elf: ElfFile): ProgramHeader[] {
  const v = dataView(elf.bytes);
  const phoff = safeNumber(v.getBigUint64(32, true), "ELF header e_phoff", 32);
  const phentsize = v.getUint16(54, true);
  const phnum = v.getUint16(56, true);
  if (phoff === 0 || phnum === 0) return [];
  if (phentsize !== PROGRAM_HEADER_SIZE) {
    throw new ObjectFormatError("ELF header", 54, `e_phentsize is ${phentsize}, expected ${PROGRAM_HEADER_SIZE}`);
  }
  if (phoff + phnum * PROGRAM_HEADER_SIZE > elf.bytes.byteLength) {
    throw new ObjectFormatError(
      "program header table",
      32,
      `range [${phoff}, ${phoff + phnum * PROGRAM_HEADER_SIZE}) lies outside the ${elf.bytes.byteLength}-byte file`,
    );
  }
  const out: ProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const h = phoff + i * PROGRAM_HEADER_SIZE;
    const where = `program header #${i}`;
    out.push({
      type: v.getUint32(h, true),
      flags: v.getUint32(h + 4, true),
      offset: safeNumber(v.getBigUint64(h + 8, true), where, h + 8),
      vaddr: safeNumber(v.getBigUint64(h + 16, true), where, h + 16),
      filesz: safeNumber(v.getBigUint64(h + 32, true), where, h + 32),
      memsz: safeNumber(v.getBigUint64(h + 40, true), where, h + 40),
    });
  }
  return out;
}

/** sh_addr, which ElfSection does not carry (offset 16 of the section header). */
function sectionHeaderAddress(elf: ElfFile, section: ElfSection): number {
  const v = dataView(elf.bytes);
  const shoff = safeNumber(v.getBigUint64(40, true), "ELF header e_shoff", 40);
  return safeNumber(v.getBigUint64(shoff + section.index * 64 + 16, true), `section ${section.name}`, shoff + section.index * 64 + 16);
}

function stringTable(elf: ElfFile, section: ElfSection): Uint8Array {
  const strtab = elf.sections[section.link];
  if (!strtab || strtab.type !== SHT_STRTAB) {
    throw new ObjectFormatError(`section ${section.name}`, 0, `sh_link ${section.link} is not a string table`);
  }
  return strtab.data;
}

/** Raw symbol entries of the SHT_DYNSYM section (ElfFile reads only SHT_SYMTAB). */
function readSymbolSection(elf: ElfFile, section: ElfSection, table: HostSymbol["table"]): HostSymbol[] {
  const where = `section ${section.name}`;
  if (section.size % SYMBOL_SIZE !== 0) throw new ObjectFormatError(where, 0, `size ${section.size} is not a multiple of ${SYMBOL_SIZE}`);
  const strings = stringTable(elf, section);
  const d = dataView(section.data);
  const out: HostSymbol[] = [];
  for (let off = 0, i = 0; off < section.size; off += SYMBOL_SIZE, i++) {
    const info = d.getUint8(off + 4);
    out.push({
      name: readCString(strings, d.getUint32(off, true), `${where} symbol #${i} name`, off),
      hiddenVersion: false,
      table,
      type: info & 0xf,
      bind: info >> 4,
      sectionIndex: d.getUint16(off + 6, true),
      value: safeNumber(d.getBigUint64(off + 8, true), where, off + 8),
      size: safeNumber(d.getBigUint64(off + 16, true), where, off + 16),
    });
  }
  return out;
}

/** .symtab (as ElfFile read it), whose names carry versions inline ("memcpy@@GLIBC_2.14", "puts@GLIBC_2.2.5"). */
function readSymtab(elf: ElfFile): HostSymbol[] {
  return elf.symbols.map((e) => {
    const s: HostSymbol = {
      name: e.name,
      hiddenVersion: false,
      table: ".symtab",
      value: e.value,
      size: e.size,
      type: e.type,
      bind: e.bind,
      sectionIndex: e.sectionIndex,
    };
    const at = s.name.indexOf("@");
    if (at > 0) {
      const hidden = s.name[at + 1] !== "@";
      s.version = s.name.slice(hidden ? at + 1 : at + 2);
      s.hiddenVersion = hidden;
      s.name = s.name.slice(0, at);
    }
    return s;
  });
}

/** .dynsym, with versions from .gnu.version + .gnu.version_d (definitions) / .gnu.version_r (imports). */
function readDynsym(elf: ElfFile): HostSymbol[] {
  const dynsym = elf.sections.find((s) => s.type === SHT_DYNSYM);
  if (!dynsym) return [];
  const symbols = readSymbolSection(elf, dynsym, ".dynsym");
  const versym = elf.sections.find((s) => s.type === SHT_GNU_VERSYM);
  if (!versym) return symbols;
  const defs = readVerdefs(elf);
  const needs = readVerneeds(elf);
  const vd = dataView(versym.data);
  symbols.forEach((s, i) => {
    if (i * 2 + 2 > versym.data.byteLength) return;
    const word = vd.getUint16(i * 2, true);
    const index = word & VERSYM_VERSION;
    if (index < 2) return; // 0: local, 1: global (unversioned base)
    if (s.sectionIndex === SHN_UNDEF) {
      const need = needs.get(index);
      if (need) {
        s.version = need.version;
        s.library = need.file;
      }
    } else {
      const def = defs.get(index);
      if (def) s.version = def;
    }
    s.hiddenVersion = (word & VERSYM_HIDDEN) !== 0;
  });
  return symbols;
}

/** Version index → version name, from SHT_GNU_verdef. */
function readVerdefs(elf: ElfFile): Map<number, string> {
  const out = new Map<number, string>();
  const section = elf.sections.find((s) => s.type === SHT_GNU_VERDEF);
  if (!section) return out;
  const strings = stringTable(elf, section);
  const d = dataView(section.data);
  let off = 0;
  // sh_info is the number of entries; also stop at vd_next 0 or a bad offset.
  for (let n = 0; n < Math.max(section.info, 1) && off + 20 <= section.data.byteLength; n++) {
    const ndx = d.getUint16(off + 4, true);
    const aux = d.getUint32(off + 12, true);
    const next = d.getUint32(off + 16, true);
    if (off + aux + 8 <= section.data.byteLength) {
      out.set(ndx, readCString(strings, d.getUint32(off + aux, true), `section ${section.name} name`, off + aux));
    }
    if (next === 0) break;
    off += next;
  }
  return out;
}

/** Version index → { version name, library file }, from SHT_GNU_verneed. */
function readVerneeds(elf: ElfFile): Map<number, { version: string; file: string }> {
  const out = new Map<number, { version: string; file: string }>();
  const section = elf.sections.find((s) => s.type === SHT_GNU_VERNEED);
  if (!section) return out;
  const strings = stringTable(elf, section);
  const d = dataView(section.data);
  const size = section.data.byteLength;
  let off = 0;
  for (let n = 0; n < Math.max(section.info, 1) && off + 16 <= size; n++) {
    const cnt = d.getUint16(off + 2, true);
    const file = readCString(strings, d.getUint32(off + 4, true), `section ${section.name} file`, off + 4);
    let aux = off + d.getUint32(off + 8, true);
    for (let k = 0; k < cnt && aux + 16 <= size; k++) {
      const other = d.getUint16(aux + 6, true);
      const version = readCString(strings, d.getUint32(aux + 8, true), `section ${section.name} name`, aux + 8);
      out.set(other & VERSYM_VERSION, { version, file });
      const nextAux = d.getUint32(aux + 12, true);
      if (nextAux === 0) break;
      aux += nextAux;
    }
    const next = d.getUint32(off + 12, true);
    if (next === 0) break;
    off += next;
  }
  return out;
}

/** DT_NEEDED names from the SHT_DYNAMIC section. */
function readNeeded(elf: ElfFile): string[] {
  const section = elf.sections.find((s) => s.type === SHT_DYNAMIC);
  if (!section) return [];
  const strings = stringTable(elf, section);
  const d = dataView(section.data);
  const out: string[] = [];
  for (let off = 0; off + 16 <= section.data.byteLength; off += 16) {
    const tag = d.getBigInt64(off, true);
    if (tag === DT_NULL) break;
    if (tag === DT_NEEDED) {
      const val = d.getBigUint64(off + 8, true);
      if (val < BigInt(strings.byteLength)) out.push(readCString(strings, Number(val), `section ${section.name}`, off + 8));
    }
  }
  return out;
}
