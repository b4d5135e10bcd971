/**
 * The value a relocation stands for, computed once from the local spec (what
 * clang put in the instruction) and once from the target spec (what the
 * instruction must say for the target kernel). libbpf's
 * bpf_core_calc_*_relo, with values as unsigned 64-bit bigints.
 */
import { RelocationError } from "../errors.js";
import type { Btf } from "../btf/btf.js";
import { CoreReloKind } from "../btf/ext.js";
import { BTF_INT_SIGNED, BtfKind, isComposite, isEnum } from "../btf/types.js";
import { isEnumValueBased, isFieldBased, isTypeBased } from "./kinds.js";
import { type CoreSpec, sizeOf } from "./access-spec.js";

/** The outcome for one relocation: libbpf's bpf_core_relo_res. */
export interface CoreReloResult {
  /** The value clang wrote, expected in the instruction when `validate`. */
  origVal: bigint;
  /** The value to patch in (meaningless when `poison`). */
  newVal: bigint;
  /** The relocation could not be satisfied: the instruction is to be poisoned. */
  poison: boolean;
  /** Whether the instruction must hold origVal before patching. */
  validate: boolean;
  /** A load/store's memory size would have to change in a way that breaks the value (poisons LDX/ST/STX). */
  failMemszAdjust: boolean;
  /** Accessed field's (element) size locally / in the target, for load/store size adjustment; 0 if n/a. */
  origSize: number;
  newSize: number;
  origTypeId: number;
  newTypeId: number;
}

/** One side of a field relocation. */
interface FieldValue {
  val: bigint;
  /** Size of the loaded unit for FIELD_BYTE_OFFSET of a non-bitfield, else 0. */
  fieldSize: number;
  typeId: number;
  /** Whether the instruction's current value can be checked (false for bitfields: the compiler may differ). */
  validate: boolean;
}

/** Element size of `id`, looking through (nested) arrays. */
function elementSize(btf: Btf, id: number): { size: number; id: number } {
  let eid = btf.skipModifiers(id);
  for (let t = btf.type(eid); t.kind === BtfKind.Array; t = btf.type(eid)) eid = btf.skipModifiers(t.elemType);
  return { size: sizeOf(btf, eid), id: eid };
}

/** bpf_core_calc_field_relo; `spec` undefined means "no target field" (poison unless FIELD_EXISTS). */
function fieldValue(kind: CoreReloKind, spec: CoreSpec | undefined): FieldValue | "poison" {
  if (kind === CoreReloKind.FIELD_EXISTS) return { val: spec ? 1n : 0n, fieldSize: 0, typeId: 0, validate: true };
  if (!spec) return "poison";
  const btf = spec.btf;
  const acc = spec.accessors[spec.accessors.length - 1]!;

  if (acc.name === undefined) {
    // The access ends at an array element (or at the root): a[n].
    if (kind === CoreReloKind.FIELD_BYTE_OFFSET) {
      const elem = elementSize(btf, acc.typeId);
      return { val: BigInt(Math.floor(spec.bitOffset / 8)), fieldSize: elem.size, typeId: acc.typeId, validate: true };
    }
    if (kind === CoreReloKind.FIELD_BYTE_SIZE) {
      return { val: BigInt(sizeOf(btf, acc.typeId)), fieldSize: 0, typeId: 0, validate: true };
    }
    throw new RelocationError(`relocation kind ${kind} cannot be applied to an array element access`);
  }

  const parent = btf.type(acc.typeId);
  if (!isComposite(parent)) throw new RelocationError(`accessor [${acc.typeId}] is not a struct/union`);
  const member = parent.members[acc.idx]!;
  const fieldTypeId = btf.skipModifiers(member.type);
  const mt = btf.type(fieldTypeId);
  const bitOff = spec.bitOffset;
  let bitSize = member.bitfieldSize;
  const bitfield = bitSize > 0;
  let byteOff: number;
  let byteSize: number;
  if (bitfield) {
    // The smallest naturally aligned load (starting from the declared type's size) that covers every bit.
    byteSize = "size" in mt ? mt.size : 0;
    if (byteSize <= 0) throw new RelocationError(`bitfield ${member.name} has a type without a size`);
    byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    while (bitOff + bitSize - byteOff * 8 > byteSize * 8) {
      if (byteSize >= 8) throw new RelocationError(`bitfield ${member.name} cannot be read with one 64-bit load`);
      byteSize *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    }
  } else {
    byteSize = sizeOf(btf, fieldTypeId);
    byteOff = Math.floor(bitOff / 8);
    bitSize = byteSize * 8;
  }

  // For bitfields the compiler's choice of load may legitimately differ: only sign and right shift are checked.
  let validate = !bitfield;
  let val: bigint;
  let fieldSize = 0;
  let typeId = 0;
  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      val = BigInt(byteOff);
      if (!bitfield) {
        fieldSize = elementSize(btf, fieldTypeId).size;
        typeId = fieldTypeId;
      }
      break;
    case CoreReloKind.FIELD_BYTE_SIZE:
      val = BigInt(byteSize);
      break;
    case CoreReloKind.FIELD_SIGNED:
      val = (isEnum(mt) && mt.signed) || (mt.kind === BtfKind.Int && (mt.encoding & BTF_INT_SIGNED) !== 0) ? 1n : 0n;
      validate = true;
      break;
    case CoreReloKind.FIELD_LSHIFT_U64:
      // Little-endian: shift the field's top bit up to bit 63. u32 arithmetic, as libbpf's.
      val = BigInt((64 - (bitOff + bitSize - byteOff * 8)) >>> 0);
      break;
    case CoreReloKind.FIELD_RSHIFT_U64:
      val = BigInt((64 - bitSize) >>> 0);
      validate = true;
      break;
    default:
      throw new RelocationError(`unrecognized CO-RE relocation kind ${kind}`);
  }
  return { val, fieldSize, typeId, validate };
}

