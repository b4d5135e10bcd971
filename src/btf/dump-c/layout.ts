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
import { ascii } from "./writer.js";

/** BPF's pointer size, which is also libbpf's for a 64-bit host's BTF. */
const PTR_SIZE = 8;
/** libbpf's MAX_RESOLVE_DEPTH for size resolution. */
const MAX_RESOLVE_DEPTH = 32;
/** libbpf returns -EINVAL / -E2BIG from align-of and resolve-size; the values leak into layout arithmetic. */
const EINVAL = 22,
  E2BIG = 7;
/** Marks an alignCache entry not computed yet. */
export const UNSET = -0x80000000;
/** Holes wider than this (16 MiB) are not padded member by member: no real struct has one. */
const MAX_HOLE_BITS = 16 * 1024 * 1024 * 8;

/** Explicit padding types, widest first. */
const PAD_NAMES = ["long", "int", "short", "char"];
/**
 * Every padding field's text, `long: 64;` to `char: 0;`, by PAD_NAMES index * 65 + bits (at most
 * 64): made whole at the first padding written, not at import (~2 ms of every process's start).
 */
let padFields: Uint8Array[] | undefined;
const PAD_BITS = [PTR_SIZE * 8, 32, 16, 8];

/**
 * Fills the hole [cur, next) bits with unnamed bitfields (`long: 64;`),
 * relying on natural alignment where the compiler would pad by itself.
 */
export function emitBitPadding(
  d: DumpState,
  id: number,
  cur: number,
  next: number,
  nextAlign: number,
  inBitfield: boolean,
  lvl: number,
): void {
  if (cur >= next) return;
  if (next - cur > MAX_HOLE_BITS) {
    throw new ObjectFormatError(
      d.where,
      0,
      `type [${id}] has a ${Math.floor((next - cur) / 8)}-byte hole, too wide to pad (corrupt size or offset?)`,
    );
  }
  // The widest padding type whose alignment boundary falls inside the hole.
  let i = 0;
  let padBits = 0;
  let newOff = 0;
  for (; i < PAD_BITS.length; i++) {
    padBits = PAD_BITS[i]!;
    newOff = Math.trunc((cur + padBits - 1) / padBits) * padBits;
    if (newOff <= next) break;
  }
  if (i === PAD_BITS.length) i = PAD_BITS.length - 1;
  // Fields are written at one place (one copy of padField() in the optimised code): the
  // optional alignment field first, then whole padding units, then the smallest type
  // that holds the rest.
  let field = -1;
  let fieldBits = 0;
  if (newOff > cur && newOff <= next) {
    // An explicit `<type>: 0` is needed when the compiler would not align
    // there by itself, and always after a bitfield (with its bit count).
    if (inBitfield || (newOff === next && roundup(cur, nextAlign * 8) !== newOff) || (newOff !== next && next - newOff <= newOff - cur)) {
      field = i;
      fieldBits = inBitfield ? newOff - cur : 0;
    }
    cur = newOff;
  }
  for (;;) {
    if (field >= 0) padField(d, lvl, field, fieldBits);
    if (cur === next) break;
    const bits = Math.min(next - cur, padBits);
    if (bits !== padBits) {
      // The narrowest type that holds `bits`, every comparison made every time (see Writer.name).
      i = 3 - (bits > 8 ? 1 : 0) - (bits > 16 ? 1 : 0) - (bits > 32 ? 1 : 0);
      padBits = PAD_BITS[i]!;
    }
    field = i;
    fieldBits = bits;
    cur += bits;
  }
}

/** One line of padding: `<PAD_NAMES[i]>: <bits>;`. */
function padField(d: DumpState, lvl: number, i: number, bits: number): void {
  d.out.newlineIndent(lvl);
  padFields ??= PAD_NAMES.flatMap((name) => Array.from({ length: 65 }, (_, bits) => ascii(`${name}: ${bits};`)));
  d.out.bytes(padFields[i * 65 + bits]!);
}

/** Whether the layout needs __attribute__((packed)): a misaligned member or an odd total size. */
export function isStructPacked(d: DumpState, id: number): boolean {
  const w = d.w;
  const p = d.at[id]!;
  const info = w[p + 1]!;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  let maxAlign = 1;
  const alignCache = d.alignCache;
  for (let i = 0, m = p + 3; i < vlen; i++, m += 3) {
    const t = w[m + 1]!;
    let align = alignCache[t]!;
    if (align === UNSET) align = alignOf(d, t);
    const raw = w[m + 2]!;
    const bitSize = kflag ? raw >>> 24 : 0;
    const off = kflag ? raw & 0xffffff : raw;
    if (align && bitSize === 0 && off % (8 * align) !== 0) return true;
    if (align > maxAlign) maxAlign = align;
  }
  return w[p + 2]! % maxAlign !== 0;
}

