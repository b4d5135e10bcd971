/**
 * The few kernel types an object's CO-RE relocations reached, as a small
 * BTF blob a report can embed: vmlinux's BTF is ~6 MB, and a page that
 * re-runs CO-RE in the browser needs only the types on each relocation's
 * access path. Those are copied whole; every other struct or union they
 * mention becomes a stub of the same name and size with no members (its
 * parent's member offsets stay exact, and a relocation never looks inside
 * it), so the blob stays a few kilobytes and every id in it is valid.
 */
import type { Btf } from "../btf/btf.js";
import { BtfBuilder, type BtfTypeSpec } from "../btf/encode.js";
import { BtfKind, type BtfType } from "../btf/types.js";
import type { CoreRelocationReport } from "../core/index.js";

/** The target ids a resolved relocation walked: its root, then each member or element on its access path. */
export function pathTypeIds(btf: Btf, report: CoreRelocationReport): number[] {
  if (report.targetTypeId === undefined) return [];
  const ids = [report.targetTypeId];
  // "task_struct::real_parent (0:95)": the access indices in the target, after the root's array index.
  const access =
    /\(([\d:]+)\)$/
      .exec(report.targetSpec ?? "")?.[1]
      ?.split(":")
      .map(Number) ?? [];
  let id = report.targetTypeId;
  for (const index of access.slice(1)) {
    const t = btf.type(btf.skipModifiers(id));
    if (t.kind === BtfKind.Struct || t.kind === BtfKind.Union) id = t.members[index]?.type ?? 0;
    else if (t.kind === BtfKind.Array) id = t.elemType;
    else break;
    ids.push(id);
  }
  // The last field's own type, through typedefs and qualifiers, so its kind and size can be checked.
  for (let next = ids[ids.length - 1]!; next !== 0; ) {
    const t = btf.type(next);
    if (!("type" in t) || t.kind === BtfKind.Ptr || t.kind === BtfKind.Func || t.kind === BtfKind.Var) break;
    next = t.type;
    ids.push(next);
  }
  return ids.filter((x) => x !== 0);
}

/** A BTF blob holding what `reports` reached in `btf` (ids renumbered; names, sizes and offsets kept). */
export function btfSubset(btf: Btf, reports: readonly CoreRelocationReport[]): Uint8Array {
  const whole = new Set<number>();
  for (const r of reports) for (const id of pathTypeIds(btf, r)) whole.add(btf.skipModifiers(id)).add(id);
  // Every type needed, each once, in the source's order (so ids map monotonically).
  const needed = new Set<number>();
  const visit = (id: number): void => {
    if (id === 0 || needed.has(id)) return;
    needed.add(id);
    for (const ref of references(btf.type(id), whole.has(id))) visit(ref);
  };
  for (const id of whole) visit(id);
  const order = [...needed].sort((a, b) => a - b);
  const newId = new Map(order.map((id, i) => [id, i + 1]));
  const map = (id: number) => (id === 0 ? 0 : newId.get(id)!);
  const builder = new BtfBuilder();
  for (const id of order) builder.add(renumbered(btf.type(id), whole.has(id), map));
  return builder.encode();
}

/** The ids a type refers to (a stubbed struct or union refers to none): the ones renumbered() would map. */
function references(t: BtfType, keepMembers: boolean): number[] {
  const ids: number[] = [];
  renumbered(t, keepMembers, (id) => {
    ids.push(id);
    return id;
  });
  return ids;
}

function renumbered(t: BtfType, keepMembers: boolean, map: (id: number) => number): BtfTypeSpec {
  const { id: _id, ...rest } = t;
  switch (rest.kind) {
    case BtfKind.Struct:
    case BtfKind.Union:
      return { ...rest, members: keepMembers ? rest.members.map((m) => ({ ...m, type: map(m.type) })) : [] };
    case BtfKind.Array:
      return { ...rest, elemType: map(rest.elemType), indexType: map(rest.indexType) };
    case BtfKind.FuncProto:
      return { ...rest, returnType: map(rest.returnType), params: rest.params.map((p) => ({ ...p, type: map(p.type) })) };
    case BtfKind.Ptr:
    case BtfKind.Typedef:
    case BtfKind.Volatile:
    case BtfKind.Const:
    case BtfKind.Restrict:
    case BtfKind.TypeTag:
    case BtfKind.Func:
    case BtfKind.Var:
    case BtfKind.DeclTag:
      return { ...rest, type: map(rest.type) };
    case BtfKind.Datasec:
      return { ...rest, vars: [] };
    default:
      return rest;
  }
}
