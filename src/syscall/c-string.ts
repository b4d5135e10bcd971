/** C strings for the kernel: `char *` fields of bpf_attr and perf_event_attr. */
import { UnsupportedError } from "../errors.js";

/** A NUL-terminated copy of `s` in its own (off-heap, non-moving) ArrayBuffer. */
export function cString(s: string): Uint8Array {
  const encoded = new TextEncoder().encode(s);
  if (encoded.includes(0)) throw new UnsupportedError(`${JSON.stringify(s)} contains a NUL byte`);
  const buf = new Uint8Array(new ArrayBuffer(encoded.byteLength + 1));
  buf.set(encoded);
  return buf;
}