/** bpf_core_calc_type_relo; `spec` undefined means no compatible target type (the answer is then 0). */
function typeValue(kind: CoreReloKind, spec: CoreSpec | undefined): bigint {
  if (!spec) return 0n;
  switch (kind) {
    case CoreReloKind.TYPE_ID_TARGET:
      return BigInt(spec.rootTypeId);
    case CoreReloKind.TYPE_EXISTS:
    case CoreReloKind.TYPE_MATCHES:
      return 1n;
    case CoreReloKind.TYPE_SIZE:
      return BigInt(sizeOf(spec.btf, spec.rootTypeId));
    default:
      throw new RelocationError(`unrecognized CO-RE relocation kind ${kind}`);
  }
}

/** An enumerator's value as libbpf carries it: a 32-bit enum value is sign-extended to 64 bits. */
function enumeratorValue(spec: CoreSpec): bigint {
  const acc = spec.accessors[0]!;
  const t = spec.btf.type(acc.typeId);
  if (!isEnum(t)) throw new RelocationError(`[${acc.typeId}] is not an enum`);
  const v = t.values[acc.idx]!.value;
  if (t.kind === BtfKind.Enum) return BigInt.asUintN(64, BigInt.asIntN(32, v));
  return BigInt.asUintN(64, v);
}

/** bpf_core_calc_enumval_relo. */
function enumValue(kind: CoreReloKind, spec: CoreSpec | undefined): bigint | "poison" {
  if (kind === CoreReloKind.ENUMVAL_EXISTS) return spec ? 1n : 0n;
  if (kind !== CoreReloKind.ENUMVAL_VALUE) throw new RelocationError(`unrecognized CO-RE relocation kind ${kind}`);
  return spec ? enumeratorValue(spec) : "poison";
}

/**
 * The relocation result for a local spec and one target spec (undefined:
 * nothing in the target matched). TYPE_ID_LOCAL never gets here.
 */
export function calcRelocation(local: CoreSpec, target: CoreSpec | undefined): CoreReloResult {
  const res: CoreReloResult = {
    origVal: 0n,
    newVal: 0n,
    poison: false,
    validate: true,
    failMemszAdjust: false,
    origSize: 0,
    newSize: 0,
    origTypeId: 0,
    newTypeId: 0,
  };
  const kind = local.kind;
  if (isFieldBased(kind)) {
    const orig = fieldValue(kind, local);
    if (orig === "poison") throw new RelocationError("local spec is missing");
    res.origVal = orig.val;
    res.origSize = orig.fieldSize;
    res.origTypeId = orig.typeId;
    res.validate = orig.validate;
    const next = fieldValue(kind, target);
    if (next === "poison") {
      res.poison = true;
      return res;
    }
    res.newVal = next.val;
    res.newSize = next.fieldSize;
    res.newTypeId = next.typeId;
    if (res.origSize !== res.newSize) {
      // Resizing a load is safe for pointers (32-bit kernels) and unsigned integers (zero extension) only.
      const ot = local.btf.type(res.origTypeId);
      const nt = target!.btf.type(res.newTypeId);
      const bothPtr = ot.kind === BtfKind.Ptr && nt.kind === BtfKind.Ptr;
      const bothUnsigned =
        ot.kind === BtfKind.Int && nt.kind === BtfKind.Int && ot.encoding !== BTF_INT_SIGNED && nt.encoding !== BTF_INT_SIGNED;
      if (!bothPtr && !bothUnsigned) res.failMemszAdjust = true;
    }
  } else if (isTypeBased(kind)) {
    res.origVal = typeValue(kind, local);
    res.newVal = typeValue(kind, target);
    // A type id may change when objects are linked: it is never checked.
    if (kind === CoreReloKind.TYPE_ID_TARGET) res.validate = false;
  } else if (isEnumValueBased(kind)) {
    const orig = enumValue(kind, local);
    if (orig === "poison") throw new RelocationError("local spec is missing");
    res.origVal = orig;
    const next = enumValue(kind, target);
    if (next === "poison") res.poison = true;
    else res.newVal = next;
  } else {
    throw new RelocationError(`unrecognized CO-RE relocation kind ${kind}`);
  }
  return res;
}
