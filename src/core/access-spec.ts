/**
 * Access specs. clang records each CO-RE access as a root type id plus an
 * access string such as "0:70" or "0:36:0:0": the first number indexes the
 * root pointer as an array, each further number is a member index (struct or
 * union) or an element index (array). Parsing walks the local types along
 * that string and keeps two views of it:
 *
 * - the raw spec, one number per step, as written in the string;
 * - the accessors, only the steps that mean something across kernels: the
 *   initial index, each *named* field and each array index. Steps through
 *   anonymous structs/unions are left out, because the target may nest the
 *   same field differently.
 *
 * Type-based relocations have no access path (the string is "0"); enum-value
 * relocations have one step, the enumerator's index.
 */
import { RelocationError } from "../errors.js";
import type { Btf } from "../btf/btf.js";
import type { CoreReloKind } from "../btf/ext.js";
import { BtfKind, isComposite, isEnum } from "../btf/types.js";
import type { ArrayType, BtfType } from "../btf/types.js";
import { isEnumValueBased, isFieldBased, isTypeBased } from "./kinds.js";

/** libbpf's BPF_CORE_SPEC_MAX_LEN: deepest access path accepted. */
export const CORE_SPEC_MAX_LEN = 64;

export interface CoreAccessor {
  /** For a field: the struct/union holding it. For an array step (and the root): the element type. Modifiers skipped. */
  typeId: number;
  /** Member index, array index, or enumerator index. */
  idx: number;
  /** Field or enumerator name; undefined for array steps and the root. */
  name?: string;
}

export interface CoreSpec {
  btf: Btf;
  /** The relocation's type id as written (typedefs not skipped); for a target spec, the candidate's id. */
  rootTypeId: number;
  kind: CoreReloKind;
  /** The meaningful steps (see the file comment). Empty for type-based relocations. */
  accessors: CoreAccessor[];
  /** Every step of the access string. */
  raw: number[];
  /** Bit offset of the accessed field from the start of the root object. */
  bitOffset: number;
}

/** What a relocation record says (the `CoreRelo` of .BTF.ext, or one built by hand). */
export interface CoreReloRecord {
  typeId: number;
  accessStr: string;
  kind: CoreReloKind;
}

function fail(problem: string): never {
  throw new RelocationError(problem);
}

/** Type `id` with typedefs and qualifiers skipped. */
export function skipMods(btf: Btf, id: number): BtfType {
  return btf.type(btf.skipModifiers(id));
}

/** resolveSize, turning "this type has no size" into a relocation failure. */
export function sizeOf(btf: Btf, id: number): number {
  try {
    return btf.resolveSize(id);
  } catch (err) {
    fail(`cannot size type [${id}]: ${(err as Error).message}`);
  }
}

export function vlen(t: BtfType): number {
  if (isComposite(t)) return t.members.length;
  if (isEnum(t)) return t.values.length;
  if (t.kind === BtfKind.FuncProto) return t.params.length;
  if (t.kind === BtfKind.Datasec) return t.vars.length;
  return 0;
}

/**
 * A zero-length array that is the last member of the struct named by the
 * accessor before it: such a flexible array may be indexed past its (zero)
 * bound. `prev` is the previous high-level accessor.
 */
export function isFlexArray(btf: Btf, prev: CoreAccessor | undefined, arr: ArrayType): boolean {
  if (!prev || prev.name === undefined || arr.nelems > 0) return false;
  const t = btf.type(prev.typeId);
  return prev.idx === vlen(t) - 1;
}

/** "0:1:2" → [0, 1, 2]; RelocationError for anything else. */
export function parseAccessString(accessStr: string): number[] {
  if (accessStr === "" || accessStr.startsWith(":")) fail(`invalid access string "${accessStr}"`);
  const parts = accessStr.split(":");
  if (parts.length > CORE_SPEC_MAX_LEN) fail(`access string "${accessStr}" is deeper than ${CORE_SPEC_MAX_LEN} steps`);
  return parts.map((p) => {
    if (!/^[0-9]+$/.test(p)) fail(`invalid access string "${accessStr}"`);
    const n = Number(p);
    if (!Number.isSafeInteger(n) || n > 0x7fffffff) fail(`access index ${p} in "${accessStr}" is out of range`);
    return n;
  });
}

