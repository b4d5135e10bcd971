/**
 * Struct layout, reproduced rather than trusted: libbpf's align-of and
 * resolve-size arithmetic (errno values included, as they leak into the
 * layout maths), the test for `__attribute__((packed))` (offsets not
 * naturally aligned), and the explicit `long: 64;`-style padding that fills
 * holes the compiler would not add on its own.
 */
import { ObjectFormatError } from "../../errors.js";
import { Kind } from "./kinds.js";
import type { DumpState } from "./state.js";

/** BPF's pointer size, which is also libbpf's for a 64-bit host's BTF. */
const PTR_SIZE = 8;
/** libbpf's MAX_RESOLVE_DEPTH for size resolution. */
const MAX_RESOLVE_DEPTH = 32;
/** libbpf returns -EINVAL / -E2BIG from align-of and resolve-size; the values leak into layout arithmetic. */
const EINVAL = 22, E2BIG = 7;
/** Marks an alignCache entry not computed yet. */
export const UNSET = -0x80000000;
/** Holes wider than this (16 MiB) are not padded member by member: no real struct has one. */
const MAX_HOLE_BITS = 16 * 1024 * 1024 * 8;

/** Explicit padding types, widest first. */
const PAD_NAMES = ["long", "int", "short", "char"];
const PAD_BITS = [PTR_SIZE * 8, 32, 16, 8];

/**
 * Fills the hole [cur, next) bits with unnamed bitfields (`long: 64;`),
 * relying on natural alignment where the compiler would pad by itself.
 */
export function emitBitPadding(d: DumpState, id: number, cur: number, next: number, nextAlign: number, inBitfield: boolean, lvl: number): void {
  if (cur >= next) return;
  if (next - cur > MAX_HOLE_BITS) {
    throw new ObjectFormatError(d.where, 0, `type [${id}] has a ${Math.floor((next - cur) / 8)}-byte hole, too wide to pad (corrupt size or offset?)`);
  }
  const out = d.out;
  // The widest padding type whose alignment boundary falls inside the hole.
  let i = 0;
  let padBits = 0;
  let newOff = 0;
  for (; i < PAD_BITS.length; i++) {
    padBits = PAD_BITS[i]!;
    newOff = roundup(cur, padBits);
    if (newOff <= next) break;
  }
  if (i === PAD_BITS.length) i--;
  let padName = PAD_NAMES[i]!;
  if (newOff > cur && newOff <= next) {
    // An explicit `<type>: 0` is needed when the compiler would not align
    // there by itself, and always after a bitfield (with its bit count).
    if (
      inBitfield ||
      (newOff === next && roundup(cur, nextAlign * 8) !== newOff) ||
      (newOff !== next && next - newOff <= newOff - cur)
    ) {
      out.newlineIndent(lvl);
      out.text(padName);
      out.text(": ");
      out.num(inBitfield ? newOff - cur : 0);
      out.byte(59);
    }
    cur = newOff;
  }
  // Whole padding units, then the smallest type that holds the rest.
  while (cur !== next) {
    const bits = Math.min(next - cur, padBits);
    if (bits === padBits) {
      out.newlineIndent(lvl);
      out.text(padName);
      out.text(": ");
      out.num(padBits);
      out.byte(59);
      cur += bits;
      continue;
    }
    for (let j = PAD_BITS.length - 1; j >= 0; j--) {
      padName = PAD_NAMES[j]!;
      padBits = PAD_BITS[j]!;
      if (padBits < bits) continue;
      out.newlineIndent(lvl);
      out.text(padName);
      out.text(": ");
      out.num(bits);
      out.byte(59);
      cur += bits;
      break;
    }
  }
}

