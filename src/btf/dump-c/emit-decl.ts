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
import { emitBaseName } from "./names.js";
import type { DumpState } from "./state.js";
import { ascii } from "./writer.js";

/** A qualifier after the base type (or a pointer), by kind; PTR's entry is for a pointer after a pointer. */
const QUALIFIERS: Uint8Array[] = [];
QUALIFIERS[Kind.CONST] = ascii(" const");
QUALIFIERS[Kind.VOLATILE] = ascii(" volatile");
QUALIFIERS[Kind.RESTRICT] = ascii(" restrict");
QUALIFIERS[Kind.PTR] = ascii("*");
const PTR = ascii(" *");
/** A qualifier before the base type, by kind. */
const PRE_QUALIFIERS: Uint8Array[] = [];
PRE_QUALIFIERS[Kind.CONST] = ascii("const ");
PRE_QUALIFIERS[Kind.VOLATILE] = ascii("volatile ");
PRE_QUALIFIERS[Kind.RESTRICT] = ascii("restrict ");
const VOID = ascii("void");
const ATTR = ascii(" __attribute__((");
const ATTR_END = ascii("))");
const TYPE_TAG = ascii(' __attribute__((btf_type_tag("');
const TYPE_TAG_END = ascii('")))');
const PROTO_OPEN = ascii(" (");
const NOTHING = ascii("");
const SPACE = ascii(" ");
const PAREN = ascii("(");
const SPACE_PAREN = ascii(" (");
const CLOSE_PAREN = ascii(")(");
const BRACKET = ascii("[");
const CLOSE_BRACKET = ascii(")[");
const VOID_PARAMS = ascii("void)");
const COMMA = ascii(", ");
const COMMA_VARARGS = ascii(", ...");
const VARARGS = ascii("...");

/** What a type is as a link of a declaration chain (emitTypeChain), by kind. */
const enum Link {
  NONE = 0,
  QUALIFIER,
  ARRAY,
  PROTO,
  VOID,
  NAMED,
  COMPOSITE,
  TYPE_TAG,
}
const LINKS = new Uint8Array(32);
LINKS[0] = Link.VOID;
LINKS[Kind.PTR] = LINKS[Kind.CONST] = LINKS[Kind.VOLATILE] = LINKS[Kind.RESTRICT] = Link.QUALIFIER;
LINKS[Kind.ARRAY] = Link.ARRAY;
LINKS[Kind.FUNC_PROTO] = Link.PROTO;
LINKS[Kind.INT] = LINKS[Kind.FLOAT] = LINKS[Kind.TYPEDEF] = LINKS[Kind.FWD] = Link.NAMED;
LINKS[Kind.STRUCT] = LINKS[Kind.UNION] = LINKS[Kind.ENUM] = LINKS[Kind.ENUM64] = Link.COMPOSITE;
LINKS[Kind.TYPE_TAG] = Link.TYPE_TAG;

/** Deeper declaration chains than this can only come from a pointer loop. */
const MAX_DECL_CHAIN = 4096;

/**
 * Writes a declaration of `fname` (name offset + `___N` suffix, offset 0
 * for an abstract declarator) with type `id`: `int (*name[3])(void)`.
 * Declarators are cached per type (see DumpState.declPre): vmlinux has
 * ~78k declarations of ~19k types.
 */
export function emitTypeDecl(d: DumpState, id: number, fnameOff: number, fnameDup: number, lvl: number): void {
  if (d.strs[d.strStart + fnameOff] === 0) {
    const at = d.anonAt[id]!;
    if (at >= 0) {
      d.out.copy(at, d.anonLen[id]!);
      return;
    }
    const f = pushChain(d, id);
    recordAnon(d, id, f, lvl);
    d.frameTop = f;
    d.stackTop = d.frameStart[f]!;
  } else {
    const pre = d.declPre[id]!;
    if (pre >= 0) {
      replayDecl(d, id, pre, fnameOff, fnameDup);
      return;
    }
    const f = pushChain(d, id);
    recordDecl(d, id, f, fnameOff, fnameDup, lvl);
    d.frameTop = f;
    d.stackTop = d.frameStart[f]!;
  }
}

