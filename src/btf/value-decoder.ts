/**
 * BTF-driven decoding of raw values (ring buffer records, map values) into
 * plain JS objects: `makeDecoder(btf, "event")` reads `struct event` as C
 * lays it out and returns a function from bytes to `{ pid, comm, ... }`.
 *
 * The decoder is compiled once per type: the BTF is walked at make time and
 * turned into the source of one specialised function (every field read at a
 * constant offset, nested structs inlined into one object literal, so V8
 * sees a single object shape), built with `new Function`. Only numbers
 * derived from the BTF and JSON-quoted names reach that source.
 *
 * What each C type becomes:
 *
 *   signed/unsigned 8/16/32-bit int     number
 *   64-bit int, pointer                 bigint (exact; `int64: "number"` rounds)
 *   __int128                            bigint
 *   _Bool (INT with BTF_INT_BOOL)       boolean
 *   float, double                       number
 *   enum                                number (bigint if 8 bytes), or its
 *                                       enumerator's name with `enumNames`
 *   char[N]                             string: UTF-8, cut at the first NUL
 *   other 1-byte int arrays (u8[N])     Uint8Array (a copy)
 *   other arrays                        arrays of the elements
 *   struct, union                       nested objects; a union decodes every
 *                                       member over the same bytes; members
 *                                       of anonymous structs/unions are
 *                                       lifted into the parent, as C names them
 *   bitfields                           number (bigint if the declared type is
 *                                       64-bit, boolean for _Bool)
 *   typedef, const, volatile, restrict  looked through
 *   zero-length (flexible) arrays       empty
 *
 * Byte order is little-endian (x86-64, arm64: what tsbpf runs on).
 *
 * Input is any Uint8Array: a ring buffer view, a copy, a map value. The
 * decoder keeps a DataView over the last ArrayBuffer it read (one per ring:
 * no allocation per record besides the result), which keeps that buffer
 * reachable until it reads another one.
 */
import { Buffer } from "node:buffer";
import type { Btf } from "./btf.js";
import { BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, BtfKind, type BtfType, type CompositeType, type EnumType } from "./types.js";
import { NotFoundError, TsbpfError } from "../errors.js";

export interface DecoderOptions {
  /** Enums as their enumerator's name (values with no name stay numbers). Default false. */
  enumNames?: boolean;
  /** 64-bit integers and pointers as exact bigints (default) or as (possibly rounded) numbers. */
  int64?: "bigint" | "number";
  /** char arrays as strings cut at NUL (default) or as bytes. */
  chars?: "string" | "bytes";
}

/** A compiled decoder: bytes (at least `size` of them) in, a fresh plain value out. */
export interface Decoder<T = Record<string, unknown>> {
  (data: Uint8Array): T;
  /**
   * Decodes the value at `data[offset..]`, without a view of it first: what
   * a RingBuffer.consumeRaw() callback gets is the whole ring and an offset.
   */
  at(data: Uint8Array, offset: number): T;
  /** Bytes the type occupies; shorter input throws a RangeError. */
  readonly size: number;
  /** The type's id in the BTF it was made from. */
  readonly typeId: number;
  /** The generated JavaScript, for the curious and for debugging. */
  readonly source: string;
}

/** Nested types deeper than this are refused (a C type that deep is a bug, or a loop). */
const MAX_DEPTH = 32;
/** Arrays up to this many elements are unrolled; longer ones loop. */
const UNROLL = 16;

/**
 * Compiles a decoder for type `type` of `btf`: an id, or a name
 * ("event", "struct event", "union u", "enum e", a typedef name).
 */
