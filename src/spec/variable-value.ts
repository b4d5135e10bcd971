/** The bytes of a global variable from a plain JS value, without BTF. */
import { writeLittleEndian } from "../btf/value-encoder.js";
import { TsbpfError } from "../errors.js";

/** Little-endian bytes of `value` for a variable of `size` bytes. */
export function encodeValue(name: string, value: Uint8Array | number | bigint | string, size: number): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.byteLength !== size) throw new TsbpfError(`${name} is ${size} bytes; got ${value.byteLength}`);
    return value;
  }
  const out = new Uint8Array(size);
  if (typeof value === "string") {
    const s = new TextEncoder().encode(value);
    if (s.byteLength > size) throw new TsbpfError(`${name} holds ${size} bytes; "${value}" is ${s.byteLength}`);
    out.set(s);
    return out;
  }
  const v = BigInt(value);
  const bits = BigInt(size * 8);
  if (size > 8 || v >= 1n << bits || v < -(1n << (bits - 1n))) {
    throw new TsbpfError(`${value} does not fit ${name} (${size} bytes)`);
  }
  writeLittleEndian(out, 0, size, v);
  return out;
}