/** Pushes the chain of types from `id` down to its base type as a new frame; returns the frame. */
function pushChain(d: DumpState, id: number): number {
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
    if (
      kind === Kind.PTR ||
      kind === Kind.VOLATILE ||
      kind === Kind.CONST ||
      kind === Kind.RESTRICT ||
      kind === Kind.FUNC_PROTO ||
      kind === Kind.TYPE_TAG
    ) {
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
  return f;
}

/**
 * A struct member's line from the declarator cache (see DumpState.declPre):
 * newline, `lvl` tabs, then the declarator of type `id` around the name at
 * `pos` in the strings, and `;` unless a `: bits` comes first. The caller
 * checked that `id` is cached and the name is not empty. One call for the
 * most common line of the header.
 */
export function replayMemberLine(d: DumpState, id: number, pos: number, lvl: number, bitfield: boolean): void {
  const out = d.out;
  const pre = d.declPre[id]!;
  const preLen = d.declPreLen[id]!;
  const tabs = lvl > 13 ? 13 : lvl;
  if (out.len + tabs + 1 + preLen > out.buf.length) out.reserve(tabs + 1 + preLen);
  const buf = out.buf;
  let len = out.len;
  buf[len++] = 10;
  for (let i = 0; i < tabs; i++) buf[len++] = 9;
  buf.copyWithin(len, pre, pre + preLen);
  out.len = len + preLen;
  out.name(d.strs, pos, 0, d.declSpace[id]! ? 32 : 0);
  const sufLen = d.declSufLen[id]!;
  if (sufLen) out.copy(d.declSuf[id]!, sufLen);
  if (out.len === out.buf.length) out.reserve(1);
  out.buf[out.len] = 59;
  out.len += bitfield ? 0 : 1;
}

/** A cached declarator of type `id` around a new name: two copies from the output and the name. */
function replayDecl(d: DumpState, id: number, pre: number, fnameOff: number, fnameDup: number): void {
  const out = d.out;
  out.copy(pre, d.declPreLen[id]!);
  out.name(d.strs, d.strStart + fnameOff, fnameDup, d.declSpace[id]! ? 32 : 0);
  const sufLen = d.declSufLen[id]!;
  if (sufLen) out.copy(d.declSuf[id]!, sufLen);
}

/**
 * Writes frame `f` and, the first time for `id`, notes where the name went
 * so that later declarations of `id` can be replayed. Nested declarations
 * (parameters) record their own frames, hence the save and restore. (Types
 * that cannot be cached come here too, so that the walk has one call site:
 * V8 deoptimises on a call it has never seen made, and they come late.)
 */
function recordDecl(d: DumpState, id: number, f: number, fnameOff: number, fnameDup: number, lvl: number): void {
  const record = d.declPre[id] === -1;
  const start = d.out.len;
  const inlineDefs = d.inlineDefs;
  const { recFrame, nameAt, nameEnd, nameSpace } = d;
  d.recFrame = record ? f : -1;
  d.nameAt = -1;
  emitTypeChain(d, f, fnameOff, fnameDup, lvl);
  if (record) {
    if (d.inlineDefs !== inlineDefs || d.nameAt < 0) {
      d.declPre[id] = -2;
    } else {
      d.declPre[id] = start;
      d.declPreLen[id] = d.nameAt - start;
      d.declSpace[id] = d.nameSpace;
      d.declSuf[id] = d.nameEnd;
      d.declSufLen[id] = d.out.len - d.nameEnd;
    }
  }
  d.recFrame = recFrame;
  d.nameAt = nameAt;
  d.nameEnd = nameEnd;
  d.nameSpace = nameSpace;
}

/**
 * An abstract declarator (no name: a parameter) is the same text every
 * time: the first one is noted for replay (see recordDecl()).
 */
function recordAnon(d: DumpState, id: number, f: number, lvl: number): void {
  const record = d.anonAt[id] === -1;
  const start = d.out.len;
  const inlineDefs = d.inlineDefs;
  emitTypeChain(d, f, 0, 0, lvl);
  if (!record) return;
  if (d.inlineDefs !== inlineDefs) {
    d.anonAt[id] = -2;
  } else {
    d.anonAt[id] = start;
    d.anonLen[id] = d.out.len - start;
  }
}

/** const / volatile / restrict that apply to the base type, written before it. */
function emitMods(d: DumpState, f: number): void {
  const out = d.out;
  const start = d.frameStart[f]!;
  let cnt = d.frameCnt[f]!;
  for (; cnt > 0; cnt--) {
    const t = d.stack[start + cnt - 1]!;
    const kind = t === 0 ? 0 : (d.w[d.at[t]! + 1]! >>> 24) & 0x1f;
    if (kind !== Kind.VOLATILE && kind !== Kind.CONST && kind !== Kind.RESTRICT) break;
    out.bytes(PRE_QUALIFIERS[kind]!);
  }
  d.frameCnt[f] = cnt;
}

/** Qualifiers on arrays and function prototypes mean nothing in C (GCC quirks): drop them. */
function dropMods(d: DumpState, f: number): void {
  const start = d.frameStart[f]!;
  let cnt = d.frameCnt[f]!;
  for (; cnt > 0; cnt--) {
    const t = d.stack[start + cnt - 1]!;
    const kind = t === 0 ? 0 : (d.w[d.at[t]! + 1]! >>> 24) & 0x1f;
    if (kind !== Kind.VOLATILE && kind !== Kind.CONST && kind !== Kind.RESTRICT && kind !== Kind.TYPE_TAG) break;
  }
  d.frameCnt[f] = cnt;
}

function emitName(d: DumpState, f: number, fnameOff: number, fnameDup: number, lastWasPtr: boolean): void {
  const pos = d.strStart + fnameOff;
  if (d.strs[pos] === 0) return;
  const out = d.out;
  const rec = f === d.recFrame;
  if (rec) {
    d.nameAt = out.len;
    d.nameSpace = lastWasPtr ? 0 : 1;
  }
  out.name(d.strs, pos, fnameDup, lastWasPtr ? 0 : 32);
  if (rec) d.nameEnd = out.len;
}

/** Pops the frame from the base type outwards, writing the C declarator. */
function emitTypeChain(d: DumpState, f: number, fnameOff: number, fnameDup: number, lvl: number, ptrBefore = true): void {
  // No space before a `*` that follows a `*` (`int **p`); true at the start
  // so a lone pointer in a nested chain prints as `(*name)`. (An array or a
  // prototype ending the frame passes its own, see below.)
  let lastWasPtr = ptrBefore;
  const out = d.out;
  const w = d.w;
  const stack = d.stack;
  const start = d.frameStart[f]!;
  const frameCnt = d.frameCnt;
  // An array or a prototype ends the walk: what is left of the frame nests inside it.
  let tailId = 0;
  while (frameCnt[f]! > 0) {
    const id = stack[start + --frameCnt[f]!]!;
    const p = d.at[id]!;
    const info = id === 0 ? 0 : w[p + 1]!;
    const kind = (info >>> 24) & 0x1f;
    const link = LINKS[kind]!;
    if (link === Link.QUALIFIER) {
      // One call site for pointers and all qualifiers, and a table rather than more
      // comparisons: V8 deoptimises on operations it has never seen run.
      out.bytes(kind === Kind.PTR && !lastWasPtr ? PTR : QUALIFIERS[kind]!);
      lastWasPtr = kind === Kind.PTR;
      continue;
    }
    if (link === Link.ARRAY || link === Link.PROTO) {
      tailId = id;
      break;
    }
    // FUNC, VAR, DATASEC, DECL_TAG cannot appear in a declaration; libbpf warns and stops.
    if (link === Link.NONE) return;
    // The base type (or a type tag), after the qualifiers that apply to it.
    emitMods(d, f);
    if (link === Link.NAMED || (link === Link.COMPOSITE && w[p]! !== 0)) {
      emitBaseName(d, id, kind);
    } else if (link === Link.COMPOSITE) {
      // Anonymous: defined right here.
      d.inlineDefs++;
      if (kind === Kind.STRUCT || kind === Kind.UNION) emitStructDef(d, id, lvl);
      else emitEnumDef(d, id, lvl);
    } else if (link === Link.VOID) {
      out.bytes(VOID);
    } else {
      // A type tag; with kind_flag, a plain attribute name (libbpf >= 1.6).
      const plain = info >>> 31 === 1;
      out.bytes(plain ? ATTR : TYPE_TAG);
      out.name(d.strs, d.strStart + w[p]!, 0, 0);
      out.bytes(plain ? ATTR_END : TYPE_TAG_END);
    }
    lastWasPtr = false;
  }
  if (tailId === 0) {
    emitName(d, f, fnameOff, fnameDup, lastWasPtr);
    return;
  }
  const p = d.at[tailId]!;
  if (((w[p + 1]! >>> 24) & 0x1f) === Kind.ARRAY) emitArrayTail(d, f, p, fnameOff, fnameDup, lastWasPtr, lvl);
  else emitProtoTail(d, f, p, fnameOff, fnameDup, lastWasPtr, lvl);
}

/**
 * An array (record at `p`) that ends the walk of frame `f`. What is left of
 * the frame (a pointer to the array, say) nests in parentheses:
 * `(*name)[4]`, but multi-dimensional arrays do not: `a[2][3]`. The nested
 * case is rare, so it makes the same calls as the plain one, choosing only
 * the text: V8 deoptimises on a call it has never seen made.
 */
function emitArrayTail(d: DumpState, f: number, p: number, fnameOff: number, fnameDup: number, lastWasPtr: boolean, lvl: number): void {
  const out = d.out;
  const w = d.w;
  const nelems = w[p + 5]!;
  dropMods(d, f);
  const start = d.frameStart[f]!;
  const cnt = d.frameCnt[f]!;
  const nested = cnt > 0;
  const last = start + cnt - 1;
  const innerId = d.stack[nested ? last : start]!;
  const innerKind = innerId === 0 ? 0 : (w[d.at[innerId]! + 1]! >>> 24) & 0x1f;
  const innerArray = innerKind === Kind.ARRAY;
  const named = d.strs[d.strStart + fnameOff]! !== 0;
  const parens = nested && !innerArray;
  const space = nested && !lastWasPtr && named;
  out.bytes(parens ? (space ? SPACE_PAREN : PAREN) : space ? SPACE : NOTHING);
  emitTypeChain(d, f, fnameOff, fnameDup, lvl, nested ? true : lastWasPtr);
  out.bytes(parens ? CLOSE_BRACKET : BRACKET);
  out.num(nelems);
  out.byte(93);
}

/** A function prototype (record at `p`) that ends the walk of frame `f`: `(*name)(int, char *)`. */
function emitProtoTail(d: DumpState, f: number, p: number, fnameOff: number, fnameDup: number, lastWasPtr: boolean, lvl: number): void {
  const out = d.out;
  const w = d.w;
  // GCC marks noreturn function pointers volatile; drop it.
  dropMods(d, f);
  // The rest of the frame (a pointer to the prototype) nests: `(*name)(...)`.
  const nested = d.frameCnt[f]! > 0;
  out.bytes(nested ? PROTO_OPEN : NOTHING);
  emitTypeChain(d, f, fnameOff, fnameDup, lvl, nested ? true : lastWasPtr);
  out.bytes(nested ? CLOSE_PAREN : PAREN);
  const vlen = w[p + 1]! & 0xffff;
  // No parameters (Clang encodes `f(void)` as one void parameter): `(void)`, not `()`.
  if (vlen === 0 || (vlen === 1 && w[p + 4]! === 0)) {
    out.bytes(VOID_PARAMS);
    return;
  }
  for (let i = 0, q = p + 3; i < vlen; i++, q += 2) {
    // A trailing void parameter means varargs.
    const varargs = i === vlen - 1 && w[q + 1]! === 0;
    const sep = i > 0;
    if (sep || varargs) out.bytes(varargs ? (sep ? COMMA_VARARGS : VARARGS) : COMMA);
    if (varargs) break;
    emitTypeDecl(d, w[q + 1]!, w[q]!, 0, lvl);
  }
  out.byte(41);
}