export function makeDecoder<T = Record<string, unknown>>(btf: Btf, type: number | string, opts: DecoderOptions = {}): Decoder<T> {
  const typeId = typeof type === "number" ? type : findType(btf, type);
  const c = new Compiler(btf, opts);
  const size = btf.resolveSize(typeId);
  const body = c.value(typeId, "o", 0);
  const source = [
    `"use strict";`,
    ...c.decls,
    // u64/s64 views start at the buffer's start (8-byte aligned); little-endian, as BPF's data here.
    // The views are fixed-length: a resizable buffer's are not kept, as it may have changed size by
    // the next record (reading byteLength per record instead costs ~15% of every decode).
    `let lastBuffer = null, dv = null, u8 = null, bytes = null, u64 = null, s64 = null;`,
    `function decodeAt(data, offset) {`,
    `  if (!(offset >= 0 && offset + ${size} <= data.byteLength)) throw new RangeError(${jsString(`need ${size} bytes to decode ${describe(btf, typeId)} at offset `)} + offset + " of " + data.byteLength);`,
    `  const buffer = data.buffer;`,
    `  if (buffer !== lastBuffer) { lastBuffer = buffer.resizable === true || buffer.growable === true ? null : buffer; dv = new DataView(buffer); u8 = new Uint8Array(buffer); bytes = Buffer.from(buffer); u64 = new BigUint64Array(buffer, 0, buffer.byteLength >>> 3); s64 = new BigInt64Array(buffer, 0, buffer.byteLength >>> 3); }`,
    `  const o = data.byteOffset + offset;`,
    `  return ${body};`,
    `}`,
    `function decode(data) {`,
    `  if (data.byteLength < ${size}) throw new RangeError(${jsString(`need ${size} bytes to decode ${describe(btf, typeId)}, got `)} + data.byteLength);`,
    `  return decodeAt(data, 0);`,
    `}`,
    `decode.at = decodeAt;`,
    `return decode;`,
  ].join("\n");
  const factory = new Function("h", "Buffer", source) as (h: unknown[], b: typeof Buffer) => Decoder<T>;
  const decode = factory(c.helpers, Buffer);
  Object.defineProperties(decode, {
    size: { value: size },
    typeId: { value: typeId },
    source: { value: source },
  });
  return decode;
}

/** Resolves "struct event", "event", a typedef name... to a type id. */
/** The type a decoder or encoder is made for: "struct event", "u64", "pid_t". */
export function findType(btf: Btf, name: string): number {
  const m = /^(struct|union|enum)\s+(.+)$/.exec(name.trim());
  const bare = m ? m[2]! : name.trim();
  const want = m
    ? ({ struct: [BtfKind.Struct], union: [BtfKind.Union], enum: [BtfKind.Enum, BtfKind.Enum64] } as const)[
        m[1] as "struct" | "union" | "enum"
      ]
    : undefined;
  const ids = btf.idsByName(bare);
  const decodable = (k: BtfKind) =>
    want
      ? (want as readonly BtfKind[]).includes(k)
      : k !== BtfKind.Fwd &&
        k !== BtfKind.Func &&
        k !== BtfKind.FuncProto &&
        k !== BtfKind.Var &&
        k !== BtfKind.Datasec &&
        k !== BtfKind.DeclTag;
  // Prefer a complete struct/union over anything else with the name.
  const id =
    ids.find((i) => decodable(btf.kind(i)) && (btf.kind(i) === BtfKind.Struct || btf.kind(i) === BtfKind.Union)) ??
    ids.find((i) => decodable(btf.kind(i)));
  if (id === undefined) throw new NotFoundError(`no decodable BTF type named '${name}' in ${btf.where}`);
  return id;
}

function describe(btf: Btf, id: number): string {
  const t = btf.type(id);
  const kind =
    t.kind === BtfKind.Struct
      ? "struct "
      : t.kind === BtfKind.Union
        ? "union "
        : t.kind === BtfKind.Enum || t.kind === BtfKind.Enum64
          ? "enum "
          : "";
  return `${kind}${t.name || "(anon)"} [${id}]`;
}

const jsString = (s: string): string => JSON.stringify(s);

/** An object-literal key; `__proto__` must be computed or it would set the prototype. */
const jsKey = (name: string): string => (name === "__proto__" ? `[${jsString(name)}]` : jsString(name));

class Compiler {
  /** Values the generated code reads as h[i]: helper functions, enum name tables. */
  readonly helpers: unknown[] = [];
  /** Declarations at the top of the generated source (const hN = h[N]). */
  readonly decls: string[] = [];
  private readonly helperIndex = new Map<unknown, string>();
  private readonly elementFns = new Map<number, string>();

  constructor(
    private readonly btf: Btf,
    private readonly opts: DecoderOptions,
  ) {}

  private helper(value: unknown, name: string): string {
    let ref = this.helperIndex.get(value);
    if (!ref) {
      ref = `${name}${this.helpers.length}`;
      this.decls.push(`const ${ref} = h[${this.helpers.length}];`);
      this.helpers.push(value);
      this.helperIndex.set(value, ref);
    }
    return ref;
  }

  private fail(id: number, problem: string): never {
    throw new TsbpfError(`cannot decode ${describe(this.btf, id)} from ${this.btf.where}: ${problem}`);
  }

