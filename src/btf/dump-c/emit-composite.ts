/**
 * The bodies of composite types: `enum { A = 1, ... }` (64-bit values and
 * the optional mode attributes included) and `struct` / `union { ... }`,
 * members with bitfields, explicit padding and `__attribute__((packed))`.
 * Used both for top-level definitions and for anonymous types written
 * inline inside a declaration.
 */
import { emitTypeDecl } from "./emit-decl.js";
import { Kind } from "./kinds.js";
import { alignOf, emitBitPadding, isStructPacked, resolveSize } from "./layout.js";
import { writeTypeName } from "./names.js";
import type { DumpState } from "./state.js";

export function emitEnumDef(d: DumpState, id: number, lvl: number): void {
  const w = d.w;
  const p = d.at[id]!;
  const info = w[p + 1]!;
  const vlen = info & 0xffff;
  const is64 = ((info >>> 24) & 0x1f) === Kind.ENUM64;
  const signed = info >>> 31 === 1;
  const size = w[p + 2]!;
  const out = d.out;
  out.text("enum");
  if (w[p]! !== 0) {
    out.byte(32);
    writeTypeName(d, id);
  }
  if (vlen === 0) return;
  out.text(" {");
  const step = is64 ? 3 : 2;
  let anyHigh = false;
  for (let i = 0, v = p + 3; i < vlen; i++, v += step) {
    const nameOff = w[v]!;
    // Enumerators share the ordinary identifier namespace with typedefs.
    const dup = d.identNames.bump(d.strStart + nameOff);
    out.newlineIndent(lvl + 1);
    d.writeString(nameOff);
    if (dup > 1) {
      out.text("___");
      out.num(dup);
    }
    out.text(" = ");
    if (is64) {
      const lo = w[v + 1]!;
      const hi = w[v + 2]!;
      if (hi !== 0) anyHigh = true;
      if (signed) {
        if (hi === 0 || hi === 0xffffffff) out.num(hi === 0 ? lo : lo - 0x100000000);
        else out.text(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString());
        out.text("LL,");
      } else {
        if (hi < 0x200000) out.num(hi * 0x100000000 + lo);
        else out.text(((BigInt(hi) << 32n) | BigInt(lo)).toString());
        out.text("ULL,");
      }
    } else {
      out.num(signed ? w[v + 1]! | 0 : w[v + 1]!);
      out.byte(44);
    }
  }
  out.newlineIndent(lvl);
  out.byte(125);
  if (!d.enumModes) return;
  if (size === 1) {
    out.text(" __attribute__((mode(byte)))");
  } else if (size === 8) {
    // An 8-byte enum needs mode(word) unless a value needs 64 bits by itself.
    if (!is64 || !anyHigh) out.text(" __attribute__((mode(word)))");
  }
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

  out.text(isStruct ? "struct" : "union");
  if (w[p]! !== 0) {
    out.byte(32);
    writeTypeName(d, id);
  }
  out.text(" {");
  let off = 0;
  let prevBitfield = false;
  for (let i = 0, m = p + 3; i < vlen; i++, m += 3) {
    const type = w[m + 1]!;
    const raw = w[m + 2]!;
    let mSize = kflag ? raw >>> 24 : 0;
    const mOff = kflag ? raw & 0xffffff : raw;
    const mAlign = packed ? 1 : alignOf(d, type);
    emitBitPadding(d, id, off, mOff, mAlign, prevBitfield && mSize !== 0, lvl + 1);
    out.newlineIndent(lvl + 1);
    emitTypeDecl(d, type, w[m]!, 0, lvl + 1);
    if (mSize) {
      out.text(": ");
      out.num(mSize);
      off = mOff + mSize;
      prevBitfield = true;
    } else {
      mSize = Math.max(0, resolveSize(d, type));
      off = mOff + mSize * 8;
      prevBitfield = false;
    }
    out.byte(59);
  }
  if (isStruct) emitBitPadding(d, id, off, size * 8, align, false, lvl + 1);
  // `struct empty {}` stays on one line.
  if (vlen || size) out.newlineIndent(lvl);
  out.byte(125);
  if (packed) out.text(" __attribute__((packed))");
}
