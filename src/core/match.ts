/**
 * Matching a local spec against one candidate target type (libbpf's
 * bpf_core_spec_match), producing the target spec: the same named fields and
 * array indexes, found in the target wherever its layout puts them, with
 * anonymous structs/unions searched recursively.
 */
import { RelocationError } from "../errors.js";
import type { Btf } from "../btf/btf.js";
import { CoreReloKind } from "../btf/ext.js";
import { BtfKind, isComposite, isEnum } from "../btf/types.js";
import { fieldsAreCompatible, typesAreCompatible, typesMatch } from "./compat.js";
import { isEnumValueBased, isFieldBased, isTypeBased } from "./kinds.js";
import { essentialNamesEqual } from "./names.js";
import { CORE_SPEC_MAX_LEN, type CoreAccessor, type CoreSpec, isFlexArray, kindWord, sizeOf } from "./access-spec.js";

/** A candidate's outcome: its spec when it matched, else why not (for explanations). */
export type MatchOutcome = { matched: true; spec: CoreSpec } | { matched: false; spec: CoreSpec; why: string };

function tooDeep(): never {
  throw new RelocationError(`target access path is deeper than ${CORE_SPEC_MAX_LEN} steps`);
}

/**
 * Finds the member named like `localAcc` in the struct/union `targetId`,
 * descending into anonymous members; on success appends the steps to
 * `spec` and returns the member's type id.
 */
function matchMember(
  local: Btf,
  localAcc: CoreAccessor,
  target: Btf,
  targetId: number,
  spec: CoreSpec,
): number | "missing" | "incompatible" {
  targetId = target.skipModifiers(targetId);
  const tt = target.type(targetId);
  if (!isComposite(tt)) return "missing";
  const lt = local.type(localAcc.typeId);
  if (!isComposite(lt)) throw new RelocationError(`local accessor [${localAcc.typeId}] is not a struct/union`);
  const localMember = lt.members[localAcc.idx]!;
  for (let i = 0; i < tt.members.length; i++) {
    const m = tt.members[i]!;
    if (spec.raw.length === CORE_SPEC_MAX_LEN) tooDeep();
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === "") {
      // An anonymous struct/union: the field may be inside it.
      const found = matchMember(local, localAcc, target, m.type, spec);
      if (found !== "missing") return found;
    } else if (m.name === localMember.name) {
      if (!fieldsAreCompatible(local, localMember.type, target, m.type)) return "incompatible";
      spec.accessors.push({ typeId: targetId, idx: i, name: m.name });
      return m.type;
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return "missing";
}

/** Matches `localSpec` against candidate `targetId` of `target`. */
export function matchSpec(localSpec: CoreSpec, target: Btf, targetId: number): MatchOutcome {
  const spec: CoreSpec = { btf: target, rootTypeId: targetId, kind: localSpec.kind, accessors: [], raw: [], bitOffset: 0 };
  const no = (why: string): MatchOutcome => ({ matched: false, spec, why });
  const local = localSpec.btf;
  const candidate = `${kindWord(target.type(targetId))} ${target.name(targetId) || "<anon>"} [${targetId}]`;

  if (isTypeBased(localSpec.kind)) {
    if (localSpec.kind === CoreReloKind.TYPE_MATCHES) {
      return typesMatch(local, localSpec.rootTypeId, target, targetId)
        ? { matched: true, spec }
        : no(`${candidate} does not match the local type`);
    }
    return typesAreCompatible(local, localSpec.rootTypeId, target, targetId)
      ? { matched: true, spec }
      : no(`${candidate} is not compatible with the local type`);
  }

  const localAccs = localSpec.accessors;
  if (isEnumValueBased(localSpec.kind)) {
    const id = target.skipModifiers(targetId);
    const t = target.type(id);
    if (!isEnum(t)) return no(`${candidate} is not an enum`);
    const want = localAccs[0]!.name!;
    for (let i = 0; i < t.values.length; i++) {
      const v = t.values[i]!;
      if (essentialNamesEqual(want, v.name)) {
        spec.accessors.push({ typeId: id, idx: i, name: v.name });
        spec.raw.push(i);
        return { matched: true, spec };
      }
    }
    return no(`${candidate} has no enumerator ${want}`);
  }

  if (!isFieldBased(localSpec.kind)) throw new RelocationError(`unrecognized CO-RE relocation kind ${localSpec.kind}`);

  let id = targetId;
  for (let i = 0; i < localAccs.length; i++) {
    const acc = localAccs[i]!;
    id = target.skipModifiers(id);
    const t = target.type(id);
    if (acc.name !== undefined) {
      const where = `${kindWord(t)} ${t.name || "<anon>"} [${id}]`;
      const next = matchMember(local, acc, target, id, spec);
      if (next === "missing") {
        return no(
          isComposite(t)
            ? `${where} has no field ${acc.name}`
            : `[${id}] is a ${BtfKind[t.kind]}, not a struct/union with field ${acc.name}`,
        );
      }
      if (next === "incompatible") return no(`field ${acc.name} of ${where} has a type incompatible with the local field`);
      id = next;
      continue;
    }
    // The root step indexes the candidate itself; later unnamed steps index an array.
    if (i > 0) {
      if (t.kind !== BtfKind.Array) return no(`[${id}] is a ${BtfKind[t.kind]} where the local type has an array`);
      const flex = isFlexArray(target, spec.accessors[i - 1], t);
      if (!flex && acc.idx >= t.nelems) return no(`index ${acc.idx} is past the end of the target's ${t.nelems}-element array`);
      id = target.skipModifiers(t.elemType);
    }
    if (spec.raw.length === CORE_SPEC_MAX_LEN) tooDeep();
    spec.accessors.push({ typeId: id, idx: acc.idx });
    spec.raw.push(acc.idx);
    spec.bitOffset += acc.idx * sizeOf(target, id) * 8;
  }
  return { matched: true, spec };
}
