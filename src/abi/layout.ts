/**
 * The shape of the generated kernel structs (bpf-attr.ts, bpf-info.ts,
 * perf-event-attr.ts) and the one codec that reads and writes them. A struct
 * is a flat table of fields keyed by their C path: members of anonymous
 * structs and unions sit at the top ("value", "next_key"), members of named
 * ones are dotted ("perf_event.bpf_cookie"), as the typed interfaces nest them.
 */

/** How a field is stored. */
export type AbiKind =
  | "u8"
  | "u16"
  | "u32"
  | "u64"
  | "s8"
  | "s16"
  | "s32"
  | "s64"
  /** A 32-bit file descriptor (the UAPI's `*_fd` fields): signed, so -1 reads back as -1. */
  | "fd"
  /** A u64 holding a user-space address (the UAPI declares these as __aligned_u64, which BTF does not keep). */
  | "pointer"
  /** char[N]: a NUL-padded string. */
  | "chars"
  /** Any other array (u8 tag[8]): raw bytes. */
  | "bytes"
  /** A bitfield: `bits` bits from bit `bit` of the little-endian unit of `size` bytes at `offset`. */
  | "bits";

export interface AbiField {
  readonly offset: number;
  readonly size: number;
  readonly kind: AbiKind;
  readonly bit?: number;
  readonly bits?: number;
}

/**
 * One C struct: its size, its fields by path, and, for the type checker
 * only, what encodeStruct accepts (`In`) and decodeStruct returns (`Out`).
 */
export interface AbiStruct<F extends string = string, In = unknown, Out = unknown> {
  readonly name: string;
  readonly size: number;
  readonly fields: { readonly [K in F]: AbiField };
  readonly types?: { readonly input: In; readonly output: Out };
}

/** offsetofend(): the first byte after a field. */
export function endOf(field: AbiField): number {
  return field.offset + field.size;
}

/** The bytes of a field inside an encoded struct. */
export function fieldBytes(bytes: Uint8Array, field: AbiField): Uint8Array {
  return bytes.subarray(field.offset, field.offset + field.size);
}

interface Compiled {
  path: string;
  /** The path split at dots, for the nested input/output objects. */
  keys: string[];
  field: AbiField;
}

const compiled = new WeakMap<AbiStruct, Compiled[]>();

function compile(s: AbiStruct): Compiled[] {
  let list = compiled.get(s);
  if (!list) {
    list = Object.entries(s.fields as Record<string, AbiField>).map(([path, field]) => ({ path, keys: path.split("."), field }));
    compiled.set(s, list);
  }
  return list;
}

