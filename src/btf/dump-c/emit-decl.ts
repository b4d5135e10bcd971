/**
 * C declarators: `int (*fn[4])(void *)` from the chain of pointer / array /
 * qualifier / function-prototype types between a member (or typedef, or
 * parameter) and its named base type, read backwards the way van der
 * Linden's rules do. Chains live on a shared stack, one frame per nested
 * declaration (function parameters), so no arrays are allocated per member.
 */
import { ObjectFormatError } from "../../errors.js";
import { emitEnumDef, emitStructDef } from "./emit-composite.js";
import { Kind } from "./kinds.js";
import { emitFwdDef, emitStructFwd, resolveName, writeResolvedName, writeTypeName } from "./names.js";
import type { DumpState } from "./state.js";

/** Deeper declaration chains than this can only come from a pointer loop. */
const MAX_DECL_CHAIN = 4096;

/**
 * Writes a declaration of `fname` (name offset + `___N` suffix, offset 0
 * for an abstract declarator) with type `id`: `int (*name[3])(void)`.
 */
export function emitTypeDecl(d: DumpState, id: number, fnameOff: number, fnameDup: number, lvl: number): void {
  const start = d.stackTop;
  const stack = d.stack;
  const w = d.w;
  for (;;) {
    stack[d.stackTop++] = id;
    if (id === 0) break;
    if (d.stackTop - start > MAX_DECL_CHAIN) {
      d.stackTop = start;
      throw new ObjectFormatError(d.where, 0, `declaration chain of type [${id}] is longer than ${MAX_DECL_CHAIN} (a pointer loop?)`);
    }
    const p = d.at[id]!;
    const kind = (w[p + 1]! >>> 24) & 0x1f;
    if (kind === Kind.PTR || kind === Kind.VOLATILE || kind === Kind.CONST || kind === Kind.RESTRICT || kind === Kind.FUNC_PROTO || kind === Kind.TYPE_TAG) {
      id = w[p + 2]!;
    } else if (kind === Kind.ARRAY) {
      id = w[p + 3]!;
    } else {
      // INT, ENUM, FWD, STRUCT, UNION, TYPEDEF, FLOAT end the chain (anything else is malformed).
      break;
    }
  }
  const f = d.frameTop++;
  d.frameStart[f] = start;
  d.frameCnt[f] = d.stackTop - start;
  emitTypeChain(d, f, fnameOff, fnameDup, lvl);
  d.frameTop = f;
  d.stackTop = start;
}

/** const / volatile / restrict that apply to the base type, written before it. */
function emitMods(d: DumpState, f: number): void {
  const out = d.out;
  const start = d.frameStart[f]!;
  let cnt = d.frameCnt[f]!;
  for (; cnt > 0; cnt--) {
    const kind = d.kind(d.stack[start + cnt - 1]!);
    if (kind === Kind.VOLATILE) out.text("volatile ");
    else if (kind === Kind.CONST) out.text("const ");
    else if (kind === Kind.RESTRICT) out.text("restrict ");
    else break;
  }
  d.frameCnt[f] = cnt;
}

/** Qualifiers on arrays and function prototypes mean nothing in C (GCC quirks): drop them. */
function dropMods(d: DumpState, f: number): void {
  const start = d.frameStart[f]!;
  let cnt = d.frameCnt[f]!;
  for (; cnt > 0; cnt--) {
    const kind = d.kind(d.stack[start + cnt - 1]!);
    if (kind !== Kind.VOLATILE && kind !== Kind.CONST && kind !== Kind.RESTRICT && kind !== Kind.TYPE_TAG) break;
  }
  d.frameCnt[f] = cnt;
}

function emitName(d: DumpState, fnameOff: number, fnameDup: number, lastWasPtr: boolean): void {
  if (d.isEmptyString(fnameOff)) return;
  if (!lastWasPtr) d.out.byte(32);
  d.writeString(fnameOff);
  if (fnameDup) {
    d.out.text("___");
    d.out.num(fnameDup);
  }
}

