/**
 * BTF-defined maps: `struct { __uint(type, ...); __type(key, ...); ... } name
 * SEC(".maps");`. The map's attributes are encoded in the *types* of the
 * struct's members, which is why BTF is needed to read them:
 *   __uint(name, N)   int (*name)[N]      → N is the array's element count
 *   __type(name, T)   typeof(T) *name     → T is the pointee
 *   __array(name, T)  typeof(T) *name[]   → inner map / program slots
 *   __ulong(name, N)  enum { ... = N } name (libbpf ≥ 1.2, for 64-bit values)
 * `.values = { ... }` initialisers appear as relocations in `.rel.maps`.
 */
import type { Btf } from "../btf/btf.js";
import { BtfKind, type CompositeType, type Member } from "../btf/types.js";
import { type ElfFile, STT_OBJECT } from "../elf/elf-file.js";
import { ObjectFormatError } from "../errors.js";
import type { ObjectBtf } from "./object-btf.js";
import { BpfMapType } from "../abi/uapi-enums.js";
import { type MapSpec, type PinningType, ringbufSize } from "./map-spec.js";

interface MapDef {
  type?: number;
  maxEntries?: number;
  flags?: number;
  numaNode?: number;
  mapExtra?: bigint;
  pinning?: number;
  keySize?: number;
  valueSize?: number;
  keyType?: number;
  valueType?: number;
  inner?: MapDef;
  /** Byte offset of the `values` member inside the definition struct. */
  valuesOffset?: number;
}

class MapDefReader {
  constructor(
    private readonly btf: Btf,
    private readonly mapName: string,
  ) {}

  private fail(problem: string): never {
    throw new ObjectFormatError(`map ${this.mapName} in section .maps`, 0, problem);
  }

  /** __uint(name, N): pointer to an array of N elements. */
  private uint(m: Member): number {
    const ptr = this.btf.type(this.btf.skipModifiers(m.type));
    if (ptr.kind !== BtfKind.Ptr) this.fail(`attribute ${m.name} is not encoded as __uint() (a pointer to an array)`);
    const arr = this.btf.type(this.btf.skipModifiers(ptr.type));
    if (arr.kind !== BtfKind.Array) this.fail(`attribute ${m.name} is not encoded as __uint() (a pointer to an array)`);
    return arr.nelems;
  }

  /** __ulong (an enum constant) or __uint. */
  private ulong(m: Member): bigint {
    const t = this.btf.type(this.btf.skipModifiers(m.type));
    if ((t.kind === BtfKind.Enum || t.kind === BtfKind.Enum64) && t.values.length === 1) return t.values[0]!.value;
    return BigInt(this.uint(m));
  }

  /** __type(name, T): pointer to T; returns T's id. */
  private pointee(m: Member): number {
    const ptr = this.btf.type(this.btf.skipModifiers(m.type));
    if (ptr.kind !== BtfKind.Ptr) this.fail(`attribute ${m.name} is not encoded as __type() (a pointer)`);
    return ptr.type;
  }

  read(defTypeId: number, isInner = false): MapDef {
    const t = this.btf.type(this.btf.skipModifiers(defTypeId));
    if (t.kind !== BtfKind.Struct) this.fail(`definition is a ${BtfKind[t.kind]}, not a struct`);
    const def: MapDef = {};
    for (const m of (t as CompositeType).members) {
      switch (m.name) {
        case "type":
          def.type = this.uint(m);
          break;
        case "max_entries":
          def.maxEntries = this.uint(m);
          break;
        case "map_flags":
          def.flags = this.uint(m);
          break;
        case "numa_node":
          def.numaNode = this.uint(m);
          break;
        case "map_extra":
          def.mapExtra = this.ulong(m);
          break;
        case "pinning":
          def.pinning = this.uint(m);
          break;
        case "key_size":
          def.keySize = this.uint(m);
          break;
        case "value_size":
          def.valueSize = this.uint(m);
          break;
        case "key":
          def.keyType = this.pointee(m);
          break;
        case "value":
          def.valueType = this.pointee(m);
          break;
        case "values": {
          if (isInner) this.fail("an inner map cannot have .values itself");
          def.valuesOffset = m.bitOffset / 8;
          const arr = this.btf.type(this.btf.skipModifiers(m.type));
          if (arr.kind !== BtfKind.Array) this.fail("values is not declared with __array()");
          const elem = this.btf.type(this.btf.skipModifiers(arr.elemType));
          if (elem.kind !== BtfKind.Ptr) this.fail("values elements are not pointers");
          const target = this.btf.type(this.btf.skipModifiers(elem.type));
          // A prog array's slots point at function prototypes; a map-in-map's at a map definition.
          if (target.kind === BtfKind.Struct) def.inner = this.read(elem.type, true);
          break;
        }
        default:
          this.fail(
            `unknown attribute ${m.name} (libbpf knows type, key, value, key_size, value_size, max_entries, map_flags, numa_node, map_extra, pinning, values)`,
          );
      }
    }
    return def;
  }
}

