/**
 * A description of a BPF object, without loading it: sections, programs,
 * maps with their BTF key/value types, global variables with initial
 * values, every relocation (map, global data, subprogram calls, externs,
 * CO-RE with its access path), and a BTF summary. Pure: `tsbpf inspect`
 * prints it, and a library user can read it as data.
 */
import type { Btf } from "../btf/btf.js";
import { coreReloKindName, formatSpec, parseCoreSpec } from "../core/index.js";
import { cTypeName } from "../btf/type-name.js";
import { BtfKind } from "../btf/types.js";
import { SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE } from "../elf/elf-file.js";
import { BpfAttachTypeNames, BpfMapTypeNames, BpfProgType, BpfProgTypeNames } from "../abi/uapi-enums.js";
import { MAP_FLAG_NAMES } from "../abi/uapi-flags.js";
import type { InitialData } from "./map-spec.js";
import type { ObjectSpec } from "./object-spec.js";

export interface InspectReport {
  object: string;
  license: string;
  sections: Array<{ index: number; name: string; type: number; size: number; flags: string }>;
  programs: Array<{
    name: string;
    section: string;
    type: string;
    expectedAttachType: string | null;
    attach: string;
    target: string;
    instructions: number;
    functions: string[];
    license: string;
  }>;
  maps: Array<{
    name: string;
    section?: string;
    type: string;
    keySize: number;
    valueSize: number;
    keyType?: string;
    valueType?: string;
    maxEntries: number;
    flags: string[];
    inner?: string;
    initialSlots?: Record<number, string>;
    /** struct_ops maps: member → program filling it. */
    callbacks?: Record<string, string>;
  }>;
  variables: Array<{ name: string; section: string; offset: number; size: number; type?: string; initial: string }>;
  relocations: Array<{ program: string; insn: number; kind: string; target: string }>;
  btf?: { types: number; funcInfo: number; lineInfo: number; coreRelocations: number };
}

const flagNames = (flags: number) => MAP_FLAG_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n);

function sectionFlags(flags: bigint): string {
  return (flags & BigInt(SHF_WRITE) ? "W" : "") + (flags & BigInt(SHF_ALLOC) ? "A" : "") + (flags & BigInt(SHF_EXECINSTR) ? "X" : "");
}

/** Type of a global variable, from its VAR in the object's BTF. */
export function variableType(btf: Btf | undefined, name: string): number | undefined {
  if (!btf) return undefined;
  for (const id of btf.idsByName(name)) {
    const t = btf.type(id);
    if (t.kind === BtfKind.Var) return t.type;
  }
  return undefined;
}

/**
 * How much of a variable's initial value inspect shows: a huge array (a
 * 256 MiB .bss buffer) is described, not copied into the report.
 */
const SHOWN_STRING_BYTES = 4096;
const SHOWN_HEX_BYTES = 64;

/** An initial value in words, from at most SHOWN_STRING_BYTES of it (`size` is the whole value's). */
function showInitial(data: InitialData, offset: number, size: number, btf: Btf | undefined, typeId: number | undefined): string {
  return showValue(data.read(offset, Math.min(size, SHOWN_STRING_BYTES)), btf, typeId, size);
}

