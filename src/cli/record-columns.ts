/**
 * The columns of `tsbpf load`'s record table, laid out from the record's
 * BTF type before any record arrives: a u32 is 10 wide because 4294967295
 * is, whatever the first pid was, so later rows line up with the header.
 *
 * One column per member the decoder yields (members of anonymous structs
 * and unions are lifted, as it lifts them). Widths:
 *   integers, enums, bitfields   digits of the widest value of the type
 *   _Bool                        5 ("false")
 *   pointers                     20 (they decode as u64 bigints)
 *   float, double                the longest shortest-round-trip text
 *   char[N]                      N - 1, at most MAX_TEXT_WIDTH (a longer or
 *                                escaped value overflows its own cell)
 *   u8[N]                        2N hex digits, at most MAX_TEXT_WIDTH
 *   other arrays, structs        printed as JSON: no fixed width
 * and never narrower than the column's name.
 */
import type { Btf } from "../btf/btf.js";
import { BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, BtfKind, type BtfType, type CompositeType } from "../btf/types.js";

export interface RecordColumn {
  /** The member name, as the decoded record's key. */
  name: string;
  width: number;
  /** The column is the whole record (a type that is not a struct or union). */
  whole?: boolean;
  /** For char arrays: where the bytes are in the record, to print them escaped byte by byte. */
  chars?: { offset: number; size: number };
}

const MAX_TEXT_WIDTH = 32;
/** "-3.4028234663852886e+38" and "-1.7976931348623157e+308". */
const FLOAT_WIDTH: Record<number, number> = { 4: 23, 8: 24 };

function integerWidth(bits: number, signed: boolean): number {
  if (bits <= 0) return 1;
  const b = BigInt(bits);
  return signed ? String(-(1n << (b - 1n))).length : String((1n << b) - 1n).length;
}

function widthOf(btf: Btf, t: BtfType): number | undefined {
  switch (t.kind) {
    case BtfKind.Int:
      if (t.encoding & BTF_INT_BOOL) return 5;
      return integerWidth(t.bits, (t.encoding & BTF_INT_SIGNED) !== 0);
    case BtfKind.Enum:
    case BtfKind.Enum64:
      return integerWidth(t.size * 8, t.signed);
    case BtfKind.Ptr:
      return 20;
    case BtfKind.Float:
      return FLOAT_WIDTH[t.size] ?? 24;
    case BtfKind.Array: {
      const elem = btf.type(btf.skipModifiers(t.elemType));
      if (elem.kind === BtfKind.Int && elem.size === 1 && elem.bits === 8 && !(elem.encoding & BTF_INT_BOOL)) {
        const isChar = elem.name === "char" || (elem.encoding & BTF_INT_CHAR) !== 0;
        return Math.min(isChar ? Math.max(t.nelems - 1, 0) : 2 * t.nelems, MAX_TEXT_WIDTH);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function isCharArray(btf: Btf, t: BtfType): number | undefined {
  if (t.kind !== BtfKind.Array) return undefined;
  const elem = btf.type(btf.skipModifiers(t.elemType));
  const isChar =
    elem.kind === BtfKind.Int &&
    elem.size === 1 &&
    elem.bits === 8 &&
    !(elem.encoding & BTF_INT_BOOL) &&
    (elem.name === "char" || (elem.encoding & BTF_INT_CHAR) !== 0);
  return isChar ? t.nelems : undefined;
}

function memberColumns(btf: Btf, t: CompositeType, byteOffset: number, out: RecordColumn[], depth: number): void {
  for (const m of t.members) {
    const mt = btf.type(btf.skipModifiers(m.type));
    if (!m.name) {
      if ((mt.kind === BtfKind.Struct || mt.kind === BtfKind.Union) && depth < 32)
        memberColumns(btf, mt, byteOffset + Math.floor(m.bitOffset / 8), out, depth + 1);
      continue;
    }
    const column: RecordColumn = { name: m.name, width: m.name.length };
    let width: number | undefined;
    if (m.bitfieldSize > 0) {
      const signed = mt.kind === BtfKind.Int ? (mt.encoding & BTF_INT_SIGNED) !== 0 : "signed" in mt && mt.signed === true;
      width = mt.kind === BtfKind.Int && mt.encoding & BTF_INT_BOOL ? 5 : integerWidth(m.bitfieldSize, signed);
    } else {
      width = widthOf(btf, mt);
      const chars = isCharArray(btf, mt);
      if (chars !== undefined) column.chars = { offset: byteOffset + m.bitOffset / 8, size: chars };
    }
    if (width !== undefined) column.width = Math.max(column.width, width);
    out.push(column);
  }
}

/** The table's columns for records of type `typeId`; one "value" column for a type that is not a struct or union. */
export function recordColumns(btf: Btf, typeId: number): RecordColumn[] {
  const t = btf.type(btf.skipModifiers(typeId));
  if (t.kind === BtfKind.Struct || t.kind === BtfKind.Union) {
    const out: RecordColumn[] = [];
    memberColumns(btf, t, 0, out, 0);
    return out;
  }
  const chars = isCharArray(btf, t);
  return [
    {
      name: "value",
      whole: true,
      width: Math.max(5, widthOf(btf, t) ?? 0),
      ...(chars !== undefined ? { chars: { offset: 0, size: chars } } : {}),
    },
  ];
}
