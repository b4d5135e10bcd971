/**
 * GNU symbol versions of an executable or shared library: which version of
 * a name each symbol is ("memcpy@@GLIBC_2.14", the default, or the hidden
 * "memcpy@GLIBC_2.2.5"), and for imports, the library the version comes
 * from. .symtab carries versions inline in the names; .dynsym through
 * .gnu.version (one index per symbol), .gnu.version_d (definitions) and
 * .gnu.version_r (requirements, per needed library).
 */
import { type ElfFile, type ElfSymbol, SHN_UNDEF, SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM, readCString } from "./elf-file.js";

const VERSYM_HIDDEN = 0x8000;
const VERSYM_VERSION = 0x7fff;

export interface VersionedSymbol {
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

/** `name@@VER` (default) or `name@VER` (hidden), as readelf and the linker write them. */
export function symbolKey(s: VersionedSymbol): string {
  return s.version ? `${s.name}${s.hiddenVersion ? "@" : "@@"}${s.version}` : s.name;
}

/** Every symbol of .symtab and .dynsym (in that order), with its version. */
export function versionedSymbols(elf: ElfFile): VersionedSymbol[] {
  return [...symtabSymbols(elf), ...dynsymSymbols(elf)];
}

function plain(e: ElfSymbol, table: VersionedSymbol["table"]): VersionedSymbol {
  return {
    name: e.name,
    hiddenVersion: false,
    table,
    value: e.value,
    size: e.size,
    type: e.type,
    bind: e.bind,
    sectionIndex: e.sectionIndex,
  };
}

/** .symtab, whose names carry versions inline ("memcpy@@GLIBC_2.14", "puts@GLIBC_2.2.5"). */
function symtabSymbols(elf: ElfFile): VersionedSymbol[] {
  return elf.symbols.map((e) => {
    const s = plain(e, ".symtab");
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
function dynsymSymbols(elf: ElfFile): VersionedSymbol[] {
  const symbols = elf.dynamicSymbols.map((e) => plain(e, ".dynsym"));
  const versym = elf.sections.find((s) => s.type === SHT_GNU_VERSYM);
  if (!versym) return symbols;
  const defs = readVerdefs(elf);
  const needs = readVerneeds(elf);
  const vd = new DataView(versym.data.buffer, versym.data.byteOffset, versym.data.byteLength);
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
  const strings = elf.linkedStrings(section);
  const d = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
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
  const strings = elf.linkedStrings(section);
  const d = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
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
