/**
 * The pure half of a load: bytes of a `.bpf.o` in, a description of its
 * programs, maps and global variables out, with every relocation that does
 * not need the kernel already done. No file descriptor is opened here.
 */
import { basename } from "node:path";
import { ElfFile, STB_LOCAL, STT_OBJECT, STT_SECTION, type ElfSection } from "../elf/elf-file.js";
import { ObjectFormatError, UnsupportedError } from "../errors.js";
import { dataMapSpecs, dataSectionKind } from "./data-sections.js";
import type { MapSpec } from "./map-spec.js";
import { readCodeSections } from "./code-sections.js";
import { linkProgram } from "./link-subprograms.js";
import type { Instruction } from "../insn/insn.js";
import { type SectionMatch, sectionDefOrThrow } from "./section-types.js";
import { ObjectBtf } from "./object-btf.js";
import { btfMapSpecs } from "./btf-map-defs.js";
import { type ExternSpec, collectExterns } from "./externs.js";
import type { BpfFunction } from "./code-sections.js";

export interface ProgramSpec {
  /** The function name (what libbpf calls the program name). */
  name: string;
  /** ELF section, e.g. "tp/syscalls/sys_enter_write". */
  sectionName: string;
  section: SectionMatch;
  /** Linked instructions: the program followed by its subprograms, references still symbolic. */
  insns: Instruction[];
  license: string;
  /** From a legacy "version" section, if the object has one; else the running kernel's at load. */
  kernelVersion?: number;
}

/** A global variable in a data section, addressable by name from JS. */
export interface GlobalVariable {
  name: string;
  /** The data section (".bss", ".rodata", ...) and the map that holds it. */
  section: string;
  map: string;
  offset: number;
  size: number;
}

export interface ObjectSpec {
  /** Object name as libbpf derives it: the file name up to its first dot. */
  name: string;
  /** Extern symbols (.kconfig values, kernel symbols, kfuncs), resolved at load. */
  externs: ExternSpec[];
  license: string;
  programs: ProgramSpec[];
  maps: MapSpec[];
  variables: GlobalVariable[];
  btf?: ObjectBtf;
  elf: ElfFile;
}

export interface ParseOptions {
  /** Object name (default: from `path`, else "obj"); prefixes data map names. */
  name?: string;
  /** Where the bytes came from, for the default name. */
  path?: string;
}

/** Object name from a path, as libbpf does: basename up to the first '.'. */
export function objectNameFromPath(path: string): string {
  const base = basename(path);
  const dot = base.indexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

function readLicense(elf: ElfFile): string {
  const s = elf.section("license");
  if (!s) return "";
  const end = s.data.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? s.data.subarray(0, end) : s.data);
}

function readVersion(elf: ElfFile): number | undefined {
  const s = elf.section("version");
  if (!s) return undefined;
  if (s.size !== 4) throw new ObjectFormatError("section version", 0, `size is ${s.size}, expected 4`);
  return new DataView(s.data.buffer, s.data.byteOffset, 4).getUint32(0, true);
}

function globalVariables(elf: ElfFile, maps: MapSpec[]): GlobalVariable[] {
  const byIndex = new Map<number, ElfSection>();
  for (const s of elf.sections) if (dataSectionKind(s)) byIndex.set(s.index, s);
  const out: GlobalVariable[] = [];
  for (const sym of elf.symbols) {
    const section = byIndex.get(sym.sectionIndex);
    if (!section || sym.type !== STT_OBJECT || sym.bind === STB_LOCAL || !sym.name) continue;
    const map = maps.find((m) => m.sectionName === section.name);
    if (!map) continue;
    out.push({ name: sym.name, section: section.name, map: map.name, offset: sym.value, size: sym.size });
  }
  return out;
}

/** kconfig externs are read like global data: point their references into the .kconfig map. */
function bindKconfigReferences(functions: Iterable<BpfFunction>, externs: ExternSpec[], kconfigMap: string): void {
  const byName = new Map(externs.filter((e) => e.kind === "kconfig").map((e) => [e.name, e]));
  for (const fn of functions) {
    for (const insn of fn.insns) {
      const ref = insn.reference;
      if (ref?.kind !== "extern") continue;
      const e = byName.get(ref.name);
      if (e) insn.reference = { kind: "map_value", map: kconfigMap, offset: e.offset + insn.imm, symbol: e.name };
    }
  }
}

/**
 * A "maps" section holds legacy `struct bpf_map_def` maps. libbpf 1.0+
 * refuses the object; so does tsbpf, at parse time: skipping the section
 * would load the object with fewer maps than it declares.
 */
function rejectLegacyMaps(elf: ElfFile): void {
  const section = elf.section("maps");
  if (!section) return;
  const names = elf.symbols
    .filter((s) => s.sectionIndex === section.index && s.name && s.type !== STT_SECTION)
    .map((s) => JSON.stringify(s.name));
  throw new UnsupportedError(
    `section "maps" holds legacy map definitions (struct bpf_map_def${names.length ? `: ${names.join(", ")}` : ""}), ` +
      'which libbpf 1.0+ and tsbpf do not support: declare them as BTF-defined maps in section ".maps" ' +
      '(struct { __uint(type, ...); __type(key, ...); __type(value, ...); } name SEC(".maps"), built with -g)',
  );
}

/** Parses a BPF object. Throws ObjectFormatError/RelocationError/UnsupportedError on bad input. */
export function parseObject(bytes: Uint8Array, opts: ParseOptions = {}): ObjectSpec {
  const elf = new ElfFile(bytes);
  elf.assertBpf();
  rejectLegacyMaps(elf);
  const name = opts.name ?? (opts.path ? objectNameFromPath(opts.path) : "obj");
  const license = readLicense(elf);
  const kernelVersion = readVersion(elf);
  const btf = ObjectBtf.read(elf);

  const { externs, kconfigMap } = collectExterns(elf, btf?.btf, name);
  if (btf && externs.length) {
    btf.layoutExterns(
      externs.filter((e) => e.kind === "kconfig"),
      kconfigMap?.valueSize ?? 0,
    );
  }
  const maps = [...btfMapSpecs(elf, btf), ...dataMapSpecs(elf, name), ...(kconfigMap ? [kconfigMap] : [])];
  if (btf) btf.describeDataMaps(maps);
  const dataMapNames = new Map(maps.filter((m) => m.sectionName).map((m) => [m.sectionName!, m.name]));
  const code = readCodeSections(elf, btf?.ext, dataMapNames);
  if (kconfigMap) bindKconfigReferences(code.functions.values(), externs, kconfigMap.name);

  const programs: ProgramSpec[] = [];
  for (const fn of code.functions.values()) {
    if (!fn.isProgram) continue;
    const linked = linkProgram(fn, code.functions);
    programs.push({
      name: fn.name,
      sectionName: fn.section,
      section: sectionDefOrThrow(fn.section, fn.name),
      insns: linked.insns,
      license,
      ...(kernelVersion !== undefined ? { kernelVersion } : {}),
    });
  }
  return { name, license, externs, programs, maps, variables: globalVariables(elf, maps), ...(btf ? { btf } : {}), elf };
}
