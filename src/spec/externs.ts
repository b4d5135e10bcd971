/**
 * Extern symbols of a BPF object (undefined in its ELF, described by the
 * .kconfig and .ksyms DATASECs of its BTF), as libbpf treats them:
 *   - `extern T CONFIG_FOO __kconfig;` and LINUX_KERNEL_VERSION & co. live in
 *     an internal ".kconfig" map (read-only, frozen) filled at load time;
 *     programs read them as global data;
 *   - `extern T sym __ksym;` is a kernel variable: typed ones by BTF id
 *     (BPF_PSEUDO_BTF_ID), untyped (`const void`) by address from kallsyms;
 *   - `extern int f(...) __ksym;` is a kfunc, called by its kernel BTF id.
 * This file is pure: it finds externs and lays out the .kconfig map.
 */
import type { Btf } from "../btf/btf.js";
import { BtfKind, BtfLinkage } from "../btf/types.js";
import { type ElfFile, SHN_UNDEF, STB_WEAK, STT_SECTION } from "../elf/elf-file.js";
import { ObjectFormatError } from "../errors.js";
import { internalMapName } from "./data-sections.js";
import { InitialData, type MapSpec } from "./map-spec.js";
import { BPF_F_MMAPABLE, BPF_F_RDONLY_PROG } from "../abi/uapi-flags.js";
import { BpfMapType } from "../abi/uapi-enums.js";

/** Largest .kconfig map laid out (256 MiB; no kernel accepts a map value this large anyway). */
const MAX_KCONFIG_SIZE = 1 << 28;

export type ExternKind = "kconfig" | "ksym_var" | "ksym_func";

export interface ExternSpec {
  name: string;
  kind: ExternKind;
  weak: boolean;
  /** Local BTF type of the variable (VAR's type) or the FUNC's id. */
  typeId: number;
  /** ksym variables: declared with a real type (resolved by BTF id) rather than `void` (by address). */
  typed: boolean;
  /** kconfig: where the value sits in the .kconfig map, and its size. */
  offset: number;
  size: number;
}

export interface Externs {
  externs: ExternSpec[];
  /** The .kconfig map, when the object has kconfig externs. */
  kconfigMap?: MapSpec;
}

function datasecMembers(btf: Btf, name: string): number[] {
  for (const id of btf.idsByName(name)) {
    const t = btf.type(id);
    if (t.kind === BtfKind.Datasec) return t.vars.map((v) => v.type);
  }
  return [];
}

export function collectExterns(elf: ElfFile, btf: Btf | undefined, objectName: string): Externs {
  const undefinedSyms = elf.symbols.filter((s) => s.sectionIndex === SHN_UNDEF && s.type !== STT_SECTION && s.name);
  if (undefinedSyms.length === 0) return { externs: [] };
  if (!btf)
    throw new ObjectFormatError(
      "symbol table",
      0,
      `extern ${undefinedSyms[0]!.name} needs the object's BTF to say what it is (build with -g)`,
    );

  const weak = new Set(undefinedSyms.filter((s) => s.bind === STB_WEAK).map((s) => s.name));
  const externs: ExternSpec[] = [];
  const base = { offset: 0, size: 0 };
  for (const id of datasecMembers(btf, ".kconfig")) {
    const v = btf.type(id);
    if (v.kind !== BtfKind.Var || v.linkage !== BtfLinkage.Extern) continue;
    const size = btf.resolveSize(v.type);
    if (size === 0) throw new ObjectFormatError(btf.where, btf.typeOffset(id), `.kconfig extern ${v.name} has size 0`);
    externs.push({ name: v.name, kind: "kconfig", weak: weak.has(v.name), typeId: v.type, typed: true, ...base, size });
  }
  for (const id of datasecMembers(btf, ".ksyms")) {
    const t = btf.type(id);
    if (t.kind === BtfKind.Func)
      externs.push({ name: t.name, kind: "ksym_func", weak: weak.has(t.name), typeId: id, typed: true, ...base });
    else if (t.kind === BtfKind.Var) {
      const typed = btf.skipModifiers(t.type) !== 0;
      externs.push({ name: t.name, kind: "ksym_var", weak: weak.has(t.name), typeId: t.type, typed, ...base });
    }
  }
  const known = new Set(externs.map((e) => e.name));
  const unknown = undefinedSyms.find((s) => !known.has(s.name));
  if (unknown) {
    throw new ObjectFormatError("symbol table", 0, `extern ${unknown.name} is neither __kconfig nor __ksym (libbpf supports only those)`);
  }

  const kconfig = externs.filter((e) => e.kind === "kconfig");
  if (kconfig.length === 0) return { externs };
  // libbpf's layout (cmp_externs, bpf_object__collect_externs): by alignment, largest first, then
  // by size, smallest first, then by name; each at its type's alignment; the map is exactly as
  // large as the last value's end.
  const aligns = new Map(kconfig.map((e) => [e, btf.alignOf(e.typeId)]));
  const align = (e: ExternSpec) => aligns.get(e)!;
  kconfig.sort((a, b) => align(b) - align(a) || a.size - b.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let offset = 0;
  for (const e of kconfig) {
    offset = Math.ceil(offset / align(e)) * align(e);
    e.offset = offset;
    offset += e.size;
    // The map is allocated here: BTF sizes (up to 4 GiB each) must not make it gigabytes.
    if (offset > MAX_KCONFIG_SIZE) {
      throw new ObjectFormatError(
        btf.where,
        btf.typeOffset(e.typeId),
        `type [${e.typeId}] of .kconfig extern ${e.name} is ${e.size} bytes: the .kconfig map would be larger than ${MAX_KCONFIG_SIZE} bytes`,
      );
    }
  }
  const valueSize = Math.max(1, offset);
  const kconfigMap: MapSpec = {
    name: internalMapName(objectName, ".kconfig"),
    sectionName: ".kconfig",
    type: BpfMapType.ARRAY,
    keySize: 4,
    valueSize,
    maxEntries: 1,
    flags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE,
    data: new InitialData("kconfig", valueSize),
    freeze: true,
    btfKeyTypeId: 0,
    btfValueTypeId: 0,
  };
  return { externs, kconfigMap };
}
