/**
 * The pure half of a load: bytes of a `.bpf.o` in, a description of its
 * programs, maps and global variables out, with every relocation that does
 * not need the kernel already done. No file descriptor is opened here.
 */
import { basename } from "node:path";
import { ElfFile, STB_LOCAL, STT_OBJECT, STT_SECTION, type ElfSection } from "../elf/elf-file.js";
import { NotFoundError, ObjectFormatError, StateError, UnsupportedError } from "../errors.js";
import { BtfKind } from "../btf/types.js";
import { makeDecoder } from "../btf/value-decoder.js";
import { makeEncoder } from "../btf/value-encoder.js";
import { MapEditor, ProgramEditor } from "./spec-edit.js";
import { encodeValue } from "./variable-value.js";
import { dataMapSpecs, dataSectionKind } from "./data-sections.js";
import type { MapSpec } from "./map-spec.js";
import { readCodeSections } from "./code-sections.js";
import { linkProgram } from "./link-subprograms.js";
import type { Instruction } from "../insn/insn.js";
import { BPF_F_SLEEPABLE, type SectionMatch, classifySection } from "./section-types.js";
import { ObjectBtf } from "./object-btf.js";
import { btfMapSpecs } from "./btf-map-defs.js";
import { type ExternSpec, collectExterns } from "./externs.js";
import type { BpfFunction } from "./code-sections.js";
import { structOpsMapSpecs } from "./struct-ops.js";

export interface ProgramSpec {
  /** The function name (what libbpf calls the program name). */
  readonly name: string;
  /** ELF section, e.g. "tp/syscalls/sys_enter_write". */
  readonly sectionName: string;
  /**
   * How the program loads and attaches: its section name's convention
   * (program type, expected attach type, attach kind) and target, as edited.
   * A section name no convention knows gives UNKNOWN_SECTION (type UNSPEC):
   * such a program loads only once it is given a type.
   */
  readonly section: SectionMatch;
  /** Linked instructions: the program followed by its subprograms, references still symbolic. */
  readonly insns: readonly Instruction[];
  readonly license: string;
  /** From a legacy "version" section, if the object has one; else the running kernel's at load. */
  readonly kernelVersion?: number;
  /** prog_flags: BPF_F_SLEEPABLE for ".s" sections, else 0 unless edited. */
  readonly flags: number;
  /** Whether load() loads it (libbpf's autoload). */
  readonly autoload: boolean;
  /** Verifier log level of the first load attempt; 0: a log only when the verifier refuses. */
  readonly logLevel: number;
}

/** A global variable in a data section, addressable by name from JS. */
export interface GlobalVariable {
  readonly name: string;
  /** The data section (".bss", ".data", ".rodata", ...) and the map that holds it. */
  readonly section: string;
  readonly map: string;
  readonly offset: number;
  readonly size: number;
}

/** What parseObject found. */
export interface ObjectParts {
  name: string;
  license: string;
  externs: readonly ExternSpec[];
  programs: readonly ProgramSpec[];
  maps: readonly MapSpec[];
  variables: readonly GlobalVariable[];
  btf?: ObjectBtf;
  elf: ElfFile;
}

/** Freezes a map spec and what it holds, except the bytes (typed arrays cannot be frozen). */
function freezeMap(m: MapSpec): MapSpec {
  if (m.data) Object.freeze(m.data);
  if (m.innerMap) freezeMap(m.innerMap);
  return Object.freeze(m);
}

/**
 * A parsed BPF object: its programs, maps, global variables and externs,
 * editable until it is loaded, then the recipe BpfObject.fromSpec builds
 * the kernel objects from (as cilium's CollectionSpec → NewCollection).
 *
 * Sharing without copying: every program, map, variable and extern spec is
 * frozen, so one parse can back many ObjectSpecs (spec-cache.ts reuses it
 * for each open of an unchanged file) and copy() costs a few arrays. An
 * edit never writes to a shared spec: it swaps in a changed, frozen copy of
 * that one entry in this ObjectSpec's own arrays. The initial bytes of
 * global data cannot be frozen, so they are copied on the first write
 * through this ObjectSpec and owned by it from then on; instructions and
 * BTF are only ever read (relocation and binding copy what they patch).
 */
export class ObjectSpec {
  /** Object name as libbpf derives it: the file name up to its first dot. */
  readonly name: string;
  readonly license: string;
  /** Extern symbols (.kconfig values, kernel symbols, kfuncs), resolved at load. */
  readonly externs: readonly ExternSpec[];
  readonly variables: readonly GlobalVariable[];
  readonly btf?: ObjectBtf;
  readonly elf: ElfFile;
  #programs: readonly ProgramSpec[];
  #maps: readonly MapSpec[];
  /** Data maps whose initial bytes this spec copied and may write. */
  readonly #ownedData = new Set<string>();
  #sealed = false;