/** Pops the frame from the base type outwards, writing the C declarator. */
function emitTypeChain(d: DumpState, f: number, fnameOff: number, fnameDup: number, lvl: number): void {
  // No space before a `*` that follows a `*` (`int **p`); true at the start
  // so a lone pointer in a nested chain prints as `(*name)`.
  let lastWasPtr = true;
  const out = d.out;
  const w = d.w;
  const stack = d.stack;
  const start = d.frameStart[f]!;
  const frameCnt = d.frameCnt;
  while (frameCnt[f]! > 0) {
    const id = stack[start + --frameCnt[f]!]!;
    if (id === 0) {
      emitMods(d, f);
      out.text("void");
      lastWasPtr = false;
      continue;
    }
    const p = d.at[id]!;
    const info = w[p + 1]!;
    const kind = (info >>> 24) & 0x1f;
    switch (kind) {
      case Kind.INT:
      case Kind.FLOAT:
        emitMods(d, f);
        d.writeString(w[p]!);
        break;
      case Kind.STRUCT:
      case Kind.UNION:
        emitMods(d, f);
        if (w[p]! === 0) emitStructDef(d, id, lvl);
        else emitStructFwd(d, id);
        break;
      case Kind.ENUM:
      case Kind.ENUM64:
        emitMods(d, f);
        if (w[p]! === 0) emitEnumDef(d, id, lvl);
        else {
          out.text("enum ");
          writeTypeName(d, id);
        }
        break;
      case Kind.FWD:
        emitMods(d, f);
        emitFwdDef(d, id);
        break;
      case Kind.TYPEDEF:
        emitMods(d, f);
        resolveName(d, id, d.identNames);
        writeResolvedName(d, id);
        break;
      case Kind.PTR:
        out.text(lastWasPtr ? "*" : " *");
        break;
      case Kind.VOLATILE:
        out.text(" volatile");
        break;
      case Kind.CONST:
        out.text(" const");
        break;
      case Kind.RESTRICT:
        out.text(" restrict");
        break;
      case Kind.TYPE_TAG:
        emitMods(d, f);
        // kind_flag: the tag is a plain attribute name (libbpf >= 1.6).
        if (info >>> 31) {
          out.text(" __attribute__((");
          d.writeString(w[p]!);
          out.text("))");
        } else {
          out.text(' __attribute__((btf_type_tag("');
          d.writeString(w[p]!);
          out.text('")))');
        }
        break;
      case Kind.ARRAY: {
        const nelems = w[p + 5]!;
        dropMods(d, f);
        const cnt = frameCnt[f]!;
        if (cnt === 0) {
          emitName(d, fnameOff, fnameDup, lastWasPtr);
        } else {
          // Multi-dimensional arrays nest without parentheses: `a[2][3]`.
          const multidim = d.kind(stack[start + cnt - 1]!) === Kind.ARRAY;
          if (!d.isEmptyString(fnameOff) && !lastWasPtr) out.byte(32);
          if (!multidim) out.byte(40);
          emitTypeChain(d, f, fnameOff, fnameDup, lvl);
          if (!multidim) out.byte(41);
        }
        out.byte(91);
        out.num(nelems);
        out.byte(93);
        return;
      }
      case Kind.FUNC_PROTO: {
        // GCC marks noreturn function pointers volatile; drop it.
        dropMods(d, f);
        if (frameCnt[f]! > 0) {
          out.text(" (");
          emitTypeChain(d, f, fnameOff, fnameDup, lvl);
          out.byte(41);
        } else {
          emitName(d, fnameOff, fnameDup, lastWasPtr);
        }
        out.byte(40);
        const vlen = info & 0xffff;
        // No parameters (Clang encodes `f(void)` as one void parameter): `(void)`, not `()`.
        if (vlen === 0 || (vlen === 1 && w[p + 4]! === 0)) {
          out.text("void)");
          return;
        }
        for (let i = 0, q = p + 3; i < vlen; i++, q += 2) {
          if (i > 0) out.text(", ");
          // A trailing void parameter means varargs.
          if (i === vlen - 1 && w[q + 1]! === 0) {
            out.text("...");
            break;
          }
          emitTypeDecl(d, w[q + 1]!, w[q]!, 0, lvl);
        }
        out.byte(41);
        return;
      }
      default:
        // FUNC, VAR, DATASEC, DECL_TAG cannot appear in a declaration; libbpf warns and stops.
        return;
    }
    lastWasPtr = kind === Kind.PTR;
  }
  emitName(d, fnameOff, fnameDup, lastWasPtr);
}