function sizeOf(btf: Btf, def: MapDef, which: "key" | "value", mapName: string): number {
  const typeId = which === "key" ? def.keyType : def.valueType;
  const explicit = which === "key" ? def.keySize : def.valueSize;
  if (typeId === undefined) return explicit ?? 0;
  const size = btf.resolveSize(typeId);
  if (explicit !== undefined && explicit !== size) {
    throw new ObjectFormatError(
      `map ${mapName} in section .maps`,
      0,
      `${which}_size ${explicit} disagrees with the ${which} type's size ${size}`,
    );
  }
  return size;
}

function toSpec(btf: Btf, name: string, def: MapDef): MapSpec {
  if (def.type === undefined) throw new ObjectFormatError(`map ${name} in section .maps`, 0, "has no type");
  const type = def.type as BpfMapType;
  let keySize = sizeOf(btf, def, "key", name);
  let valueSize = sizeOf(btf, def, "value", name);
  let maxEntries = def.maxEntries ?? 0;
  if (type === BpfMapType.PERF_EVENT_ARRAY) {
    // libbpf's defaults: fds as 4-byte keys/values. max_entries 0 means one
    // slot per possible CPU, which only the loading host knows (see BpfMap.create).
    keySize ||= 4;
    valueSize ||= 4;
  }
  if (type === BpfMapType.RINGBUF || type === BpfMapType.USER_RINGBUF) {
    maxEntries = ringbufSize(maxEntries);
  }
  if ((type === BpfMapType.ARRAY_OF_MAPS || type === BpfMapType.HASH_OF_MAPS) && def.inner) {
    valueSize ||= 4; // the value is the inner map's fd (then its id)
  }
  if (type === BpfMapType.PROG_ARRAY) valueSize ||= 4;
  return {
    name,
    type,
    keySize,
    valueSize,
    maxEntries,
    flags: def.flags ?? 0,
    ...(def.numaNode !== undefined ? { numaNode: def.numaNode } : {}),
    ...(def.mapExtra !== undefined ? { mapExtra: def.mapExtra } : {}),
    ...(def.pinning !== undefined ? { pinning: def.pinning as PinningType } : {}),
    freeze: false,
    btfKeyTypeId: def.keyType ?? 0,
    btfValueTypeId: def.valueType ?? 0,
    ...(def.inner ? { innerMap: toSpec(btf, `${name}.inner`, def.inner) } : {}),
  };
}

export function btfMapSpecs(elf: ElfFile, objBtf: ObjectBtf | undefined): MapSpec[] {
  const section = elf.section(".maps");
  if (!section) return [];
  if (!objBtf)
    throw new ObjectFormatError("section .maps", 0, "BTF-defined maps need the object's .BTF section, which is missing (build with -g)");
  const btf = objBtf.btf;
  const datasecId = objBtf.datasecId(".maps");
  if (datasecId === undefined) throw new ObjectFormatError("section .BTF", 0, "no DATASEC describes section .maps");
  const datasec = btf.type(datasecId);
  if (datasec.kind !== BtfKind.Datasec) throw new ObjectFormatError("section .BTF", 0, ".maps is not a DATASEC");
  const rel = elf.relocations.find((r) => r.targetIndex === section.index);
  // Every map symbol must have its BTF description, or it would silently not be created.
  const described = new Set(datasec.vars.map((vsi) => btf.name(vsi.type)));
  const undescribed = elf.symbols.find(
    (s) => s.sectionIndex === section.index && s.type === STT_OBJECT && s.name && !described.has(s.name),
  );
  if (undescribed) {
    throw new ObjectFormatError(
      "section .BTF",
      0,
      `map ${JSON.stringify(undescribed.name)} in section .maps has no VAR in the .maps DATASEC`,
    );
  }

  return datasec.vars.map((vsi) => {
    const v = btf.type(vsi.type);
    if (v.kind !== BtfKind.Var) throw new ObjectFormatError("section .BTF", 0, `.maps entry ${vsi.type} is not a VAR`);
    const def = new MapDefReader(btf, v.name).read(v.type);
    const spec = toSpec(btf, v.name, def);
    if (def.valuesOffset !== undefined && rel) {
      const slots = new Map<number, string>();
      const start = vsi.offset + def.valuesOffset;
      for (const e of rel.entries) {
        if (e.offset < start || e.offset >= vsi.offset + vsi.size) continue;
        slots.set((e.offset - start) / 8, elf.symbols[e.symbolIndex]!.name);
      }
      if (slots.size) return { ...spec, initSlots: slots };
    }
    return spec;
  });
}