  constructor(parts: ObjectParts) {
    this.name = parts.name;
    this.license = parts.license;
    this.externs = Object.freeze(parts.externs.map((e) => Object.freeze(e)));
    this.variables = Object.freeze(parts.variables.map((v) => Object.freeze(v)));
    if (parts.btf) this.btf = parts.btf;
    this.elf = parts.elf;
    this.#programs = Object.freeze(
      parts.programs.map((p) => {
        Object.freeze(p.insns);
        Object.freeze(p.section);
        return Object.freeze(p);
      }),
    );
    this.#maps = Object.freeze(parts.maps.map(freezeMap));
  }

  get programs(): readonly ProgramSpec[] {
    return this.#programs;
  }

  get maps(): readonly MapSpec[] {
    return this.#maps;
  }

  /**
   * An editable copy that shares everything frozen with this one (cheap);
   * global-data bytes this spec has written are copied.
   */
  copy(): ObjectSpec {
    const maps = this.#maps.map((m) => (this.#ownedData.has(m.name) && m.data ? freezeMap({ ...m, data: m.data.copy() }) : m));
    const out = new ObjectSpec({ ...this.parts(), maps });
    for (const name of this.#ownedData) out.#ownedData.add(name);
    return out;
  }

  private parts(): ObjectParts {
    return {
      name: this.name,
      license: this.license,
      externs: this.externs,
      programs: this.#programs,
      maps: this.#maps,
      variables: this.variables,
      ...(this.btf ? { btf: this.btf } : {}),
      elf: this.elf,
    };
  }

  /**
   * Ends editing: every edit from now on throws StateError. BpfObject.load()
   * seals the spec it loaded, so the spec keeps describing what is in the
   * kernel; copy() gives an editable one again.
   */
  seal(): void {
    this.#sealed = true;
  }

  get sealed(): boolean {
    return this.#sealed;
  }

  private checkEditable(): void {
    if (this.#sealed) {
      throw new StateError(`object ${this.name} is loaded: its spec can no longer change (edit a spec.copy() and load that)`);
    }
  }

  // ---- lookups ---------------------------------------------------------------

  program(name: string): ProgramSpec {
    const p = this.#programs.find((x) => x.name === name);
    if (!p)
      throw new NotFoundError(
        `object ${this.name} has no program ${name} (it has: ${this.#programs.map((x) => x.name).join(", ") || "none"})`,
      );
    return p;
  }

  /** A map by kernel name ("minimal.bss") or, for global data, section name (".bss"). */
  map(name: string): MapSpec {
    const m = this.#maps.find((x) => x.name === name || x.sectionName === name);
    if (!m)
      throw new NotFoundError(`object ${this.name} has no map ${name} (it has: ${this.#maps.map((x) => x.name).join(", ") || "none"})`);
    return m;
  }

  variable(name: string): GlobalVariable {
    const v = this.variables.find((x) => x.name === name);
    if (!v) {
      const known = this.variables.map((x) => x.name).join(", ") || "none";
      throw new NotFoundError(`object ${this.name} has no global variable ${name} (it has: ${known})`);
    }
    return v;
  }

  /** The BTF type (a VAR's type) of global variable `name`, when the object has BTF. */
  variableTypeId(name: string): number | undefined {
    this.variable(name);
    const btf = this.btf?.btf;
    if (!btf) return undefined;
    for (const id of btf.idsByName(name)) {
      const t = btf.type(id);
      if (t.kind === BtfKind.Var) return t.type;
    }
    return undefined;
  }

  // ---- editing -----------------------------------------------------------------

  /** Edits program `name`: `spec.editProgram("p").setType(BpfProgType.XDP).setAutoload(true)`. */
  editProgram(name: string): ProgramEditor {
    this.checkEditable();
    const key = this.program(name).name;
    return new ProgramEditor({
      current: () => this.program(key),
      replace: (next) => {
        this.checkEditable();
        this.#programs = Object.freeze(this.#programs.map((p) => (p.name === key ? next : p)));
      },
    });
  }

  /** Edits map `name` (kernel or section name): `spec.editMap("counts").setMaxEntries(4096)`. */
  editMap(name: string): MapEditor {
    this.checkEditable();
    const key = this.map(name).name;
    return new MapEditor({
      current: () => this.map(key),
      replace: (next) => {
        this.checkEditable();
        this.#maps = Object.freeze(this.#maps.map((m) => (m.name === key ? freezeMap(next) : m)));
      },
    });
  }

  /** The initial value of a global variable. Read it only: it may be shared with other specs. */
  initialValue(name: string): Uint8Array {
    const v = this.variable(name);
    return this.map(v.map).data!.read(v.offset, v.size);
  }

  /** A writable view of a variable's initial value, in bytes this spec owns (copied on first write). */
  variableBytes(name: string): Uint8Array {
    this.checkEditable();
    const v = this.variable(name);
    const m = this.map(v.map);
    if (!this.#ownedData.has(m.name)) {
      // A copy of the shared contents; a .bss's zeros are created only now, and only touched where written.
      const data = m.data!.copy();
      this.#maps = Object.freeze(this.#maps.map((x) => (x === m ? freezeMap({ ...m, data }) : x)));
      this.#ownedData.add(m.name);
    }
    return this.map(v.map).data!.initial.subarray(v.offset, v.offset + v.size);
  }

  /** Sets a variable's initial value from bytes or a number (little-endian, the variable's size) or a string. */
  setVariable(name: string, value: Uint8Array | number | bigint | string): void {
    const bytes = encodeValue(name, value, this.variable(name).size);
    this.variableBytes(name).set(bytes);
  }

  /** Sets a variable's initial value from a JS value, encoded through its BTF type. */
  writeVariable(name: string, value: unknown): void {
    const typeId = this.variableTypeId(name);
    if (typeId === undefined) this.setVariable(name, value as Uint8Array | number | bigint | string);
    else this.variableBytes(name).set(makeEncoder(this.btf!.btf, typeId)(value));
  }

  /** A variable's initial value decoded through its BTF type (bytes without BTF). */
  readVariable(name: string): unknown {
    const bytes = this.initialValue(name);
    const typeId = this.variableTypeId(name);
    return typeId === undefined ? bytes.slice() : makeDecoder(this.btf!.btf, typeId)(bytes);
  }
}