/** An initial value in words: numbers for integers, text for char arrays, hex otherwise. */
function showValue(bytes: Uint8Array, btf: Btf | undefined, typeId: number | undefined, size = bytes.byteLength): string {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const t = btf && typeId !== undefined ? btf.type(btf.skipModifiers(typeId)) : undefined;
  if (t?.kind === BtfKind.Int || (!t && [1, 2, 4, 8].includes(bytes.byteLength))) {
    const signed = t?.kind === BtfKind.Int ? (t.encoding & 1) !== 0 : false;
    switch (bytes.byteLength) {
      case 1:
        return String(signed ? v.getInt8(0) : v.getUint8(0));
      case 2:
        return String(signed ? v.getInt16(0, true) : v.getUint16(0, true));
      case 4:
        return String(signed ? v.getInt32(0, true) : v.getUint32(0, true));
      case 8:
        return String(signed ? v.getBigInt64(0, true) : v.getBigUint64(0, true));
    }
  }
  if (t?.kind === BtfKind.Array && btf!.type(btf!.skipModifiers(t.elemType)).kind === BtfKind.Int && btf!.resolveSize(t.elemType) === 1) {
    const end = bytes.indexOf(0);
    const text = JSON.stringify(new TextDecoder().decode(end >= 0 ? bytes.subarray(0, end) : bytes));
    return end < 0 && size > bytes.byteLength ? `${text}… (${size} bytes)` : text;
  }
  const hex = Array.from(bytes.subarray(0, SHOWN_HEX_BYTES), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return size > SHOWN_HEX_BYTES ? `${hex} … (${size} bytes)` : hex;
}

export function inspectObject(spec: ObjectSpec): InspectReport {
  const btf = spec.btf?.btf;
  const typeName = (id: number) => (btf && id ? cTypeName(btf, id) : undefined);
  const relocations: InspectReport["relocations"] = [];
  for (const p of spec.programs) {
    p.insns.forEach((insn, i) => {
      const ref = insn.reference;
      if (ref?.kind === "map") relocations.push({ program: p.name, insn: i, kind: "map fd", target: ref.map });
      else if (ref?.kind === "map_value")
        relocations.push({
          program: p.name,
          insn: i,
          kind: "global data",
          target: `${ref.map}+${ref.offset}${ref.symbol ? ` (${ref.symbol})` : ""}`,
        });
      else if (ref?.kind === "call") relocations.push({ program: p.name, insn: i, kind: "subprogram call", target: ref.function });
      else if (ref?.kind === "func_addr") relocations.push({ program: p.name, insn: i, kind: "callback address", target: ref.function });
      else if (ref?.kind === "extern") relocations.push({ program: p.name, insn: i, kind: "extern", target: ref.name });
      if (insn.coreRelo && btf) {
        let target: string;
        try {
          target = formatSpec(parseCoreSpec(btf, insn.coreRelo));
        } catch {
          target = `${typeName(insn.coreRelo.typeId)} "${insn.coreRelo.accessStr}"`;
        }
        relocations.push({ program: p.name, insn: i, kind: `CO-RE ${coreReloKindName(insn.coreRelo.kind)}`, target });
      }
    });
  }
  const ext = spec.btf?.ext;
  const count = (m: Map<string, unknown[]> | undefined) => [...(m?.values() ?? [])].reduce((n, l) => n + l.length, 0);
  return {
    object: spec.name,
    license: spec.license,
    sections: spec.elf.sections
      .filter((s) => s.name)
      .map((s) => ({ index: s.index, name: s.name, type: s.type, size: s.size, flags: sectionFlags(s.flags) })),
    programs: spec.programs.map((p) => ({
      name: p.name,
      section: p.sectionName,
      // A section name no convention knows: the program has no type until one is set before load.
      type:
        p.section.def.progType === BpfProgType.UNSPEC
          ? "unknown"
          : (BpfProgTypeNames[p.section.def.progType] ?? String(p.section.def.progType)),
      expectedAttachType: p.section.def.expectedAttachType ? (BpfAttachTypeNames[p.section.def.expectedAttachType] ?? null) : null,
      attach: p.section.def.attach,
      target: p.section.target,
      instructions: p.insns.length,
      functions: p.insns.filter((i) => i.symbol).map((i) => i.symbol!),
      license: p.license,
    })),
    maps: spec.maps.map((m) => {
      const keyType = typeName(m.btfKeyTypeId);
      const valueType = typeName(m.structOps?.typeId ?? m.btfValueTypeId);
      const ops = m.structOps;
      const opsType = ops && btf ? btf.type(ops.typeId) : undefined;
      const callbacks =
        ops && opsType?.kind === BtfKind.Struct
          ? Object.fromEntries([...ops.programs].map(([i, prog]) => [opsType.members[i]?.name ?? String(i), prog]))
          : undefined;
      return {
        name: m.name,
        ...(m.sectionName ? { section: m.sectionName } : {}),
        type: BpfMapTypeNames[m.type] ?? String(m.type),
        keySize: m.keySize,
        valueSize: m.valueSize,
        ...(keyType ? { keyType } : {}),
        ...(valueType ? { valueType } : {}),
        maxEntries: m.maxEntries,
        flags: flagNames(m.flags),
        ...(m.innerMap ? { inner: `${BpfMapTypeNames[m.innerMap.type]} key ${m.innerMap.keySize}B value ${m.innerMap.valueSize}B` } : {}),
        ...(m.initSlots ? { initialSlots: Object.fromEntries(m.initSlots) } : {}),
        ...(callbacks ? { callbacks } : {}),
      };
    }),
    variables: spec.variables.map((v) => {
      const map = spec.maps.find((m) => m.name === v.map)!;
      const typeId = variableType(btf, v.name);
      const type = typeId !== undefined ? typeName(typeId) : undefined;
      return {
        name: v.name,
        section: v.section,
        offset: v.offset,
        size: v.size,
        ...(type ? { type } : {}),
        initial: showInitial(map.data!, v.offset, v.size, btf, typeId),
      };
    }),
    relocations,
    ...(btf
      ? {
          btf: {
            types: btf.typeCount - 1,
            funcInfo: count(ext?.funcInfo),
            lineInfo: count(ext?.lineInfo),
            coreRelocations: count(ext?.coreRelos),
          },
        }
      : {}),
  };
}