  /** An expression for the value of type `id` whose bytes start at `off` (an expression). */
  value(id: number, off: string, depth: number): string {
    if (depth > MAX_DEPTH) this.fail(id, `types nested deeper than ${MAX_DEPTH}`);
    const t = this.btf.type(this.btf.skipModifiers(id));
    switch (t.kind) {
      case BtfKind.Int:
        if (t.bitOffset !== 0 || t.bits !== t.size * 8) {
          if (t.size > 16) this.fail(t.id, `${t.size}-byte int`);
          // Old-style bitfield type (INT with a bit offset/width of its own).
          return this.bitfield(t, off, t.bitOffset, t.bits);
        }
        return this.int(t.id, off, t.size, (t.encoding & BTF_INT_SIGNED) !== 0, (t.encoding & BTF_INT_BOOL) !== 0);
      case BtfKind.Ptr:
        return this.int(t.id, off, 8, false, false);
      case BtfKind.Float:
        if (t.size === 4) return `dv.getFloat32(${off}, true)`;
        if (t.size === 8) return `dv.getFloat64(${off}, true)`;
        return `u8.slice(${off}, ${off} + ${t.size})`; // long double: bytes
      case BtfKind.Enum:
      case BtfKind.Enum64:
        return this.enumValue(t, this.int(t.id, off, t.size, t.signed, false));
      case BtfKind.Array:
        return this.array(t.elemType, t.nelems, off, depth);
      case BtfKind.Struct:
      case BtfKind.Union:
        return `{ ${this.members(t, off, depth).join(", ")} }`;
      default:
        return this.fail(t.id, `a ${BtfKind[t.kind]} has no value layout`);
    }
  }

  private int(id: number, off: string, size: number, signed: boolean, bool: boolean): string {
    if (bool && size === 1) return `(u8[${off}] !== 0)`;
    if (bool) return `(${this.int(id, off, size, false, false)} != 0)`;
    switch (size) {
      case 1:
        return signed ? `dv.getInt8(${off})` : `u8[${off}]`;
      case 2:
        return `dv.get${signed ? "Int" : "Uint"}16(${off}, true)`;
      case 4:
        return `dv.get${signed ? "Int" : "Uint"}32(${off}, true)`;
      case 8:
        // As numbers, from two 32-bit halves: no BigInt per value. hi * 2^32 is
        // exact, so the sum is rounded once, exactly as Number(bigint) would be.
        // As bigints: an element of a 64-bit typed array when the field is 8-byte aligned in
        // memory (ring records are), which V8 reads ~1.8× faster than DataView.getBigUint64.
        return this.opts.int64 === "number"
          ? `(dv.getUint32(${off}, true) + dv.get${signed ? "Int" : "Uint"}32(${off} + 4, true) * 4294967296)`
          : `((${off}) & 7 ? dv.getBig${signed ? "Int" : "Uint"}64(${off}, true) : ${signed ? "s64" : "u64"}[(${off}) >>> 3])`;
      case 16: {
        const e = `${this.helper(int128, "int128")}(dv, ${off}, ${signed})`;
        return this.opts.int64 === "number" ? `Number(${e})` : e;
      }
      default:
        return this.fail(id, `${size}-byte integer`);
    }
  }

  private enumValue(t: EnumType, raw: string): string {
    if (!this.opts.enumNames) return raw;
    const names = new Map<number | bigint, string>();
    // First name wins for duplicate values, as C's switch would print it.
    // Keys of the same type as the raw value: bigint for 8-byte enums unless int64 is "number".
    const bigKeys = t.size === 8 && this.opts.int64 !== "number";
    for (const v of t.values) {
      const exact = t.signed ? BigInt.asIntN(t.size * 8, v.value) : BigInt.asUintN(t.size * 8, v.value);
      const key = bigKeys ? exact : Number(exact);
      if (!names.has(key)) names.set(key, v.name);
    }
    return `${this.helper(enumNamer(names), "enumName")}(${raw})`;
  }

