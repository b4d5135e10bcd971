/**
 * The output buffer of the C dumper. The header is built as bytes, with names
 * copied straight from the BTF string table (never decoded to JS strings):
 * vmlinux gives a ~2.8 MB header, and one growing Uint8Array is far cheaper
 * than string concatenation.
 */
import { ObjectFormatError } from "../../errors.js";

/** Output cap, below V8's longest string: only corrupt layouts (a 4 GB struct of padding) get there. */
const MAX_OUTPUT = 512 * 1024 * 1024 - 64;

/** Growing byte buffer; names are copied from the string table without decoding. */
export class Writer {
  buf: Uint8Array;
  len = 0;

  /** `expected`: a size guess (vmlinux's header is about half the size of its BTF). */
  constructor(
    expected: number,
    private readonly where: string,
  ) {
    this.buf = new Uint8Array(Math.max(1 << 16, expected));
  }

  private grow(n: number): void {
    if (this.len + n > MAX_OUTPUT) {
      throw new ObjectFormatError(this.where, 0, `the C header would be over ${MAX_OUTPUT >>> 20} MiB (a corrupt struct size or member offset?)`);
    }
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    size = Math.min(size, MAX_OUTPUT);
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** ASCII text. */
  text(s: string): void {
    const n = s.length;
    if (this.len + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    let len = this.len;
    for (let i = 0; i < n; i++) buf[len++] = s.charCodeAt(i);
    this.len = len;
  }

  byte(b: number): void {
    if (this.len + 1 > this.buf.length) this.grow(1);
    this.buf[this.len++] = b;
  }

  /** A newline then libbpf's indent: `lvl` tabs, at most 13. */
  newlineIndent(lvl: number): void {
    const n = lvl > 13 ? 13 : lvl;
    if (this.len + n + 1 > this.buf.length) this.grow(n + 1);
    const buf = this.buf;
    buf[this.len++] = 10;
    for (let i = 0; i < n; i++) buf[this.len++] = 9;
  }

  /** A signed or unsigned integer below 2^53 in decimal. */
  num(n: number): void {
    if (n < 0) {
      this.byte(45);
      n = -n;
    }
    if (this.len + 17 > this.buf.length) this.grow(17);
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    const buf = this.buf;
    let at = this.len + digits;
    this.len = at;
    do {
      buf[--at] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
  }

  /**
   * The NUL-terminated string at `at` in `table`, found and copied in one
   * pass: names are short, and indexOf() + set() cost more per call.
   * Every string section ends with a NUL (Btf.parse checks), so this stops.
   */
  cstr(table: Uint8Array, at: number): void {
    let buf = this.buf;
    let len = this.len;
    for (let c = table[at]!; c !== 0; c = table[++at]!) {
      if (len === buf.length) {
        this.len = len;
        this.grow(1);
        buf = this.buf;
      }
      buf[len++] = c;
    }
    this.len = len;
  }

  result(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}