/** The value at a dotted path of a nested values object, or undefined. */
export function valueAt(values: object, path: string): unknown {
  let v: unknown = values;
  for (const key of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * Encodes `values` into `size` zeroed bytes (the struct's size by default).
 * Pointer fields take a Uint8Array (its address, via `addressOf`; an empty
 * one is NULL), a bigint address or null. Fields not given stay zero, which
 * the kernel requires of every unused byte; a field given but lying past
 * `size` is an error rather than silently not sent.
 */
export function encodeStruct<In>(
  s: AbiStruct<string, In, unknown>,
  values: NoInfer<In>,
  addressOf: (buf: Uint8Array) => bigint,
  size = s.size,
): Uint8Array {
  const buf = new Uint8Array(size);
  encodeValues(new DataView(buf.buffer), s as AbiStruct, values as object, "", size, addressOf);
  return buf;
}

/**
 * Writes the fields `values` gives, walking its keys rather than the
 * struct's fields: a call sets a handful of perf_event_attr's ~70 fields or
 * bpf_attr's, and every attach and load encodes one, mostly before V8 has
 * compiled this. Keys that name no field are ignored, as the types forbid them.
 */
function encodeValues(
  view: DataView,
  s: AbiStruct,
  values: object,
  prefix: string,
  size: number,
  addressOf: (buf: Uint8Array) => bigint,
): void {
  const fields = s.fields as Record<string, AbiField | undefined>;
  for (const key of Object.keys(values)) {
    const value = (values as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const field = Object.hasOwn(fields, path) ? fields[path] : undefined;
    if (field) {
      if (field.offset + field.size > size) throw new TypeError(`${s.name}: field ${path} lies past the ${size} bytes being sent`);
      writeField(view, field, value, path, addressOf);
    } else if (typeof value === "object" && !ArrayBuffer.isView(value)) encodeValues(view, s, value, path, size, addressOf);
  }
}

function writeField(view: DataView, field: AbiField, value: unknown, path: string, addressOf: (buf: Uint8Array) => bigint): void {
  const at = field.offset;
  switch (field.kind) {
    case "chars": {
      if (typeof value !== "string") throw new TypeError(`${path} must be a string`);
      // Room for the NUL: the kernel rejects names that fill the array.
      const bytes = new TextEncoder().encode(value).subarray(0, field.size - 1);
      new Uint8Array(view.buffer, at, bytes.byteLength).set(bytes);
      return;
    }
    case "bytes": {
      if (!(value instanceof Uint8Array)) throw new TypeError(`${path} must be a Uint8Array`);
      new Uint8Array(view.buffer, at, field.size).set(value.subarray(0, field.size));
      return;
    }
    case "pointer": {
      if (typeof value === "bigint") view.setBigUint64(at, value, true);
      else if (value instanceof Uint8Array) view.setBigUint64(at, value.byteLength ? addressOf(value) : 0n, true);
      else throw new TypeError(`${path} must be a buffer or an address`);
      return;
    }
    case "bits": {
      const width = BigInt(field.bits ?? 0);
      const shift = BigInt(field.bit ?? 0);
      const mask = ((1n << width) - 1n) << shift;
      const v = (BigInt(typeof value === "boolean" ? Number(value) : (value as number | bigint)) << shift) & mask;
      if (field.size === 8) view.setBigUint64(at, (view.getBigUint64(at, true) & ~mask) | v, true);
      else view.setUint32(at, Number((BigInt(view.getUint32(at, true)) & ~mask) | v), true);
      return;
    }
    default:
      switch (field.size) {
        case 1:
          view.setUint8(at, Number(value));
          return;
        case 2:
          view.setUint16(at, Number(value), true);
          return;
        case 4:
          view.setUint32(at, Number(value) >>> 0, true);
          return;
        default:
          view.setBigUint64(at, BigInt.asUintN(64, BigInt(value as number | bigint)), true);
      }
  }
}

/** One field's value: numbers up to 32 bits, bigints for 64-bit ones and addresses, strings for char arrays. */
export function readField(bytes: Uint8Array, field: AbiField): number | bigint | string | Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = field.offset;
  switch (field.kind) {
    case "chars": {
      const raw = fieldBytes(bytes, field);
      const end = raw.indexOf(0);
      return new TextDecoder().decode(end >= 0 ? raw.subarray(0, end) : raw);
    }
    case "bytes":
      return fieldBytes(bytes, field).slice();
    case "bits": {
      const unit = field.size === 8 ? view.getBigUint64(at, true) : BigInt(view.getUint32(at, true));
      const v = (unit >> BigInt(field.bit ?? 0)) & ((1n << BigInt(field.bits ?? 0)) - 1n);
      return (field.bits ?? 0) > 32 ? v : Number(v);
    }
    case "s8":
      return view.getInt8(at);
    case "s16":
      return view.getInt16(at, true);
    case "s32":
    case "fd":
      return view.getInt32(at, true);
    case "s64":
      return view.getBigInt64(at, true);
    default:
      switch (field.size) {
        case 1:
          return view.getUint8(at);
        case 2:
          return view.getUint16(at, true);
        case 4:
          return view.getUint32(at, true);
        default:
          return view.getBigUint64(at, true);
      }
  }
}

/**
 * Every field of an encoded struct, as the nested object its `Out` type
 * describes (union members each read their bytes). Bytes shorter than the
 * struct read as zero-extended, as the kernel treats an older, smaller
 * version of an extensible struct.
 */
export function decodeStruct<Out>(s: AbiStruct<string, unknown, Out>, bytes: Uint8Array): Out {
  if (bytes.byteLength < s.size) {
    const full = new Uint8Array(s.size);
    full.set(bytes);
    bytes = full;
  }
  const out: Record<string, unknown> = {};
  for (const { keys, field } of compile(s as AbiStruct)) {
    let o = out;
    for (let i = 0; i < keys.length - 1; i++) o = (o[keys[i]!] ??= {}) as Record<string, unknown>;
    o[keys[keys.length - 1]!] = readField(bytes, field);
  }
  return out as Out;
}
