/**
 * The bodies of composite types: `enum { A = 1, ... }` (64-bit values and
 * the optional mode attributes included) and `struct` / `union { ... }`,
 * members with bitfields, explicit padding and `__attribute__((packed))`.
 * Used both for top-level definitions and for anonymous types written
 * inline inside a declaration.
 */
import { emitTypeDecl, replayMemberLine } from "./emit-decl.js";
import { Kind } from "./kinds.js";
import { alignOf, emitBitPadding, isStructPacked, memberSize } from "./layout.js";
import { writeTypeName } from "./names.js";
import type { DumpState } from "./state.js";
import { ascii } from "./writer.js";

const ENUM = ascii("enum");
const STRUCT = ascii("struct");
const UNION = ascii("union");
const OPEN = ascii(" {");
const BITS = ascii(": ");
const ASSIGN = ascii(" = ");
const LL = ascii("LL,");
const ULL = ascii("ULL,");
const PACKED = ascii(" __attribute__((packed))");
const MODE_BYTE = ascii(" __attribute__((mode(byte)))");
const MODE_WORD = ascii(" __attribute__((mode(word)))");

export function emitEnumDef(d: DumpState, id: number, lvl: number): void {
  const w = d.w;
  const p = d.at[id]!;
  const info = w[p + 1]!;
  const vlen = info & 0xffff;
  const is64 = ((info >>> 24) & 0x1f) === Kind.ENUM64;
  const out = d.out;
  out.bytes(ENUM);
  if (w[p]! !== 0) writeTypeName(d, id, 32);
  if (vlen === 0) return;
  out.bytes(OPEN);
  const anyHigh = is64 ? emitEnum64Values(d, p, lvl) : emitEnumValues(d, p, lvl);
  out.newlineIndent(lvl);
  out.byte(125);
  if (!d.enumModes) return;
  const size = w[p + 2]!;
  if (size === 1) {
    out.bytes(MODE_BYTE);
  } else if (size === 8) {
    // An 8-byte enum needs mode(word) unless a value needs 64 bits by itself.
    if (!anyHigh) out.bytes(MODE_WORD);
  }
}

/** `NAME___N` for one enumerator at `pos` in the strings, on a new line. */
function emitEnumeratorName(d: DumpState, pos: number, lvl: number): void {
  const out = d.out;
  // Enumerators share the ordinary identifier namespace with typedefs; the name is hashed as it is copied.
  const dup = d.identNames.bumpHashed(pos, out.lineHashed(lvl, d.strs, pos));
  out.dupSuffix(dup > 1 ? dup : 0);
}

/** The enumerators of a BTF_KIND_ENUM (record at `p`); returns false (no value needs 64 bits). */
function emitEnumValues(d: DumpState, p: number, lvl: number): boolean {
  const w = d.w;
  const out = d.out;
  const vlen = w[p + 1]! & 0xffff;
  const signed = w[p + 1]! >>> 31 === 1;
  const strs = d.strs;
  const names = d.identNames;
  for (let i = 0, v = p + 3; i < vlen; i++, v += 2) {
    // Enumerators share the ordinary identifier namespace with typedefs; names are hashed as they are copied.
    const pos = d.strStart + w[v]!;
    const dup = names.bumpHashed(pos, out.lineHashed(lvl + 1, strs, pos));
    out.enumValue(dup > 1 ? dup : 0, w[v + 1]! | 0, signed);
  }
  return false;
}

/** The enumerators of a BTF_KIND_ENUM64; returns whether a value has high bits set. */
function emitEnum64Values(d: DumpState, p: number, lvl: number): boolean {
  const w = d.w;
  const out = d.out;
  const vlen = w[p + 1]! & 0xffff;
  const signed = w[p + 1]! >>> 31 === 1;
  let anyHigh = false;
  // Values go through String(), never Writer.num(): they need doubles (see Writer.enumValue).
  for (let i = 0, v = p + 3; i < vlen; i++, v += 3) {
    emitEnumeratorName(d, d.strStart + w[v]!, lvl + 1);
    out.bytes(ASSIGN);
    const lo = w[v + 1]!;
    const hi = w[v + 2]!;
    if (hi !== 0) anyHigh = true;
    if (signed) {
      if (hi === 0 || hi === 0xffffffff) out.text(String(hi === 0 ? lo : lo - 0x100000000));
      else out.text(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString());
      out.bytes(LL);
    } else {
      if (hi < 0x200000) out.text(String(hi * 0x100000000 + lo));
      else out.text(((BigInt(hi) << 32n) | BigInt(lo)).toString());
      out.bytes(ULL);
    }
  }
  return anyHigh;
}

export function emitStructDef(d: DumpState, id: number, lvl: number): void {
  const w = d.w;
  const p = d.at[id]!;
  const info = w[p + 1]!;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  const isStruct = ((info >>> 24) & 0x1f) === Kind.STRUCT;
  const size = w[p + 2]!;
  const out = d.out;
  const align = alignOf(d, id);
  const packed = isStruct ? isStructPacked(d, id) : false;

  out.bytes(isStruct ? STRUCT : UNION);
  if (w[p]! !== 0) writeTypeName(d, id, 32);
  out.bytes(OPEN);
  const sizeCache = d.sizeCache;
  const declPre = d.declPre;
  const strs = d.strs;
  const strStart = d.strStart;
  let off = 0;
  let prevBitfield = false;
  for (let i = 0, m = p + 3; i < vlen; i++, m += 3) {
    const type = w[m + 1]!;
    const raw = w[m + 2]!;
    let mSize = kflag ? raw >>> 24 : 0;
    const mOff = kflag ? raw & 0xffffff : raw;
    if (off < mOff) emitBitPadding(d, id, off, mOff, packed ? 1 : alignOf(d, type), prevBitfield && mSize !== 0, lvl + 1);
    const namePos = strStart + w[m]!;
    const bitfield = mSize !== 0;
    if (declPre[type]! >= 0 && strs[namePos] !== 0) {
      // The whole line, `;` included unless a bit count comes first.
      replayMemberLine(d, type, namePos, lvl + 1, bitfield);
    } else {
      out.newlineIndent(lvl + 1);
      emitTypeDecl(d, type, w[m]!, 0, lvl + 1);
      if (!bitfield) out.byte(59);
    }
    if (bitfield) {
      out.bytes(BITS);
      out.num(mSize);
      out.byte(59);
      off = mOff + mSize;
      prevBitfield = true;
    } else {
      mSize = sizeCache[type]!;
      if (mSize < 0) mSize = memberSize(d, type);
      off = mOff + mSize * 8;
      prevBitfield = false;
    }
  }
  if (isStruct && off < size * 8) emitBitPadding(d, id, off, size * 8, align, false, lvl + 1);
  // `struct empty {}` stays on one line.
  if (vlen || size) out.newlineIndent(lvl);
  out.byte(125);
  if (packed) out.bytes(PACKED);
}