  private array(elemType: number, nelems: number, off: string, depth: number): string {
    const elemId = this.btf.skipModifiers(elemType);
    const elem = this.btf.type(elemId);
    if (elem.kind === BtfKind.Int && elem.size === 1 && elem.bits === 8 && !(elem.encoding & BTF_INT_BOOL)) {
      const isChar = elem.name === "char" || (elem.encoding & BTF_INT_CHAR) !== 0;
      if (isChar && this.opts.chars !== "bytes")
        return nelems === 0 ? `""` : `${this.helper(cString, "cString")}(u8, bytes, ${off}, ${nelems})`;
      return `u8.slice(${off}, ${off} + ${nelems})`;
    }
    if (nelems === 0) return "[]";
    const elemSize = this.btf.resolveSize(elemId);
    if (nelems <= UNROLL) {
      const items: string[] = [];
      for (let i = 0; i < nelems; i++) items.push(this.value(elemId, `${off} + ${i * elemSize}`, depth + 1));
      return `[${items.join(", ")}]`;
    }
    // A loop over a per-element function, compiled once per element type.
    let fn = this.elementFns.get(elemId);
    if (!fn) {
      fn = `elem${elemId}`;
      this.elementFns.set(elemId, fn);
      this.decls.push(`const ${fn} = (dv, u8, bytes, o) => ${this.value(elemId, "o", depth + 1)};`);
    }
    return `${this.helper(decodeArray, "array")}(${fn}, dv, u8, bytes, ${off}, ${nelems}, ${elemSize})`;
  }

  /** `key: value` pairs of a struct/union's members; anonymous struct/union members are lifted. */
  private members(t: CompositeType, off: string, depth: number): string[] {
    const out: string[] = [];
    for (const m of t.members) {
      const at = (bitOffset: number): string => (bitOffset === 0 ? off : `${off} + ${bitOffset / 8}`);
      const mt = this.btf.type(this.btf.skipModifiers(m.type));
      // A bitfield: sized by the member (kind_flag), or by an INT type of its own (older encoders).
      const intBits = mt.kind === BtfKind.Int && (mt.bitOffset !== 0 || mt.bits !== mt.size * 8) ? mt : undefined;
      if (m.bitfieldSize > 0 || intBits) {
        if (mt.kind !== BtfKind.Int && mt.kind !== BtfKind.Enum && mt.kind !== BtfKind.Enum64)
          this.fail(t.id, `bitfield ${m.name} of a ${BtfKind[mt.kind]}`);
        const bit = m.bitOffset + (intBits && !m.bitfieldSize ? intBits.bitOffset : 0);
        const width = m.bitfieldSize || intBits!.bits;
        const byte = Math.floor(bit / 8);
        let v = this.bitfield(mt, at(byte * 8), bit % 8, width);
        if (mt.kind !== BtfKind.Int) v = this.enumValue(mt as EnumType, v);
        if (m.name) out.push(`${jsKey(m.name)}: ${v}`);
        continue;
      }
      if (m.bitOffset % 8 !== 0) this.fail(t.id, `member ${m.name || "(anon)"} is not byte-aligned`);
      if (!m.name) {
        const inner = mt;
        if (inner.kind === BtfKind.Struct || inner.kind === BtfKind.Union) {
          out.push(...this.members(inner, at(m.bitOffset), depth + 1));
        }
        continue; // other anonymous members (padding) have nothing to show
      }
      out.push(`${jsKey(m.name)}: ${this.value(m.type, at(m.bitOffset), depth + 1)}`);
    }
    return out;
  }

  /** A bitfield of `bits` bits starting `shift` bits into the byte at `off`, typed as `t`. */
  private bitfield(t: BtfType, off: string, shift: number, bits: number): string {
    const size = "size" in t ? (t.size as number) : 4;
    const signed = t.kind === BtfKind.Int ? (t.encoding & BTF_INT_SIGNED) !== 0 : isEnumType(t) && t.signed;
    const bool = t.kind === BtfKind.Int && (t.encoding & BTF_INT_BOOL) !== 0;
    const byte = Math.floor(shift / 8);
    const s = shift % 8;
    const start = byte === 0 ? off : `${off} + ${byte}`;
    if (bits < 1 || bits > 128) return this.fail(t.id, `bitfield of ${bits} bits`);
    const big = size > 4 || s + bits > 48;
    const e = `${this.helper(big ? bitsBig : bitsNumber, big ? "bitsBig" : "bits")}(u8, ${start}, ${s}, ${bits}, ${signed})`;
    if (bool) return `(${e} != 0)`;
    if (big && size <= 4) return `Number(${e})`;
    if (size > 4 && this.opts.int64 === "number") return `Number(${e})`;
    return e;
  }
}

function isEnumType(t: BtfType): t is EnumType {
  return t.kind === BtfKind.Enum || t.kind === BtfKind.Enum64;
}

// ---- runtime helpers the generated code calls ---------------------------------

/** Buffer's native UTF-8 decoder, faster than toString("utf8", ...) (same code, fewer checks). */
interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
}

