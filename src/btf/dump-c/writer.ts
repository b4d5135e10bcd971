/**
 * The output buffer of the C dumper. The header is built as bytes, with names
 * copied straight from the BTF string table (never decoded to JS strings):
 * vmlinux gives a ~2.8 MB header, and one growing Uint8Array is far cheaper
 * than string concatenation.
 */
import { ObjectFormatError } from "../../errors.js";

/** Output cap, below V8's longest string: only corrupt layouts (a 4 GB struct of padding) get there. */
const MAX_OUTPUT = 512 * 1024 * 1024 - 64;

/**
 * ASCII text as bytes. The dumper's fixed strings are written from these
 * with bytes(), a native copy: V8 inlines Writer methods at every call
 * site, and a loop over a string's characters at each (charCodeAt) makes
 * the callers' optimised code far bigger and slower to compile.
 */
export function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/**
 * `___N` name suffixes (none for 0), so that writing one is a native copy
 * whatever N is; made whole by the first dump, not at import: most processes
 * never dump. Whole, not one at a time, so the hot path has no branch that
 * only a late clashing name takes (V8 would deoptimise it there).
 */
let dupSuffixes: Uint8Array[] | undefined;

/** Growing byte buffer; names are copied from the string table without decoding. */
export class Writer {
  buf: Uint8Array;
  len = 0;
  private readonly dups = (dupSuffixes ??= Array.from({ length: 256 }, (_, n) => ascii(n ? `___${n}` : "")));

  /** `expected`: a size guess (vmlinux's header is about half the size of its BTF). */
  constructor(
    expected: number,
    private readonly where: string,
  ) {
    this.buf = new Uint8Array(Math.max(1 << 16, expected));
  }

  private grow(n: number): void {
    if (this.len + n > MAX_OUTPUT) {
      throw new ObjectFormatError(
        this.where,
        0,
        `the C header would be over ${MAX_OUTPUT >>> 20} MiB (a corrupt struct size or member offset?)`,
      );
    }
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    size = Math.min(size, MAX_OUTPUT);
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /**
   * `lead` (a space, or 0 for nothing), the NUL-terminated name at `at` in
   * `table`, then its `___N` suffix (nothing for 0). The same steps for
   * every name: a branch that only a clashing name (or only a space) took
   * would be code V8 has not run when it optimises the caller, and it
   * deoptimises on such code when it first comes.
   */
  name(table: Uint8Array, at: number, dup: number, lead: number): void {
    if (this.len === this.buf.length) this.grow(1);
    let buf = this.buf;
    let len = this.len;
    buf[len] = lead;
    len += lead !== 0 ? 1 : 0;
    for (let c = table[at]!; c !== 0; c = table[++at]!) {
      if (len === buf.length) {
        this.len = len;
        this.grow(1);
        buf = this.buf;
      }
      buf[len++] = c;
    }
    this.len = len;
    this.dupSuffix(dup);
  }

  /** The `___N` suffix of a clashing name, nothing for 0. */
  dupSuffix(dup: number): void {
    this.bytes(dup < this.dups.length ? this.dups[dup]! : ascii(`___${dup}`));
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.len + n > this.buf.length) this.grow(n);
  }

  /**
   * Bytes made by ascii(). A native copy rather than a loop: V8 inlines this
   * at each of its many call sites, and a loop at each makes the optimised
   * code of every caller bigger and slower to compile.
   */
  bytes(b: Uint8Array): void {
    const n = b.length;
    if (this.len + n > this.buf.length) this.grow(n);
    this.buf.set(b, this.len);
    this.len += n;
  }

  /** ASCII text that is not fixed (numbers, rare strings); fixed strings go through ascii() and bytes(). */
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
    // Negative and large values (enumerators) are rare; leaving them to String() keeps the
    // digit loop on small integers, where V8 would otherwise deoptimise it on the first one.
    if (n < 0 || n > 0x7fffffff) {
      this.text(String(n));
      return;
    }
    if (this.len + 17 > this.buf.length) this.grow(17);
    let digits = 1;
    for (let m = n; m >= 10; m = (m / 10) | 0) digits++;
    const buf = this.buf;
    let at = this.len + digits;
    this.len = at;
    do {
      const q = (n / 10) | 0;
      buf[--at] = n - q * 10 + 48;
      n = q;
    } while (n > 0);
  }

  /**
   * Repeats `n` bytes written earlier at `from`: a cached declarator is one
   * native copy instead of a walk over its type chain.
   */
  copy(from: number, n: number): void {
    if (this.len + n > this.buf.length) this.grow(n);
    this.buf.copyWithin(this.len, from, from + n);
    this.len += n;
  }

  /**
   * A newline, `lvl` tabs (at most 13) and the NUL-terminated string at
   * `at` in `table`; returns the string's hashCString() (FNV-1a), for
   * enumerator names, counted as they are written. One call per line.
   */
  lineHashed(lvl: number, table: Uint8Array, at: number): number {
    const n = lvl > 13 ? 13 : lvl;
    if (this.len + n + 1 > this.buf.length) this.grow(n + 1);
    let buf = this.buf;
    let len = this.len;
    buf[len++] = 10;
    for (let i = 0; i < n; i++) buf[len++] = 9;
    let h = 0x811c9dc5;
    for (let c = table[at]!; c !== 0; c = table[++at]!) {
      if (len === buf.length) {
        this.len = len;
        this.grow(1);
        buf = this.buf;
      }
      buf[len++] = c;
      h = Math.imul(h ^ c, 0x01000193);
    }
    this.len = len;
    return h >>> 0;
  }

  /**
   * An enumerator's `___N` suffix (see dupSuffix()), then ` = <v>,` for its
   * 32-bit value, given as the int32 `v` (a record word `| 0`), read as
   * unsigned unless `signed`. Only int32 arithmetic, and the same
   * operations whatever the sign: a value that needs a double, or a branch
   * only negative values take, is code V8 deoptimises on, and such values
   * come late in vmlinux.
   */
  enumValue(dup: number, v: number, signed: boolean): void {
    this.dupSuffix(dup);
    if (this.len + 16 > this.buf.length) this.grow(16);
    const buf = this.buf;
    let len = this.len;
    buf[len++] = 32;
    buf[len++] = 61;
    buf[len++] = 32;
    const minus = signed && v < 0;
    buf[len] = 45;
    len += minus ? 1 : 0;
    // The magnitude's bits, read as unsigned from here on (-2^31 stays 0x80000000).
    const neg = Math.imul(v, -1);
    const u = minus ? neg : v;
    // u >= 2^31 (negative as int32): its last digit apart, so the rest fits an int32.
    const high = u < 0;
    const q = ((u >>> 1) / 5) | 0;
    const r = (u - Math.imul(q, 10)) | 0;
    this.len = len;
    this.num(high ? q : u);
    // num() reserves its own room, so the buffer may have grown.
    if (this.len + 2 > this.buf.length) this.grow(2);
    const out = this.buf;
    len = this.len;
    out[len] = 48 + r;
    len += high ? 1 : 0;
    out[len++] = 44;
    this.len = len;
  }

  result(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}
