/**
 * The other direction of value-decoder.ts: a JS value in, the bytes C would
 * hold out, laid out by BTF. Numbers and bigints for integers and enums
 * (an enumerator's name is accepted too), booleans for _Bool, strings for
 * char arrays, arrays for arrays, objects keyed by member name for structs
 * and unions. Missing members are zero; unknown ones are an error, so a
 * misspelt field does not silently vanish.
 */
import type { Btf } from "./btf.js";
import { BTF_INT_SIGNED, BtfKind } from "./types.js";
import { TsbpfError } from "../errors.js";
import { findType } from "./value-decoder.js";

export type Encoder = (value: unknown) => Uint8Array;

/** An encoder for a BTF type, by id or by name ("struct __sk_buff", as makeDecoder takes it). */
export function makeEncoder(btf: Btf, type: number | string): Encoder {
  const typeId = typeof type === "number" ? type : findType(btf, type);
  const size = btf.resolveSize(typeId);
  return (value) => {
    const out = new Uint8Array(size);
    write(btf, typeId, value, new DataView(out.buffer), 0, "value", 0);
    return out;
  };
}

function fail(path: string, problem: string): never {
  throw new TsbpfError(`cannot encode ${path}: ${problem}`);
}

function toBigInt(value: unknown, path: string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value === "boolean") return value ? 1n : 0n;
  return fail(path, `expected an integer, got ${typeof value === "object" ? JSON.stringify(value) : String(value)}`);
}

function writeInt(view: DataView, offset: number, size: number, value: bigint, signed: boolean, path: string): void {
  const bits = BigInt(size * 8);
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  // Accept the other signedness's range too: -1 for a u32 is 0xffffffff, as in C.
  if (value < -(1n << (bits - 1n)) || value > (1n << bits) - 1n) fail(path, `${value} does not fit ${size} bytes (${min}..${max})`);
  writeLittleEndian(new Uint8Array(view.buffer, view.byteOffset), offset, size, value);
}

/** `value` as `size` little-endian bytes at `offset` (two's complement; no range check). */
export function writeLittleEndian(bytes: Uint8Array, offset: number, size: number, value: bigint): void {
  let x = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    bytes[offset + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

function write(btf: Btf, id: number, value: unknown, view: DataView, offset: number, path: string, depth: number): void {
  if (depth > 32) fail(path, "type nesting too deep");
  const t = btf.type(btf.skipModifiers(id));
  switch (t.kind) {
    case BtfKind.Int:
      writeInt(view, offset, t.size, toBigInt(value, path), (t.encoding & BTF_INT_SIGNED) !== 0, path);
      return;
    case BtfKind.Ptr:
      writeInt(view, offset, 8, toBigInt(value, path), false, path);
      return;
    case BtfKind.Enum:
    case BtfKind.Enum64: {
      let v: bigint;
      if (typeof value === "string") {
        const e = t.values.find((x) => x.name === value);
        if (!e) fail(path, `enum ${t.name || "(anon)"} has no enumerator ${value}`);
        v = e.value;
      } else v = toBigInt(value, path);
      writeInt(view, offset, t.size, v, t.signed, path);
      return;
    }
    case BtfKind.Float:
      if (typeof value !== "number") fail(path, "expected a number");
      if (t.size === 4) view.setFloat32(offset, value, true);
      else view.setFloat64(offset, value, true);
      return;
    case BtfKind.Array: {
      const elemSize = btf.resolveSize(t.elemType);
      const elem = btf.type(btf.skipModifiers(t.elemType));
      if (typeof value === "string" && elem.kind === BtfKind.Int && elemSize === 1) {
        const bytes = new TextEncoder().encode(value);
        if (bytes.length > t.nelems) fail(path, `"${value}" is ${bytes.length} bytes; the array holds ${t.nelems}`);
        new Uint8Array(view.buffer, view.byteOffset + offset, t.nelems).set(bytes);
        return;
      }
      if (value instanceof Uint8Array && elemSize === 1) {
        if (value.length > t.nelems) fail(path, `${value.length} bytes do not fit ${t.nelems}`);
        new Uint8Array(view.buffer, view.byteOffset + offset, t.nelems).set(value);
        return;
      }
      if (!Array.isArray(value)) fail(path, "expected an array");
      if (value.length > t.nelems) fail(path, `${value.length} elements do not fit ${t.nelems}`);
      value.forEach((v, i) => {
        write(btf, t.elemType, v, view, offset + i * elemSize, `${path}[${i}]`, depth + 1);
      });
      return;
    }
    case BtfKind.Struct:
    case BtfKind.Union: {
      if (typeof value !== "object" || value === null)
        fail(path, `expected an object for ${t.kind === BtfKind.Struct ? "struct" : "union"} ${t.name || "(anon)"}`);
      const obj = value as Record<string, unknown>;
      const used = new Set<string>();
      writeMembers(btf, t.members, obj, used, view, offset, path, depth);
      const unknown = Object.keys(obj).find((k) => !used.has(k));
      if (unknown) fail(path, `${t.name || "(anon)"} has no member ${unknown}`);
      return;
    }
    default:
      fail(path, `BTF kind ${BtfKind[t.kind]} cannot hold a value`);
  }
}

type Members = Array<{ name: string; type: number; bitOffset: number; bitfieldSize: number }>;

function writeMembers(
  btf: Btf,
  members: Members,
  obj: Record<string, unknown>,
  used: Set<string>,
  view: DataView,
  base: number,
  path: string,
  depth: number,
): void {
  for (const m of members) {
    if (!m.name) {
      // Anonymous struct/union: its members are named as if they were ours.
      const inner = btf.type(btf.skipModifiers(m.type));
      if (inner.kind === BtfKind.Struct || inner.kind === BtfKind.Union)
        writeMembers(btf, inner.members, obj, used, view, base + m.bitOffset / 8, path, depth + 1);
      continue;
    }
    if (!(m.name in obj)) continue;
    used.add(m.name);
    const v = obj[m.name];
    if (m.bitfieldSize) {
      writeBitfield(view, base, m.bitOffset, m.bitfieldSize, toBigInt(v, `${path}.${m.name}`), `${path}.${m.name}`);
    } else {
      write(btf, m.type, v, view, base + m.bitOffset / 8, `${path}.${m.name}`, depth + 1);
    }
  }
}

function writeBitfield(view: DataView, base: number, bitOffset: number, bits: number, value: bigint, path: string): void {
  if (value < 0n || value >= 1n << BigInt(bits)) fail(path, `${value} does not fit ${bits} bits`);
  for (let i = 0; i < bits; i++) {
    const bit = bitOffset + i;
    const at = base + (bit >> 3);
    const mask = 1 << (bit & 7);
    const cur = view.getUint8(at);
    view.setUint8(at, (value >> BigInt(i)) & 1n ? cur | mask : cur & ~mask);
  }
}