/**
 * A NUL-terminated string in at most `n` bytes at `at`. Short ASCII strings
 * (comm, most names and paths) are built in JS with one fixed-arity
 * String.fromCharCode, which measured ~1.5x faster than Buffer's native UTF-8
 * decoder for them; anything longer or non-ASCII goes to the UTF-8 decoder.
 */
function cString(u8: Uint8Array, bytes: Buffer, at: number, n: number): string {
  const lim = at + n;
  let end = at;
  let high = 0;
  while (end < lim) {
    const c = u8[end]!;
    if (c === 0) break;
    high |= c;
    end++;
  }
  const len = end - at;
  if (len === 0) return "";
  if (high < 0x80) {
    // Bytes read past the string (even past the buffer: undefined → "\0") are cut off.
    if (len <= 16) {
      const s = ascii16(u8, at);
      return len === 16 ? s : s.substring(0, len);
    }
    if (len <= 32) {
      const s = ascii32(u8, at);
      return len === 32 ? s : s.substring(0, len);
    }
  }
  return (bytes as unknown as Utf8Slicer).utf8Slice(at, end);
}

function ascii16(u8: Uint8Array, at: number): string {
  return String.fromCharCode(
    u8[at]!,
    u8[at + 1]!,
    u8[at + 2]!,
    u8[at + 3]!,
    u8[at + 4]!,
    u8[at + 5]!,
    u8[at + 6]!,
    u8[at + 7]!,
    u8[at + 8]!,
    u8[at + 9]!,
    u8[at + 10]!,
    u8[at + 11]!,
    u8[at + 12]!,
    u8[at + 13]!,
    u8[at + 14]!,
    u8[at + 15]!,
  );
}

function ascii32(u8: Uint8Array, at: number): string {
  return String.fromCharCode(
    u8[at]!,
    u8[at + 1]!,
    u8[at + 2]!,
    u8[at + 3]!,
    u8[at + 4]!,
    u8[at + 5]!,
    u8[at + 6]!,
    u8[at + 7]!,
    u8[at + 8]!,
    u8[at + 9]!,
    u8[at + 10]!,
    u8[at + 11]!,
    u8[at + 12]!,
    u8[at + 13]!,
    u8[at + 14]!,
    u8[at + 15]!,
    u8[at + 16]!,
    u8[at + 17]!,
    u8[at + 18]!,
    u8[at + 19]!,
    u8[at + 20]!,
    u8[at + 21]!,
    u8[at + 22]!,
    u8[at + 23]!,
    u8[at + 24]!,
    u8[at + 25]!,
    u8[at + 26]!,
    u8[at + 27]!,
    u8[at + 28]!,
    u8[at + 29]!,
    u8[at + 30]!,
    u8[at + 31]!,
  );
}

/** An unsigned/signed bitfield of up to 48 bits (with its shift) as a number. */
function bitsNumber(u8: Uint8Array, at: number, shift: number, bits: number, signed: boolean): number {
  const nbytes = (shift + bits + 7) >> 3;
  let v = 0;
  for (let i = nbytes - 1; i >= 0; i--) v = v * 256 + u8[at + i]!;
  v = Math.floor(v / 2 ** shift) % 2 ** bits;
  if (signed && v >= 2 ** (bits - 1)) v -= 2 ** bits;
  return v;
}

/** A bitfield of any width up to 128 bits as a bigint. */
function bitsBig(u8: Uint8Array, at: number, shift: number, bits: number, signed: boolean): bigint {
  const nbytes = (shift + bits + 7) >> 3;
  let v = 0n;
  for (let i = nbytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(u8[at + i]!);
  v = (v >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n);
  return signed ? BigInt.asIntN(bits, v) : v;
}

function int128(dv: DataView, at: number, signed: boolean): bigint {
  const v = (dv.getBigUint64(at + 8, true) << 64n) | dv.getBigUint64(at, true);
  return signed ? BigInt.asIntN(128, v) : v;
}

function enumNamer(names: Map<number | bigint, string>): (v: number | bigint) => number | bigint | string {
  return (v) => names.get(v) ?? v;
}

function decodeArray(
  fn: (dv: DataView, u8: Uint8Array, bytes: Buffer, o: number) => unknown,
  dv: DataView,
  u8: Uint8Array,
  bytes: Buffer,
  at: number,
  n: number,
  elemSize: number,
): unknown[] {
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = fn(dv, u8, bytes, at + i * elemSize);
  return out;
}
