/**
 * Pass 2, emission. Each queued type is written out as a top-level
 * definition after what it needs; a struct whose members refer back to
 * something still being emitted gets a forward declaration first (for a
 * typedef, an early definition). Also the small top-level definitions:
 * typedefs and the aliases for GCC's internal Arm SIMD base types.
 */
import { emitEnumDef, emitStructDef } from "./emit-composite.js";
import { emitTypeDecl } from "./emit-decl.js";
import { Kind } from "./kinds.js";
import { emitFwdDef, emitStructFwd, resolveName } from "./names.js";
import { type DumpState, Emit } from "./state.js";

const BUILTIN_VA_LIST = "__builtin_va_list";

/** GCC's internal Arm SIMD base types, aliased to standard C types (libbpf's missing_base_types). */
const MISSING_BASE_TYPES = new Map([
  ["__Poly8_t", "unsigned char"],
  ["__Poly16_t", "unsigned short"],
  ["__Poly64_t", "unsigned long long"],
  ["__Poly128_t", "unsigned __int128"],
]);

/**
 * Writes the definitions `id` needs and `id`'s own when it is top-level
 * (`contId` 0); `contId` is the struct being defined, whose members may
 * refer to it without a forward declaration.
 */
export function emitType(d: DumpState, id: number, contId: number): void {
  const state = d.emitState[id]!;
  if (state === Emit.EMITTED) return;
  const w = d.w;
  const p = d.at[id]!;
  const info = w[p + 1]!;
  const kind = (info >>> 24) & 0x1f;
  const out = d.out;

  if (state === Emit.EMITTING) {
    // A reference back to something being defined: declare it first.
    if (d.fwdEmitted[id]) return;
    if (kind === Kind.STRUCT || kind === Kind.UNION) {
      if (id === contId) return;
      // An anonymous struct/union loop cannot be declared; libbpf warns and goes on.
      if (w[p]! === 0) return;
      emitStructFwd(d, id);
      out.text(";\n\n");
      d.fwdEmitted[id] = 1;
    } else if (kind === Kind.TYPEDEF) {
      // For a typedef, "forward declared" means defined early: usable through pointers only.
      if (!isBlacklisted(d, id)) {
        emitTypedefDef(d, id, 0);
        out.text(";\n\n");
      }
      d.fwdEmitted[id] = 1;
    }
    return;
  }

  switch (kind) {
    case Kind.INT:
      emitMissingAliases(d, id);
      d.emitState[id] = Emit.EMITTED;
      break;
    case Kind.ENUM:
    case Kind.ENUM64:
      if (contId === 0) {
        emitEnumDef(d, id, 0);
        out.text(";\n\n");
      }
      d.emitState[id] = Emit.EMITTED;
      break;
    case Kind.PTR:
    case Kind.VOLATILE:
    case Kind.CONST:
    case Kind.RESTRICT:
    case Kind.TYPE_TAG:
      emitType(d, w[p + 2]!, contId);
      break;
    case Kind.ARRAY:
      emitType(d, w[p + 3]!, contId);
      break;
    case Kind.FWD:
      emitFwdDef(d, id);
      out.text(";\n\n");
      d.emitState[id] = Emit.EMITTED;
      break;
    case Kind.TYPEDEF:
      d.emitState[id] = Emit.EMITTING;
      emitType(d, w[p + 2]!, id);
      if (!d.fwdEmitted[id] && !isBlacklisted(d, id)) {
        emitTypedefDef(d, id, 0);
        out.text(";\n\n");
      }
      d.emitState[id] = Emit.EMITTED;
      break;
    case Kind.STRUCT:
    case Kind.UNION: {
      d.emitState[id] = Emit.EMITTING;
      const named = w[p]! !== 0;
      if (contId === 0 || !named) {
        // Members are written out (top-level or inline anonymous): declare what they need.
        const vlen = info & 0xffff;
        const cont = named ? id : contId;
        for (let i = 0, m = p + 3; i < vlen; i++, m += 3) emitType(d, w[m + 1]!, cont);
      } else if (!d.fwdEmitted[id] && id !== contId) {
        emitStructFwd(d, id);
        out.text(";\n\n");
        d.fwdEmitted[id] = 1;
      }
      if (contId === 0) {
        emitStructDef(d, id, 0);
        out.text(";\n\n");
        d.emitState[id] = Emit.EMITTED;
      } else {
        d.emitState[id] = Emit.NOT_EMITTED;
      }
      break;
    }
    case Kind.FUNC_PROTO: {
      emitType(d, w[p + 2]!, contId);
      const vlen = info & 0xffff;
      for (let i = 0, m = p + 3; i < vlen; i++, m += 2) emitType(d, w[m + 1]!, contId);
      break;
    }
    default:
      break;
  }
}

/** __builtin_va_list is the compiler's own; redefining it breaks the build. */
function isBlacklisted(d: DumpState, id: number): boolean {
  const off = d.nameOff(id);
  return off !== 0 && d.nameIs(off, BUILTIN_VA_LIST);
}

function emitMissingAliases(d: DumpState, id: number): void {
  resolveName(d, id, d.typeNames);
  const off = d.nameOff(id);
  if (off === 0 || d.nameDup[id]) return;
  const name = d.key(off);
  const alias = MISSING_BASE_TYPES.get(name);
  if (alias !== undefined) d.out.text(`typedef ${alias} ${name};\n\n`);
}

function emitTypedefDef(d: DumpState, id: number, lvl: number): void {
  resolveName(d, id, d.identNames);
  const off = d.nameOff(id);
  const dup = d.nameDup[id]!;
  // Old GCCs emit `typedef void __gnuc_va_list`, which does not compile.
  if (d.sizeOrType(id) === 0 && off !== 0 && dup === 0 && d.nameIs(off, "__gnuc_va_list")) {
    d.out.text("typedef __builtin_va_list __gnuc_va_list");
    return;
  }
  d.out.text("typedef ");
  emitTypeDecl(d, d.sizeOrType(id), off, dup, lvl);
}