export interface ParseOptions {
  /** Object name (default: from `path`, else "obj"); prefixes data map names. */
  name?: string;
  /** Where the bytes came from, for the default name. */
  path?: string;
  /**
   * Largest zero-filled section (.bss) accepted, in bytes; default 1 GiB
   * (DEFAULT_MAX_ZERO_FILL_SIZE). Parsing and inspecting cost nothing in
   * proportion; a load creates a map of that size in the kernel.
   */
  maxZeroFillSize?: number;
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

function globalVariables(elf: ElfFile, maps: readonly MapSpec[]): GlobalVariable[] {
  const byIndex = new Map<number, ElfSection>();
  for (const s of elf.sections) if (dataSectionKind(s)) byIndex.set(s.index, s);
  const out: GlobalVariable[] = [];
  for (const sym of elf.symbols) {
    const section = byIndex.get(sym.sectionIndex);
    if (!section || sym.type !== STT_OBJECT || sym.bind === STB_LOCAL || !sym.name) continue;
    const map = maps.find((m) => m.sectionName === section.name);
    if (!map) continue;
    if (sym.value + sym.size > section.size) {
      throw new ObjectFormatError(
        `section ${section.name}`,
        sym.value,
        `variable ${sym.name} (symbol #${sym.index}, ${sym.size} bytes) lies past the end of the ${section.size}-byte section`,
      );
    }
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

/**
 * Parses a BPF object. Throws ObjectFormatError/RelocationError/UnsupportedError
 * on bad input; a program in a section name no convention knows is not an
 * error here (it can be given a type before load).
 */
export function parseObject(bytes: Uint8Array, opts: ParseOptions = {}): ObjectSpec {
  const elf = new ElfFile(bytes, opts.maxZeroFillSize !== undefined ? { maxZeroFillSize: opts.maxZeroFillSize } : {});
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
  const parsedMaps = [...btfMapSpecs(elf, btf), ...dataMapSpecs(elf, name), ...(kconfigMap ? [kconfigMap] : [])];
  const maps = btf ? btf.describeDataMaps(parsedMaps) : parsedMaps;
  const dataMapNames = new Map(maps.filter((m) => m.sectionName).map((m) => [m.sectionName!, m.name]));
  const code = readCodeSections(elf, btf?.ext, dataMapNames);
  if (kconfigMap) bindKconfigReferences(code.functions.values(), externs, kconfigMap.name);

  const programs: ProgramSpec[] = [];
  for (const fn of code.functions.values()) {
    if (!fn.isProgram) continue;
    const linked = linkProgram(fn, code.functions);
    const section = classifySection(fn.section);
    programs.push({
      name: fn.name,
      sectionName: fn.section,
      section,
      insns: linked.insns,
      license,
      ...(kernelVersion !== undefined ? { kernelVersion } : {}),
      flags: section.def.sleepable ? BPF_F_SLEEPABLE : 0,
      autoload: true,
      logLevel: 0,
    });
  }
  // As libbpf orders them: struct_ops maps come last, once their programs are known.
  maps.push(...structOpsMapSpecs(elf, btf?.btf, programs));
  return new ObjectSpec({
    name,
    license,
    externs,
    programs,
    maps,
    variables: globalVariables(elf, maps),
    ...(btf ? { btf } : {}),
    elf,
  });
}