/** Parses a relocation's access string against the local BTF (libbpf's bpf_core_parse_spec). */
export function parseCoreSpec(btf: Btf, relo: CoreReloRecord): CoreSpec {
  const spec: CoreSpec = { btf, rootTypeId: relo.typeId, kind: relo.kind, accessors: [], raw: [], bitOffset: 0 };
  if (relo.accessStr === "" || relo.accessStr.startsWith(":")) fail(`invalid access string "${relo.accessStr}"`);
  if (relo.typeId <= 0 || relo.typeId >= btf.typeCount) fail(`type id ${relo.typeId} does not exist in the local BTF`);

  if (isTypeBased(relo.kind)) {
    if (relo.accessStr !== "0") fail(`type-based relocation with access string "${relo.accessStr}" (expected "0")`);
    return spec;
  }
  const raw = parseAccessString(relo.accessStr);
  spec.raw = raw;

  let id = btf.skipModifiers(relo.typeId);
  let t = btf.type(id);
  const first = raw[0]!;
  spec.accessors.push({ typeId: id, idx: first });

  if (isEnumValueBased(relo.kind)) {
    if (!isEnum(t)) fail(`enum value relocation on [${relo.typeId}], which is a ${BtfKind[t.kind]}, not an enum`);
    if (raw.length > 1 || first >= t.values.length) fail(`enumerator index "${relo.accessStr}" is out of range for enum '${t.name}'`);
    spec.accessors[0]!.name = t.values[first]!.name;
    return spec;
  }
  if (!isFieldBased(relo.kind)) fail(`unrecognized CO-RE relocation kind ${relo.kind}`);

  spec.bitOffset = first * sizeOf(btf, id) * 8;
  for (let i = 1; i < raw.length; i++) {
    id = btf.skipModifiers(id);
    t = btf.type(id);
    const idx = raw[i]!;
    if (isComposite(t)) {
      const m = t.members[idx];
      if (!m) fail(`access string "${relo.accessStr}": ${kindWord(t)} '${t.name}' has no member #${idx}`);
      spec.bitOffset += m.bitOffset;
      if (m.name !== "") spec.accessors.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t.kind === BtfKind.Array) {
      const elem = btf.skipModifiers(t.elemType);
      const flex = isFlexArray(btf, spec.accessors[spec.accessors.length - 1], t);
      if (!flex && idx >= t.nelems) fail(`access string "${relo.accessStr}": index ${idx} is past the end of a ${t.nelems}-element array`);
      spec.accessors.push({ typeId: elem, idx });
      spec.bitOffset += idx * sizeOf(btf, elem) * 8;
      id = elem;
    } else {
      fail(`access string "${relo.accessStr}" steps into [${id}], a ${BtfKind[t.kind]}, at step ${i}`);
    }
  }
  return spec;
}

export function kindWord(t: BtfType): string {
  switch (t.kind) {
    case BtfKind.Struct:
      return "struct";
    case BtfKind.Union:
      return "union";
    case BtfKind.Enum:
    case BtfKind.Enum64:
      return "enum";
    case BtfKind.Typedef:
      return "typedef";
    case BtfKind.Fwd:
      return t.union ? "union" : "struct";
    default:
      return BtfKind[t.kind].toLowerCase();
  }
}

/** The root type's name, "<anon>" when it has none. */
export function rootName(spec: CoreSpec): string {
  return spec.btf.name(spec.rootTypeId) || "<anon>";
}

/**
 * The spec's name path: "task_struct::real_parent", "task_struct::comm[2]",
 * "task_struct::cpus_mask.bits[0]", "bpf_map_type::BPF_MAP_TYPE_RINGBUF",
 * or just the type name for type-based relocations.
 */
export function specPath(spec: CoreSpec): string {
  let s = rootName(spec);
  if (isTypeBased(spec.kind)) return s;
  if (isEnumValueBased(spec.kind)) return `${s}::${spec.accessors[0]?.name ?? "?"}`;
  const acc = spec.accessors;
  if (acc.length > 0 && acc[0]!.idx > 0) s += `[${acc[0]!.idx}]`;
  for (let i = 1; i < acc.length; i++) {
    const a = acc[i]!;
    if (a.name === undefined) s += `[${a.idx}]`;
    else s += (i === 1 ? "::" : ".") + a.name;
  }
  return s;
}

/** The name path plus the raw steps: "task_struct::real_parent (0:95)". */
export function formatSpec(spec: CoreSpec): string {
  const path = specPath(spec);
  if (isTypeBased(spec.kind)) return `${path} [${spec.rootTypeId}]`;
  return `${path} (${spec.raw.join(":")})`;
}
