/**
 * The three notions of "these two types correspond" that CO-RE uses, with
 * libbpf's semantics:
 *
 * - fieldsAreCompatible: a local field and the target field of the same name
 *   (field relocations). Loose: any two structs/unions, any two pointers,
 *   any two integers (size and sign ignored), enums by essential name.
 * - typesAreCompatible: local and candidate root types for TYPE_EXISTS,
 *   TYPE_SIZE and TYPE_ID_TARGET. Same kind all the way down pointers,
 *   arrays and function prototypes; names below the root ignored.
 * - typesMatch: TYPE_MATCHES, much stricter: every local member must exist
 *   in the target with a matching type, integers must agree in size and
 *   sign, enums in size and enumerator names, and every named type met along
 *   the way must have the same essential name.
 *
 * Each returns true/false, and throws a RelocationError where libbpf fails
 * the relocation (recursion too deep, broken BTF).
 */
import { RelocationError } from "../errors.js";
import type { Btf } from "../btf/btf.js";
import { BTF_INT_SIGNED, BtfKind, isComposite, isEnum } from "../btf/types.js";
import type { BtfType } from "../btf/types.js";
import { essentialNamesEqual } from "./names.js";

/** libbpf's recursion limits: 32 steps through pointers/arrays, 32 levels of members/params. */
const MAX_DEPTH = 32;

function tooDeep(localId: number, targetId: number): never {
  throw new RelocationError(`type comparison of local [${localId}] and target [${targetId}] recurses more than ${MAX_DEPTH} levels`);
}

/** Same kind, where ENUM and ENUM64 count as one kind. */
export function kindsCoreCompatible(a: BtfType, b: BtfType): boolean {
  return a.kind === b.kind || (isEnum(a) && isEnum(b));
}

/** The class a candidate search groups kinds by: ENUM and ENUM64 together. */
export function kindClass(kind: BtfKind): BtfKind {
  return kind === BtfKind.Enum64 ? BtfKind.Enum : kind;
}

/** A name equal modulo flavor, where an anonymous target only matches an anonymous local. */
function namesMatch(local: string, target: string): boolean {
  if (target === "") return local === "";
  return essentialNamesEqual(local, target);
}

/** bpf_core_fields_are_compat: can a local field of type `localId` be relocated to a target field of type `targetId`? */
export function fieldsAreCompatible(local: Btf, localId: number, target: Btf, targetId: number): boolean {
  for (let depth = 0; ; depth++) {
    if (depth > MAX_DEPTH) tooDeep(localId, targetId);
    localId = local.skipModifiers(localId);
    targetId = target.skipModifiers(targetId);
    const lt = local.type(localId);
    const tt = target.type(targetId);
    if (isComposite(lt) && isComposite(tt)) return true;
    if (!kindsCoreCompatible(lt, tt)) return false;
    switch (lt.kind) {
      case BtfKind.Ptr:
      case BtfKind.Float:
        return true;
      case BtfKind.Fwd:
      case BtfKind.Enum:
      case BtfKind.Enum64:
        // Either side anonymous, or the same name modulo flavor.
        return lt.name === "" || tt.name === "" || essentialNamesEqual(lt.name, tt.name);
      case BtfKind.Int:
        // Only the long-deprecated "bit offset inside an int" encoding is refused.
        return lt.bitOffset === 0 && tt.kind === BtfKind.Int && tt.bitOffset === 0;
      case BtfKind.Array:
        if (tt.kind !== BtfKind.Array) return false;
        localId = lt.elemType;
        targetId = tt.elemType;
        continue;
      default:
        return false;
    }
  }
}

/** bpf_core_types_are_compat: the check behind TYPE_EXISTS, TYPE_SIZE and TYPE_ID_TARGET. */
export function typesAreCompatible(local: Btf, localId: number, target: Btf, targetId: number, level = MAX_DEPTH): boolean {
  // The roots are compared before modifiers are skipped: a typedef only matches a typedef.
  if (!kindsCoreCompatible(local.type(localId), target.type(targetId))) return false;
  for (let depth = MAX_DEPTH; ; ) {
    if (--depth < 0) tooDeep(localId, targetId);
    localId = local.skipModifiers(localId);
    targetId = target.skipModifiers(targetId);
    const lt = local.type(localId);
    const tt = target.type(targetId);
    if (!kindsCoreCompatible(lt, tt)) return false;
    switch (lt.kind) {
      case BtfKind.Void:
      case BtfKind.Struct:
      case BtfKind.Union:
      case BtfKind.Enum:
      case BtfKind.Enum64:
      case BtfKind.Fwd:
        return true;
      case BtfKind.Int:
        return lt.bitOffset === 0 && tt.kind === BtfKind.Int && tt.bitOffset === 0;
      case BtfKind.Ptr:
        if (tt.kind !== BtfKind.Ptr) return false;
        localId = lt.type;
        targetId = tt.type;
        continue;
      case BtfKind.Array:
        if (tt.kind !== BtfKind.Array) return false;
        localId = lt.elemType;
        targetId = tt.elemType;
        continue;
      case BtfKind.FuncProto: {
        if (tt.kind !== BtfKind.FuncProto) return false;
        if (lt.params.length !== tt.params.length) return false;
        for (let i = 0; i < lt.params.length; i++) {
          if (level <= 0) tooDeep(localId, targetId);
          const lp = local.skipModifiers(lt.params[i]!.type);
          const tp = target.skipModifiers(tt.params[i]!.type);
          if (!typesAreCompatible(local, lp, target, tp, level - 1)) return false;
        }
        localId = local.skipModifiers(lt.returnType);
        targetId = target.skipModifiers(tt.returnType);
        continue;
      }
      default:
        return false;
    }
  }
}

