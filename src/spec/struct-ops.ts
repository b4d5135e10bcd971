/**
 * struct_ops maps: each variable of SEC(".struct_ops") or
 * SEC(".struct_ops.link") is a kernel struct of callbacks (e.g. a
 * `struct tcp_congestion_ops`) whose function pointers name BPF programs.
 * It becomes a BPF_MAP_TYPE_STRUCT_OPS map (one element) named after the
 * variable, as libbpf makes it; the kernel side of the layout (its value
 * type, which program fills which member) is resolved at load against the
 * kernel's BTF (src/object/struct-ops.ts).
 *
 * The pointers are relocations in `.rel.struct_ops*`: offset in the
 * section → function symbol, i.e. member → program.
 */
import { BpfMapType, BpfProgType } from "../abi/uapi-enums.js";
import type { Btf } from "../btf/btf.js";
import { BtfKind } from "../btf/types.js";
import { type ElfFile, type ElfSection, STT_FUNC } from "../elf/elf-file.js";
import { ObjectFormatError, RelocationError, UnsupportedError } from "../errors.js";
import type { MapSpec } from "./map-spec.js";
import type { ProgramSpec } from "./object-spec.js";

/** BPF_F_LINK: a struct_ops map registered through a bpf_link (.struct_ops.link). */
export const BPF_F_LINK = 1 << 13;

const STRUCT_OPS_SECTION = ".struct_ops";
const STRUCT_OPS_LINK_SECTION = ".struct_ops.link";

export interface StructOpsSpec {
  /** The struct in the object's BTF ("tcp_congestion_ops"), by id and name. */
  typeId: number;
  typeName: string;
  /** The variable's initial bytes, in the object's layout of the struct. */
  data: Uint8Array;
  /** Registered through a bpf_link (SEC(".struct_ops.link")) rather than by updating the map. */
  link: boolean;
  /** Index of a member of the object's struct → the program its function pointer names. */
  programs: Map<number, string>;
}

function isStructOpsSection(s: ElfSection): boolean {
  return s.name === STRUCT_OPS_SECTION || s.name === STRUCT_OPS_LINK_SECTION;
}

/**
 * One map spec per struct_ops variable of the object, after its programs
 * are known (function pointers must name struct_ops programs).
 */
export function structOpsMapSpecs(elf: ElfFile, btf: Btf | undefined, programs: readonly ProgramSpec[]): MapSpec[] {
  const sections = elf.sections.filter(isStructOpsSection);
  const optional = elf.sections.find((s) => s.name === `?${STRUCT_OPS_SECTION}` || s.name === `?${STRUCT_OPS_LINK_SECTION}`);
  if (optional) {
    throw new UnsupportedError(
      `section ${optional.name}: struct_ops maps that are not created by default ("?" sections) are not supported`,
    );
  }
  if (sections.length === 0) return [];
  if (!btf) throw new ObjectFormatError(`section ${sections[0]!.name}`, 0, "struct_ops maps need the object's BTF (.BTF) to be described");
  const out: MapSpec[] = [];
  for (const section of sections) {
    const where = `section ${section.name}`;
    const datasecId = btf.idsByName(section.name).find((id) => btf.kind(id) === BtfKind.Datasec);
    if (datasecId === undefined) throw new ObjectFormatError(where, 0, `no DATASEC ${section.name} in the object's BTF`);
    const datasec = btf.type(datasecId);
    if (datasec.kind !== BtfKind.Datasec) continue;
    const inSection: Placed[] = [];
    for (const v of datasec.vars) {
      const varType = btf.type(v.type);
      const typeId = btf.skipModifiers(varType.kind === BtfKind.Var ? varType.type : v.type);
      const t = btf.type(typeId);
      if (t.kind !== BtfKind.Struct) throw new ObjectFormatError(where, v.offset, `variable ${varType.name} is not a struct`);
      if (!t.name)
        throw new UnsupportedError(
          `${where}: variable ${varType.name} has an anonymous struct type; struct_ops need a named kernel struct`,
        );
      if (v.offset + t.size > section.size) {
        throw new ObjectFormatError(where, v.offset, `variable ${varType.name} runs past the end of the section`);
      }
      const spec: MapSpec = {
        name: varType.name,
        type: BpfMapType.STRUCT_OPS,
        keySize: 4,
        valueSize: t.size,
        maxEntries: 1,
        flags: section.name === STRUCT_OPS_LINK_SECTION ? BPF_F_LINK : 0,
        freeze: false,
        btfKeyTypeId: 0,
        btfValueTypeId: 0,
        structOps: {
          typeId,
          typeName: t.name,
          data: section.data.slice(v.offset, v.offset + t.size),
          link: section.name === STRUCT_OPS_LINK_SECTION,
          programs: new Map(),
        },
      };
      inSection.push({ spec, ops: spec.structOps!, offset: v.offset });
    }
    bindFunctionPointers(elf, btf, section, inSection, programs);
    out.push(...inSection.map((x) => x.spec));
  }
  return out;
}

/** A struct_ops map and where its variable lies in the section. */
interface Placed {
  spec: MapSpec;
  ops: StructOpsSpec;
  offset: number;
}

/** `.rel.struct_ops*`: each relocation sets one function pointer member to a program. */
function bindFunctionPointers(
  elf: ElfFile,
  btf: Btf,
  section: ElfSection,
  maps: readonly Placed[],
  programs: readonly ProgramSpec[],
): void {
  const rel = elf.relocations.find((r) => r.targetIndex === section.index);
  for (const entry of rel?.entries ?? []) {
    const at = `relocation at offset ${entry.offset} of ${section.name}`;
    const placed = maps.find((m) => entry.offset >= m.offset && entry.offset < m.offset + m.spec.valueSize);
    if (!placed) throw new RelocationError(`${at}: no struct_ops variable there`);
    const { spec: map, ops } = placed;
    const t = btf.type(ops.typeId);
    if (t.kind !== BtfKind.Struct) continue;
    const bitOffset = (entry.offset - placed.offset) * 8;
    const index = t.members.findIndex((m) => m.bitOffset === bitOffset);
    const member = t.members[index];
    if (!member) throw new RelocationError(`${at}: no member of struct ${ops.typeName} starts there`);
    if (!isFunctionPointer(btf, member.type)) {
      throw new RelocationError(`${at}: member ${member.name} of struct ${ops.typeName} is not a function pointer`);
    }
    const sym = elf.symbols[entry.symbolIndex]!;
    const fn =
      sym.type === STT_FUNC
        ? sym
        : elf.symbols.find((s) => s.type === STT_FUNC && s.sectionIndex === sym.sectionIndex && s.value === sym.value);
    const program = fn ? programs.find((p) => p.name === fn.name) : undefined;
    if (!program) throw new RelocationError(`${at}: ${map.name}.${member.name} points at ${fn?.name ?? sym.name}, which is not a program`);
    if (program.section.def.progType !== BpfProgType.STRUCT_OPS) {
      throw new RelocationError(
        `${map.name}.${member.name} points at program ${program.name} of section ${program.sectionName}, which is not a struct_ops program (SEC("struct_ops/..."))`,
      );
    }
    ops.programs.set(index, program.name);
  }
}

function isFunctionPointer(btf: Btf, id: number): boolean {
  const t = btf.type(btf.skipModifiers(id));
  return t.kind === BtfKind.Ptr && btf.kind(btf.skipModifiers(t.type)) === BtfKind.FuncProto;
}