/**
 * libbpf's btf__align_of, memoised: natural alignment, 1 for a packed
 * struct, -EINVAL for no layout. One function that calls itself (rather
 * than a cache in front of a worker): V8 never inlines a function into
 * itself, but would inline a pair of mutually recursive ones into each
 * other, making the optimised code several times bigger.
 */
export function alignOf(d: DumpState, id: number): number {
  const alignCache = d.alignCache;
  let a = alignCache[id]!;
  if (a !== UNSET) return a;
  const w = d.w;
  const p = d.at[id]!;
  const info = id === 0 ? 0 : w[p + 1]!;
  switch (id === 0 ? 0 : (info >>> 24) & 0x1f) {
    case Kind.INT:
    case Kind.ENUM:
    case Kind.ENUM64:
    case Kind.FLOAT:
      a = Math.min(PTR_SIZE, w[p + 2]!);
      break;
    case Kind.PTR:
      a = PTR_SIZE;
      break;
    case Kind.TYPEDEF:
    case Kind.VOLATILE:
    case Kind.CONST:
    case Kind.RESTRICT:
    case Kind.TYPE_TAG:
      a = alignOf(d, w[p + 2]!);
      break;
    case Kind.ARRAY:
      a = alignOf(d, w[p + 3]!);
      break;
    case Kind.STRUCT:
    case Kind.UNION: {
      const vlen = info & 0xffff;
      const kflag = info >>> 31 === 1;
      let maxAlign = 1;
      let decided = false;
      for (let i = 0, m = p + 3; i < vlen; i++, m += 3) {
        const t = w[m + 1]!;
        let align = alignCache[t]!;
        if (align === UNSET) align = alignOf(d, t);
        if (align <= 0) {
          a = align;
          decided = true;
          break;
        }
        if (align > maxAlign) maxAlign = align;
        const raw = w[m + 2]!;
        // A member off its natural alignment means the struct is packed.
        if ((kflag ? raw >>> 24 : 0) === 0 && (kflag ? raw & 0xffffff : raw) % (8 * align) !== 0) {
          a = 1;
          decided = true;
          break;
        }
      }
      if (!decided) a = w[p + 2]! % maxAlign !== 0 ? 1 : maxAlign;
      break;
    }
    default:
      a = -EINVAL;
  }
  alignCache[id] = a;
  return a;
}

/**
 * The bytes a member of type `id` takes, memoised: libbpf's
 * btf__resolve_size, 0 where that fails (its negative errno). One function,
 * for one optimised copy.
 */
export function memberSize(d: DumpState, id: number): number {
  const cached = d.sizeCache[id]!;
  if (cached >= 0) return cached;
  const w = d.w;
  let t = id;
  let nelems = 1;
  let size = -EINVAL;
  for (let i = 0; i < MAX_RESOLVE_DEPTH && t !== 0; i++) {
    const p = d.at[t]!;
    const kind = (w[p + 1]! >>> 24) & 0x1f;
    if (
      kind === Kind.INT ||
      kind === Kind.STRUCT ||
      kind === Kind.UNION ||
      kind === Kind.ENUM ||
      kind === Kind.ENUM64 ||
      kind === Kind.DATASEC ||
      kind === Kind.FLOAT
    ) {
      const s = w[p + 2]!;
      size = nelems && s > Math.floor(0xffffffff / nelems) ? -E2BIG : nelems * s;
      break;
    }
    if (kind === Kind.PTR) {
      size = nelems * PTR_SIZE;
      break;
    }
    if (
      kind === Kind.TYPEDEF ||
      kind === Kind.VOLATILE ||
      kind === Kind.CONST ||
      kind === Kind.RESTRICT ||
      kind === Kind.VAR ||
      kind === Kind.DECL_TAG ||
      kind === Kind.TYPE_TAG
    ) {
      t = w[p + 2]!;
    } else if (kind === Kind.ARRAY) {
      const n = w[p + 5]!;
      if (nelems && n > Math.floor(0xffffffff / nelems)) {
        size = -E2BIG;
        break;
      }
      nelems *= n;
      t = w[p + 3]!;
    } else {
      break; // -EINVAL
    }
  }
  size = Math.max(0, size);
  d.sizeCache[id] = size;
  return size;
}

/** C's roundup() on ints, truncating division included (only malformed BTF gives a non-positive y). */
function roundup(x: number, y: number): number {
  return Math.trunc((x + y - 1) / y) * y;
}
