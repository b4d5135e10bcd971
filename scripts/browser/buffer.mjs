// The part of node:buffer that tsbpf's pure half uses (BTF strings, name
// search), for the report page's browser bundle: a Uint8Array with Node's
// toString/indexOf/equals/writeUInt32LE.
const utf8 = new TextDecoder("utf-8");
const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();

export class Buffer extends Uint8Array {
  static from(source, offsetOrEncoding, length) {
    if (typeof source === "string") {
      const bytes = encoder.encode(source);
      return new Buffer(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    if (source instanceof ArrayBuffer) {
      const offset = offsetOrEncoding ?? 0;
      return new Buffer(source, offset, length ?? source.byteLength - offset);
    }
    const copy = new Buffer(source.length);
    copy.set(source);
    return copy;
  }
  static alloc(size) {
    return new Buffer(size);
  }
  static compare(a, b) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }
  toString(encoding = "utf8", start = 0, end = this.length) {
    const view = this.subarray(start, end < 0 ? this.length : end);
    return (encoding === "latin1" || encoding === "binary" ? latin1 : utf8).decode(view);
  }
  indexOf(needle, from = 0) {
    if (typeof needle === "number") return super.indexOf(needle, from);
    const n = typeof needle === "string" ? encoder.encode(needle) : needle;
    if (n.length === 0) return from;
    for (let p = super.indexOf(n[0], from); p >= 0 && p + n.length <= this.length; p = super.indexOf(n[0], p + 1)) {
      let i = 1;
      while (i < n.length && this[p + i] === n[i]) i++;
      if (i === n.length) return p;
    }
    return -1;
  }
  equals(other) {
    return Buffer.compare(this, other) === 0;
  }
  writeUInt32LE(value, offset = 0) {
    new DataView(this.buffer, this.byteOffset, this.byteLength).setUint32(offset, value, true);
    return offset + 4;
  }
}