/** Whether the layout needs __attribute__((packed)): a misaligned member or an odd total size. */
export function isStructPacked(d: DumpState, id: number): boolean {
  const w = d.w;
  const p = d.at[id]!;
  const info = w[p + 1]!;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  let maxAlign = 1;
  for (let i = 0, m = p + 3; i < vlen; i++, m += 3) {
    const align = alignOf(d, w[m + 1]!);
    const raw = w[m + 2]!;
    const bitSize = kflag ? raw >>> 24 : 0;
    const off = kflag ? raw & 0xffffff : raw;
    if (align && bitSize === 0 && off % (8 * align) !== 0) return true;
    if (align > maxAlign) maxAlign = align;
  }
  return w[p + 2]! % maxAlign !== 0;
}

/** libbpf's btf__align_of, memoised: natural alignment, 1 for a packed struct, -EINVAL for no layout. */
export function alignOf(d: DumpState, id: number): number {
  let a = d.alignCache[id]!;
  if (a !== UNSET) return a;
  a = computeAlign(d, id);
  d.alignCache[id] = a;
  return a;
}

function computeAlign(d: DumpState, id: number): number {
  if (id === 0) return -EINVAL;
  const w = d.w;
  const p = d.at[id]!;
  const info = w[p + 1]!;
  switch ((info >>> 24) & 0x1f) {
    case Kind.INT:
    case Kind.ENUM:
    case Kind.ENUM64:
    case Kind.FLOAT:
      return Math.min(PTR_SIZE, w[p + 2]!);
    case Kind.PTR:
      return PTR_SIZE;
    case Kind.TYPEDEF:
    case Kind.VOLATILE:
    case Kind.CONST:
    case Kind.RESTRICT:
    case Kind.TYPE_TAG:
      return alignOf(d, w[p + 2]!);
    case Kind.ARRAY:
      return alignOf(d, w[p + 3]!);
    case Kind.STRUCT:
    case Kind.UNION: {
      const vlen = info & 0xffff;
      const kflag = info >>> 31 === 1;
      let maxAlign = 1;
      for (let i = 0, m = p + 3; i < vlen; i++, m += 3) {
        const align = alignOf(d, w[m + 1]!);
        if (align <= 0) return align;
        if (align > maxAlign) maxAlign = align;
        const raw = w[m + 2]!;
        // A member off its natural alignment means the struct is packed.
        if ((kflag ? raw >>> 24 : 0) === 0 && (kflag ? raw & 0xffffff : raw) % (8 * align) !== 0) return 1;
      }
      if (w[p + 2]! % maxAlign !== 0) return 1;
      return maxAlign;
    }
    default:
      return -EINVAL;
  }
}

/** libbpf's btf__resolve_size: a negative errno when there is no size. */
export function resolveSize(d: DumpState, id: number): number {
  const w = d.w;
  let nelems = 1;
  for (let i = 0; i < MAX_RESOLVE_DEPTH && id !== 0; i++) {
    const p = d.at[id]!;
    switch ((w[p + 1]! >>> 24) & 0x1f) {
      case Kind.INT: case Kind.STRUCT: case Kind.UNION: case Kind.ENUM: case Kind.ENUM64: case Kind.DATASEC: case Kind.FLOAT: {
        const size = w[p + 2]!;
        if (nelems && size > Math.floor(0xffffffff / nelems)) return -E2BIG;
        return nelems * size;
      }
      case Kind.PTR:
        return nelems * PTR_SIZE;
      case Kind.TYPEDEF: case Kind.VOLATILE: case Kind.CONST: case Kind.RESTRICT: case Kind.VAR: case Kind.DECL_TAG: case Kind.TYPE_TAG:
        id = w[p + 2]!;
        break;
      case Kind.ARRAY: {
        const n = w[p + 5]!;
        if (nelems && n > Math.floor(0xffffffff / nelems)) return -E2BIG;
        nelems *= n;
        id = w[p + 3]!;
        break;
      }
      default:
        return -EINVAL;
    }
  }
  return -EINVAL;
}

/** C's roundup() on ints, truncating division included (only malformed BTF gives a non-positive y). */
function roundup(x: number, y: number): number {
  return Math.trunc((x + y - 1) / y) * y;
}