function enumsMatch(lt: BtfType, tt: BtfType): boolean {
  if (!isEnum(lt) || !isEnum(tt)) return false;
  if (lt.size !== tt.size) return false;
  if (lt.values.length > tt.values.length) return false;
  // Every local enumerator needs a target enumerator of the same name (values may differ).
  return lt.values.every((lv) => tt.values.some((tv) => namesMatch(lv.name, tv.name)));
}

function compositesMatch(local: Btf, lt: BtfType, target: Btf, tt: BtfType, behindPtr: boolean, level: number): boolean {
  if (!isComposite(lt) || !isComposite(tt)) return false;
  if (lt.members.length > tt.members.length) return false;
  for (const lm of lt.members) {
    let matched = false;
    for (const tm of tt.members) {
      if (!namesMatch(lm.name, tm.name)) continue;
      if (typesMatchAt(local, lm.type, target, tm.type, behindPtr, level - 1)) {
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  return true;
}

/** bpf_core_types_match: the check behind TYPE_MATCHES. The caller has matched the roots' names. */
export function typesMatch(local: Btf, localId: number, target: Btf, targetId: number): boolean {
  return typesMatchAt(local, localId, target, targetId, false, MAX_DEPTH);
}

function typesMatchAt(local: Btf, localId: number, target: Btf, targetId: number, behindPtr: boolean, level: number): boolean {
  if (level <= 0) tooDeep(localId, targetId);
  for (let depth = MAX_DEPTH; ; ) {
    if (--depth < 0) tooDeep(localId, targetId);
    localId = local.skipModifiers(localId);
    targetId = target.skipModifiers(targetId);
    const lt = local.type(localId);
    const tt = target.type(targetId);
    // Names are compared after typedefs are skipped, at every level.
    if (!namesMatch(lt.name, tt.name)) return false;
    switch (lt.kind) {
      case BtfKind.Void:
        return tt.kind === BtfKind.Void;
      case BtfKind.Fwd:
        if (behindPtr) {
          // Behind a pointer a forward declaration matches the struct/union it declares.
          if (tt.kind === BtfKind.Fwd) return lt.union === tt.union;
          return (tt.kind === BtfKind.Struct && !lt.union) || (tt.kind === BtfKind.Union && lt.union);
        }
        return tt.kind === BtfKind.Fwd && lt.union === tt.union;
      case BtfKind.Enum:
      case BtfKind.Enum64:
        return enumsMatch(lt, tt);
      case BtfKind.Struct:
      case BtfKind.Union:
        if (behindPtr) {
          if (lt.kind === tt.kind) return true;
          if (tt.kind !== BtfKind.Fwd) return false;
          return (lt.kind === BtfKind.Union) === tt.union;
        }
        if (lt.kind !== tt.kind) return false;
        return compositesMatch(local, lt, target, tt, behindPtr, level);
      case BtfKind.Int:
        if (tt.kind !== BtfKind.Int) return false;
        return lt.size === tt.size && (lt.encoding & BTF_INT_SIGNED) === (tt.encoding & BTF_INT_SIGNED);
      case BtfKind.Ptr:
        if (tt.kind !== BtfKind.Ptr) return false;
        behindPtr = true;
        localId = lt.type;
        targetId = tt.type;
        continue;
      case BtfKind.Array:
        if (tt.kind !== BtfKind.Array || lt.nelems !== tt.nelems) return false;
        localId = lt.elemType;
        targetId = tt.elemType;
        continue;
      case BtfKind.FuncProto: {
        if (tt.kind !== BtfKind.FuncProto || lt.params.length !== tt.params.length) return false;
        for (let i = 0; i < lt.params.length; i++) {
          if (!typesMatchAt(local, lt.params[i]!.type, target, tt.params[i]!.type, behindPtr, level - 1)) return false;
        }
        localId = lt.returnType;
        targetId = tt.returnType;
        continue;
      }
      default:
        return false;
    }
  }
}
