/**
 * Values as bpftool's BTF dumper prints them (tools/bpf/bpftool/btf_dumper.c),
 * into a JsonWriter: `bpftool map dump` and `bpftool -j map dump`'s
 * "formatted" part, so tsbpf's dumps can be diffed against them. Its rules,
 * which are not JSON.stringify's: unsigned and signed integers in decimal
 * (u64 unquoted, however large), bitfields and 128-bit integers in hex, a
 * printable `char` as a one-character string, a char array holding a
 * NUL-terminated printable string as that string, enums by enumerator name
 * (the number when none matches), pointers as %p in text and decimal in
 * JSON, a variable as `{name: value}`, a data section as `{section: [vars]}`.
 */
import type { JsonWriter } from "../text/jsonw.js";
import type { Btf } from "./btf.js";
import { BtfKind } from "./types.js";

const BTF_INT_SIGNED = 1;
const BTF_INT_CHAR = 2;
const BTF_INT_BOOL = 4;

export interface BtfDumpContext {
  btf: Btf;
  jw: JsonWriter;
  /** bpftool's is_plain_text: the text dump rather than -j (pointers and hex differ). */
  plainText: boolean;
}

/** Writes the value of type `typeId` held at the start of `data`. */
export function dumpBtfType(d: BtfDumpContext, typeId: number, data: Uint8Array, bitOffset = 0): void {
  const t = d.btf.type(typeId);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (t.kind) {
    case BtfKind.Int:
      dumpInt(d, t.encoding, t.bits, t.bitOffset + bitOffset, view);
      return;
    case BtfKind.Struct:
    case BtfKind.Union:
      d.jw.startObject();
      for (const m of t.members) {
        const byte = Math.floor(m.bitOffset / 8);
        const bit = m.bitOffset % 8;
        d.jw.name(m.name);
        const at = data.subarray(byte);
        if (m.bitfieldSize) writeHex(d, readBits(new DataView(at.buffer, at.byteOffset, at.byteLength), bit, m.bitfieldSize));
        else dumpBtfType(d, m.type, at, bit);
      }
      d.jw.endObject();
      return;
    case BtfKind.Array: {
      const s = stringOf(d.btf, t.elemType, t.nelems, data);
      if (s !== undefined) {
        d.jw.string(s);
        return;
      }
      const size = d.btf.resolveSize(t.elemType);
      d.jw.startArray();
      for (let i = 0; i < t.nelems; i++) dumpBtfType(d, t.elemType, data.subarray(i * size));
      d.jw.endArray();
      return;
    }
    case BtfKind.Enum:
    case BtfKind.Enum64: {
      const value = readSigned(view, t.size);
      const e = t.values.find((v) => BigInt.asIntN(t.size * 8, v.value) === value);
      if (e) d.jw.string(e.name);
      else d.jw.raw(String(value));
      return;
    }
    case BtfKind.Ptr: {
      const value = view.getBigUint64(0, true);
      d.jw.raw(d.plainText ? (value ? `0x${value.toString(16)}` : "(nil)") : String(value));
      return;
    }
    case BtfKind.Typedef:
    case BtfKind.Volatile:
    case BtfKind.Const:
    case BtfKind.Restrict:
    case BtfKind.TypeTag:
      dumpBtfType(d, t.type, data, bitOffset);
      return;
    case BtfKind.Var:
      d.jw.startObject();
      d.jw.name(t.name);
      dumpBtfType(d, t.type, data, bitOffset);
      d.jw.endObject();
      return;
    case BtfKind.Datasec:
      d.jw.startObject();
      d.jw.name(t.name);
      d.jw.startArray();
      for (const v of t.vars) dumpBtfType(d, v.type, data.subarray(v.offset));
      d.jw.endArray();
      d.jw.endObject();
      return;
    case BtfKind.Float:
      d.jw.raw((t.size === 4 ? view.getFloat32(0, true) : view.getFloat64(0, true)).toFixed(6));
      return;
    default:
      d.jw.raw("(unknown)");
  }
}

function dumpInt(d: BtfDumpContext, encoding: number, bits: number, bitOffset: number, view: DataView): void {
  if (bitOffset || bits % 8) {
    writeHex(d, readBits(view, bitOffset, bits));
    return;
  }
  if (bits === 128) {
    const lo = view.getBigUint64(0, true);
    const hi = view.getBigUint64(8, true);
    writeHex(d, (hi << 64n) | lo);
    return;
  }
  if (encoding & BTF_INT_BOOL) {
    d.jw.raw(view.getUint8(0) ? "true" : "false");
    return;
  }
  if (encoding & BTF_INT_CHAR) {
    const c = view.getUint8(0);
    if (c >= 0x20 && c < 0x7f) {
      d.jw.string(String.fromCharCode(c));
      return;
    }
    d.jw.raw(d.plainText ? `0x${c.toString(16)}` : `"\\u00${c.toString(16).padStart(2, "0")}"`);
    return;
  }
  const size = bits / 8;
  d.jw.raw(String(encoding & BTF_INT_SIGNED ? readSigned(view, size) : readUnsigned(view, size)));
}

/** btf_int128_print: hex, quoted in JSON. */
function writeHex(d: BtfDumpContext, value: bigint): void {
  const text = `0x${value.toString(16)}`;
  d.jw.raw(d.plainText ? text : `"${text}"`);
}

function readUnsigned(view: DataView, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(view.getUint8(i));
  return v;
}

function readSigned(view: DataView, size: number): bigint {
  return BigInt.asIntN(size * 8, readUnsigned(view, size));
}

/** `bits` bits starting `bitOffset` bits into the (little-endian) bytes. */
function readBits(view: DataView, bitOffset: number, bits: number): bigint {
  const bytes = Math.ceil((bitOffset + bits) / 8);
  return (readUnsigned(view, Math.min(bytes, view.byteLength)) >> BigInt(bitOffset)) & ((1n << BigInt(bits)) - 1n);
}

/**
 * is_str_array: an array of `char` (or a 1-byte CHAR int; a typedef of char
 * does not count) whose bytes are printable up to a NUL within the array.
 */
function stringOf(btf: Btf, elemType: number, nelems: number, data: Uint8Array): string | undefined {
  if (!nelems) return undefined;
  let id = elemType;
  for (let t = btf.type(id); t.kind === BtfKind.Volatile || t.kind === BtfKind.Const || t.kind === BtfKind.Restrict; t = btf.type(id))
    id = t.type;
  const elem = btf.type(id);
  if (elem.kind !== BtfKind.Int || elem.size !== 1) return undefined;
  if (!(elem.encoding & BTF_INT_CHAR) && elem.name !== "char") return undefined;
  for (let i = 0; i < nelems && i < data.byteLength; i++) {
    const c = data[i]!;
    if (c === 0) return String.fromCharCode(...data.subarray(0, i));
    if (c <= 0x1f || c >= 0x7f) return undefined;
  }
  return undefined;
}
