/**
 * The C spelling of a BTF type, for messages and listings: "struct event",
 * "u64", "char[16]", "const char *", "int (*)(void *)".
 */
import type { Btf } from "./btf.js";
import { BtfKind } from "./types.js";

/**
 * Types visited per name, at most: a function prototype whose parameters
 * point back at it (malformed BTF) would otherwise fan out exponentially.
 */
const MAX_VISITS = 1000;
let visits = 0;

export function cTypeName(btf: Btf, id: number, depth = 0): string {
  if (depth === 0) visits = 0;
  if (id === 0) return "void";
  if (depth > 16 || ++visits > MAX_VISITS) return "...";
  const t = btf.type(id);
  switch (t.kind) {
    case BtfKind.Int:
    case BtfKind.Float:
    case BtfKind.Typedef:
      return t.name;
    case BtfKind.Struct:
      return `struct ${t.name || "(anon)"}`;
    case BtfKind.Union:
      return `union ${t.name || "(anon)"}`;
    case BtfKind.Enum:
    case BtfKind.Enum64:
      return `enum ${t.name || "(anon)"}`;
    case BtfKind.Fwd:
      return `${t.union ? "union" : "struct"} ${t.name}`;
    case BtfKind.Ptr: {
      const target = btf.type(t.type);
      if (target.kind === BtfKind.FuncProto)
        return funcProto(
          btf,
          target.returnType,
          target.params.map((p) => p.type),
          "(*)",
          depth,
        );
      return `${cTypeName(btf, t.type, depth + 1)} *`;
    }
    case BtfKind.Const:
      return `const ${cTypeName(btf, t.type, depth + 1)}`;
    case BtfKind.Volatile:
      return `volatile ${cTypeName(btf, t.type, depth + 1)}`;
    case BtfKind.Restrict:
      return `${cTypeName(btf, t.type, depth + 1)} restrict`;
    case BtfKind.TypeTag:
      return `${cTypeName(btf, t.type, depth + 1)} __attribute__((btf_type_tag("${t.name}")))`;
    case BtfKind.Array:
      return `${cTypeName(btf, t.elemType, depth + 1)}[${t.nelems}]`;
    case BtfKind.FuncProto:
      return funcProto(
        btf,
        t.returnType,
        t.params.map((p) => p.type),
        "",
        depth,
      );
    case BtfKind.Func:
    case BtfKind.Var:
      return cTypeName(btf, t.type, depth + 1);
    case BtfKind.Datasec:
      return `section ${t.name}`;
    default:
      return t.name || "?";
  }
}

function funcProto(btf: Btf, ret: number, params: number[], inner: string, depth: number): string {
  const args = params.length ? params.map((p) => (p === 0 ? "..." : cTypeName(btf, p, depth + 1))).join(", ") : "void";
  return `${cTypeName(btf, ret, depth + 1)} ${inner}(${args})`;
}
