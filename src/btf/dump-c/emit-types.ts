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
import { ascii } from "./writer.js";

const BUILTIN_VA_LIST = "__builtin_va_list";
const END_DEF = ascii(";\n\n");
const TYPEDEF = ascii("typedef ");
const GNUC_VA_LIST = ascii("typedef __builtin_va_list __gnuc_va_list");

/** GCC's internal Arm SIMD base types, aliased to standard C types (libbpf's missing_base_types). */
const MISSING_BASE_TYPES = new Map([
  ["__Poly8_t", "unsigned char"],
  ["__Poly16_t", "unsigned short"],
  ["__Poly64_t", "unsigned long long"],
  ["__Poly128_t", "unsigned __int128"],
]);

/** What emitType() writes last, from a shared place (see below). */
const enum Tail {
  NONE = 0,
  STRUCT_FWD = 1,
  TYPEDEF_DEF = 2,
}

/**
 * Writes the definitions `id` needs and `id`'s own when it is top-level
 * (`contId` 0); `contId` is the struct being defined, whose members may
 * refer to it without a forward declaration.
 *
 * The rarely taken branches (a reference back to a type being defined)
 * only compute values, and the common code at the end writes: V8
 * deoptimises emitType() the first time it runs an operation it has never
 * seen run, and those branches are first taken late.
 */
export function emitType(d: DumpState, id: number, contId: number): void {
  const emitState = d.emitState;
  const state = emitState[id]!;
  if (state === Emit.EMITTED) return;
  const w = d.w;
  const p = d.at[id]!;
  const info = w[p + 1]!;
  const kind = (info >>> 24) & 0x1f;
  const out = d.out;
  const composite = kind === Kind.STRUCT || kind === Kind.UNION;
  const named = w[p]! !== 0;
  let tail = Tail.NONE;

  if (state === Emit.EMITTING) {
    // A reference back to something being defined: declare it first.
    if (d.fwdEmitted[id]) return;
    if (composite) {
      // An anonymous struct/union loop cannot be declared; libbpf warns and goes on.
      if (id === contId || !named) return;
      tail = Tail.STRUCT_FWD;
    } else if (kind === Kind.TYPEDEF) {
      // For a typedef, "forward declared" means defined early: usable through pointers only.
      d.fwdEmitted[id] = 1;
      tail = Tail.TYPEDEF_DEF;
    } else {
      return;
    }
  } else {
    switch (kind) {
      case Kind.INT:
        emitMissingAliases(d, id);
        emitState[id] = Emit.EMITTED;
        break;
      case Kind.ENUM:
      case Kind.ENUM64:
        if (contId === 0) {
          emitEnumDef(d, id, 0);
          out.bytes(END_DEF);
        }
        emitState[id] = Emit.EMITTED;
        break;
      case Kind.PTR:
      case Kind.VOLATILE:
      case Kind.CONST:
      case Kind.RESTRICT:
      case Kind.TYPE_TAG: {
        const t = w[p + 2]!;
        if (emitState[t] !== Emit.EMITTED) emitType(d, t, contId);
        // Once what it refers to is emitted, walking a modifier again does nothing: skip it from now on.
        if (emitState[t] === Emit.EMITTED) emitState[id] = Emit.EMITTED;
        break;
      }
      case Kind.ARRAY: {
        const t = w[p + 3]!;
        if (emitState[t] !== Emit.EMITTED) emitType(d, t, contId);
        if (emitState[t] === Emit.EMITTED) emitState[id] = Emit.EMITTED;
        break;
      }
      case Kind.FWD:
        emitFwdDef(d, id);
        out.bytes(END_DEF);
        emitState[id] = Emit.EMITTED;
        break;
      case Kind.TYPEDEF: {
        emitState[id] = Emit.EMITTING;
        const t = w[p + 2]!;
        if (emitState[t] !== Emit.EMITTED) emitType(d, t, id);
        // (Nothing reads the typedef's state while its definition is written.)
        emitState[id] = Emit.EMITTED;
        if (!d.fwdEmitted[id]) tail = Tail.TYPEDEF_DEF;
        break;
      }
      case Kind.STRUCT:
      case Kind.UNION: {
        emitState[id] = Emit.EMITTING;
        if (contId === 0 || !named) {
          // Members are written out (top-level or inline anonymous): declare what they need.
          const vlen = info & 0xffff;
          const cont = named ? id : contId;
          for (let i = 0, m = p + 4; i < vlen; i++, m += 3) {
            const t = w[m]!;
            if (emitState[t] !== Emit.EMITTED) emitType(d, t, cont);
          }
        } else if (!d.fwdEmitted[id] && id !== contId) {
          tail = Tail.STRUCT_FWD;
        }
        if (contId === 0) {
          emitStructDef(d, id, 0);
          out.bytes(END_DEF);
          emitState[id] = Emit.EMITTED;
        } else {
          emitState[id] = Emit.NOT_EMITTED;
        }
        break;
      }
      case Kind.FUNC_PROTO: {
        let t = w[p + 2]!;
        if (emitState[t] !== Emit.EMITTED) emitType(d, t, contId);
        let done = emitState[t] === Emit.EMITTED;
        const vlen = info & 0xffff;
        for (let i = 0, m = p + 4; i < vlen; i++, m += 2) {
          t = w[m]!;
          if (emitState[t] !== Emit.EMITTED) emitType(d, t, contId);
          if (emitState[t] !== Emit.EMITTED) done = false;
        }
        if (done) emitState[id] = Emit.EMITTED;
        break;
      }
      default:
        break;
    }
  }
  if (tail === Tail.STRUCT_FWD) {
    emitStructFwd(d, id);
    out.bytes(END_DEF);
    d.fwdEmitted[id] = 1;
  } else if (tail === Tail.TYPEDEF_DEF && !isBlacklisted(d, id)) {
    emitTypedefDef(d, id, 0);
    out.bytes(END_DEF);
  }
}

/** __builtin_va_list is the compiler's own; redefining it breaks the build. */
function isBlacklisted(d: DumpState, id: number): boolean {
  const off = d.w[d.at[id]!]!;
  // Most names differ by their third byte ('b'): no string comparison for them.
  return off !== 0 && d.strs[d.strStart + off + 2] === 98 && d.nameIs(off, BUILTIN_VA_LIST);
}

function emitMissingAliases(d: DumpState, id: number): void {
  resolveName(d, id, d.typeNames);
  const off = d.w[d.at[id]!]!;
  if (off === 0 || d.nameDup[id]) return;
  const name = d.key(off);
  const alias = MISSING_BASE_TYPES.get(name);
  if (alias !== undefined) d.out.text(`typedef ${alias} ${name};\n\n`);
}

function emitTypedefDef(d: DumpState, id: number, lvl: number): void {
  resolveName(d, id, d.identNames);
  const p = d.at[id]!;
  const off = d.w[p]!;
  const type = d.w[p + 2]!;
  const dup = d.nameDup[id]!;
  // Old GCCs emit `typedef void __gnuc_va_list`, which does not compile.
  if (type === 0 && off !== 0 && dup === 0 && d.nameIs(off, "__gnuc_va_list")) {
    d.out.bytes(GNUC_VA_LIST);
    return;
  }
  d.out.bytes(TYPEDEF);
  emitTypeDecl(d, type, off, dup, lvl);
}
