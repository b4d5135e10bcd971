/**
 * BTF as a compilable C header: `bpftool btf dump file X format c`, the
 * vmlinux.h every CO-RE program includes. The algorithm is libbpf's
 * (btf_dump.c), and with `enumModes: false` the output is byte for byte that
 * of Debian 12's bpftool 7.1 (the libbpf of kernel 6.1.y, `(void)` for
 * parameterless prototypes included); by default 1- and 8-byte enums also get
 * the mode attributes newer libbpf writes, which keep the kernel's layout.
 *
 * 1. Ordering. For each type id, a depth-first walk puts the named
 *    definitions it needs (struct, union, enum, typedef, fwd) in a queue,
 *    dependencies first. A type reached through a pointer is a "weak" link
 *    (a forward declaration is enough), unless it is anonymous and so has to
 *    be written out inline; everything else is "strong" (the full
 *    definition must come first). A strong cycle is not expressible in C.
 * 2. Emission. Each queued type is written out; a struct whose members
 *    refer back to something still being emitted gets a forward declaration
 *    first. Declarations (`int (*fn[4])(void *)`) are built from the chain of
 *    pointer / array / qualifier / function-prototype types between a member
 *    and its named base type, the way van der Linden's rules read them,
 *    backwards.
 *
 * Layout is reproduced rather than trusted: explicit `long: 64;`-style
 * padding fills holes the compiler would not add on its own, and
 * `__attribute__((packed))` marks structs whose offsets are not naturally
 * aligned. Names that clash (two `struct foo`s from different kernel units)
 * get `___2`, `___3`, … suffixes in the order they are first written.
 *
 * Types are read straight from the raw records (no BtfType objects) and the
 * output is written as bytes, names copied from the string table: vmlinux has
 * ~127k types and a ~2.8 MB header.
 */
import { Buffer } from "node:buffer";
import { NotFoundError, ObjectFormatError } from "../errors.js";
import type { Btf } from "./btf.js";
import { hashCString } from "./name-index.js";
import { BTF_HEADER_SIZE } from "./scan.js";

export interface DumpCOptions {
  /**
   * Dump only these type ids and what they need, in this order (bpftool's
   * `root_id`); by default every type, 1 to the last.
   */
  rootIds?: readonly number[];
  /**
   * Wrap the types in the `__VMLINUX_H__` include guard and the
   * preserve_access_index pragma, as bpftool does (default true).
   */
  header?: boolean;
  /**
   * Write `__attribute__((mode(byte)))` / `__attribute__((mode(word)))` on
   * enums whose BTF size is 1 or 8 bytes, so that C gives them the kernel's
   * size (libbpf >= 1.1 does this). Default true. Debian 12's bpftool 7.1
   * does not, and its vmlinux.h lays out e.g. struct inode wrongly (a 1-byte
   * enum member becomes 4 bytes); false reproduces that bpftool byte for byte.
   */
  enumModes?: boolean;
}

const HEADER =
  "#ifndef __VMLINUX_H__\n" +
  "#define __VMLINUX_H__\n" +
  "\n" +
  "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
  "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n" +
  "#endif\n\n";

const FOOTER =
  "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
  "#pragma clang attribute pop\n" +
  "#endif\n" +
  "\n" +
  "#endif /* __VMLINUX_H__ */\n";

/** A C header for `btf` (see DumpCOptions), as a string. */
export function dumpC(btf: Btf, opts: DumpCOptions = {}): string {
  const bytes = dumpCBytes(btf, opts);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

/** dumpC() as UTF-8 bytes, ready for one write(2); skips building a 3 MB JS string. */
export function dumpCBytes(btf: Btf, opts: DumpCOptions = {}): Uint8Array {
  const d = new CDumper(btf, opts.enumModes ?? true);
  const header = opts.header ?? true;
  if (header) d.out.text(HEADER);
  try {
    if (opts.rootIds) {
      for (const id of opts.rootIds) {
        if (!Number.isInteger(id) || id < 0 || id >= btf.typeCount) {
          throw new NotFoundError(`BTF type id ${id} does not exist in ${btf.where} (ids 0..${btf.typeCount - 1})`);
        }
        d.dumpType(id);
      }
    } else {
      for (let id = 1; id < btf.typeCount; id++) d.dumpType(id);
    }
  } catch (e) {
    // Only malformed BTF recurses without end (a typedef or pointer loop); libbpf would crash.
    if (e instanceof RangeError) throw new ObjectFormatError(btf.where, 0, `type graph too deep or cyclic to write as C (${e.message})`);
    throw e;
  }
  if (header) d.out.text(FOOTER);
  return d.out.result();
}

// BTF_KIND_* as plain numbers: the hot paths compare them ~10M times on vmlinux.
const INT = 1, PTR = 2, ARRAY = 3, STRUCT = 4, UNION = 5, ENUM = 6, FWD = 7, TYPEDEF = 8, VOLATILE = 9, CONST = 10;
const RESTRICT = 11, FUNC = 12, FUNC_PROTO = 13, VAR = 14, DATASEC = 15, FLOAT = 16, DECL_TAG = 17, TYPE_TAG = 18, ENUM64 = 19;

/** Order state (topological sort) and emit state, per type. */
const NOT_ORDERED = 0, ORDERING = 1, ORDERED = 2;
const NOT_EMITTED = 0, EMITTING = 1, EMITTED = 2;

/** BPF's pointer size, which is also libbpf's for a 64-bit host's BTF. */
const PTR_SIZE = 8;
/** libbpf's MAX_RESOLVE_DEPTH for size resolution. */
const MAX_RESOLVE_DEPTH = 32;
/** libbpf returns -EINVAL / -E2BIG from align-of and resolve-size; the values leak into layout arithmetic. */
const EINVAL = 22, E2BIG = 7;
const UNSET = -0x80000000;
/** Output cap, below V8's longest string: only corrupt layouts (a 4 GB struct of padding) get there. */
const MAX_OUTPUT = 512 * 1024 * 1024 - 64;
/** Holes wider than this (16 MiB) are not padded member by member: no real struct has one. */
const MAX_HOLE_BITS = 16 * 1024 * 1024 * 8;
/** Deeper declaration chains than this can only come from a pointer loop. */
const MAX_DECL_CHAIN = 4096;

const BUILTIN_VA_LIST = "__builtin_va_list";

/** Explicit padding types, widest first. */
const PAD_NAMES = ["long", "int", "short", "char"];
const PAD_BITS = [PTR_SIZE * 8, 32, 16, 8];

/** GCC's internal Arm SIMD base types, aliased to standard C types (libbpf's missing_base_types). */
const MISSING_BASE_TYPES = new Map([
  ["__Poly8_t", "unsigned char"],
  ["__Poly16_t", "unsigned short"],
  ["__Poly64_t", "unsigned long long"],
  ["__Poly128_t", "unsigned __int128"],
]);

/** Growing byte buffer; names are copied from the string table without decoding. */
class Writer {
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

/**
 * How often each name has been used, keyed by the name's bytes in the
 * string table (C's strcmp equality) so that names are never decoded: an
 * open-addressing hash table of typed arrays.
 */
class NameCounter {
  private at: Int32Array;
  private hashes: Uint32Array;
  private counts: Uint32Array;
  private mask: number;
  private used = 0;

  /** `expected`: about how many names will be counted (sizing up front avoids rehashing). */
  constructor(
    private readonly strs: Uint8Array,
    expected: number,
  ) {
    let size = 1024;
    while (size < expected * 2) size *= 2;
    this.at = new Int32Array(size).fill(-1);
    this.hashes = new Uint32Array(size);
    this.counts = new Uint32Array(size);
    this.mask = size - 1;
  }

  /** Counts one more use of the string at `pos` and returns the uses so far. */
  bump(pos: number): number {
    const strs = this.strs;
    const h = hashCString(strs, pos);
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const q = this.at[i]!;
      if (q === -1) {
        this.at[i] = pos;
        this.hashes[i] = h;
        this.counts[i] = 1;
        if (++this.used * 2 > this.at.length) this.grow();
        return 1;
      }
      if (this.hashes[i] === h && (q === pos || sameCString(strs, q, pos))) return ++this.counts[i]!;
    }
  }

  private grow(): void {
    const { at, hashes, counts } = this;
    const size = at.length * 2;
    this.at = new Int32Array(size).fill(-1);
    this.hashes = new Uint32Array(size);
    this.counts = new Uint32Array(size);
    this.mask = size - 1;
    for (let j = 0; j < at.length; j++) {
      if (at[j] === -1) continue;
      let i = hashes[j]! & this.mask;
      while (this.at[i] !== -1) i = (i + 1) & this.mask;
      this.at[i] = at[j]!;
      this.hashes[i] = hashes[j]!;
      this.counts[i] = counts[j]!;
    }
  }
}

function sameCString(s: Uint8Array, a: number, b: number): boolean {
  for (;;) {
    const c = s[a++]!;
    if (c !== s[b++]) return false;
    if (c === 0) return true;
  }
}

/** One whole-BTF dump: per-type state, the name-clash maps and the output. */
class CDumper {
  readonly out: Writer;
  /** Every type record, base types included (split BTF is concatenated). */
  private readonly w: Uint32Array;
  /** Word index of each id's record in `w`; [0] unused. */
  private readonly at: Uint32Array;
  /** The string section(s): the string at offset `off` starts at strs[strStart + off]. */
  private readonly strs: Uint8Array;
  private readonly strBuf: Buffer;
  private readonly strStart: number;

  private readonly orderState: Uint8Array;
  private readonly emitState: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly nameResolved: Uint8Array;
  /** The `___N` suffix a clashing name got, 0 for none. */
  private readonly nameDup: Uint32Array;
  private readonly alignCache: Int32Array;
  /** struct/union/enum tags seen; typedefs and enumerators share a second namespace, as in C. */
  private readonly typeNames: NameCounter;
  private readonly identNames: NameCounter;

  /** Definitions to emit for the current root type, dependencies first. */
  private readonly queue: number[] = [];
  private queueLen = 0;
  /** Names the input in errors. */
  private readonly where: string;
  /** Declaration chains (type ids), one frame per nested declaration (function parameters). */
  private readonly stack: number[] = [];
  private stackTop = 0;
  /** Per frame: where its ids start in `stack`, and how many are not yet written. */
  private readonly frameStart: number[] = [];
  private readonly frameCnt: number[] = [];
  private frameTop = 0;

  constructor(
    btf: Btf,
    private readonly enumModes: boolean,
  ) {
    const n = btf.typeCount;
    this.where = btf.where;
    const chain: Btf[] = [];
    for (let b: Btf | undefined = btf; b; b = b.base) chain.unshift(b);
    this.at = new Uint32Array(n);
    if (chain.length === 1) {
      const raw = btf.rawBytes();
      this.w = new Uint32Array(raw.buffer, raw.byteOffset, raw.byteLength >>> 2);
      indexRecords(btf, this.w, BTF_HEADER_SIZE >>> 2, this.at);
      this.strs = raw;
      this.strStart = BTF_HEADER_SIZE + typeSectionLength(raw);
    } else {
      // Split BTF: ids and string offsets continue across the chain, so
      // concatenating the sections gives one id space and one string space.
      let words = 0;
      let strLen = 0;
      for (const b of chain) {
        const raw = b.rawBytes();
        const typeLen = typeSectionLength(raw);
        words += typeLen >>> 2;
        strLen += raw.byteLength - BTF_HEADER_SIZE - typeLen;
      }
      this.w = new Uint32Array(words);
      this.strs = new Uint8Array(strLen);
      let wordAt = 0;
      let strAt = 0;
      for (const b of chain) {
        const raw = b.rawBytes();
        const typeLen = typeSectionLength(raw);
        const own = new Uint32Array(raw.buffer, raw.byteOffset + BTF_HEADER_SIZE, typeLen >>> 2);
        this.w.set(own, wordAt);
        indexRecords(b, this.w, wordAt, this.at);
        wordAt += own.length;
        this.strs.set(raw.subarray(BTF_HEADER_SIZE + typeLen), strAt);
        strAt += raw.byteLength - BTF_HEADER_SIZE - typeLen;
      }
      this.strStart = 0;
    }
    let btfBytes = 0;
    for (const b of chain) btfBytes += b.rawBytes().byteLength;
    this.out = new Writer(Math.ceil(btfBytes * 0.6), this.where);
    this.strBuf = Buffer.from(this.strs.buffer, this.strs.byteOffset, this.strs.byteLength);
    this.orderState = new Uint8Array(n);
    this.emitState = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    this.nameResolved = new Uint8Array(n);
    this.nameDup = new Uint32Array(n);
    this.alignCache = new Int32Array(n).fill(UNSET);
    // void is always defined.
    this.orderState[0] = ORDERED;
    this.emitState[0] = EMITTED;
    const names = this.markReferenced(n);
    this.typeNames = new NameCounter(this.strs, names.tags);
    this.identNames = new NameCounter(this.strs, names.idents);
  }

  /** btf_dump__dump_type(): order `id` and its dependencies, then emit them. */
  dumpType(id: number): void {
    this.queueLen = 0;
    this.order(id, false);
    for (let i = 0; i < this.queueLen; i++) this.emitType(this.queue[i]!, 0);
  }

  // ---- raw record access ----

  private kind(id: number): number {
    return id === 0 ? 0 : (this.w[this.at[id]! + 1]! >>> 24) & 0x1f;
  }

  private vlen(id: number): number {
    return this.w[this.at[id]! + 1]! & 0xffff;
  }

  private nameOff(id: number): number {
    return id === 0 ? 0 : this.w[this.at[id]!]!;
  }

  /** size or type: the third word of the record. */
  private sizeOrType(id: number): number {
    return this.w[this.at[id]! + 2]!;
  }

  /** The string at `off` as a map key (latin1: one char per byte, cheap and exact for equality). */
  private key(off: number): string {
    const start = this.strStart + off;
    return this.strBuf.toString("latin1", start, this.strs.indexOf(0, start));
  }

  /** Whether the string at `off` is `ascii`, without decoding it. */
  private nameIs(off: number, ascii: string): boolean {
    const strs = this.strs;
    const at = this.strStart + off;
    for (let i = 0; i < ascii.length; i++) if (strs[at + i] !== ascii.charCodeAt(i)) return false;
    return strs[at + ascii.length] === 0;
  }

  private isEmptyString(off: number): boolean {
    return this.strs[this.strStart + off] === 0;
  }

  private writeString(off: number): void {
    this.out.cstr(this.strs, this.strStart + off);
  }

  /**
   * Types referenced from another type. An anonymous enum nobody refers to
   * is a top-level block of constants and must be emitted on its own; one
   * that is referenced is written inline where it is used.
   */
  private markReferenced(n: number): { tags: number; idents: number } {
    const w = this.w;
    const ref = this.referenced;
    // Upper bounds of the names each namespace will count, to size the counters.
    let tags = 0;
    let idents = 0;
    for (let id = 1; id < n; id++) {
      const p = this.at[id]!;
      const info = w[p + 1]!;
      const vlen = info & 0xffff;
      switch ((info >>> 24) & 0x1f) {
        case INT: case STRUCT: case UNION: case FWD:
          tags++;
          break;
        case ENUM: case ENUM64:
          tags++;
          idents += vlen;
          break;
        default:
          break;
      }
      // Btf.parse checks records and names, not type references: check them here, once.
      let t: number;
      switch ((info >>> 24) & 0x1f) {
        case TYPEDEF:
          idents++;
          if ((t = w[p + 2]!) >= n) this.badRef(id, t);
          ref[t] = 1;
          break;
        case VOLATILE: case CONST: case RESTRICT: case PTR: case FUNC: case VAR: case DECL_TAG: case TYPE_TAG:
          if ((t = w[p + 2]!) >= n) this.badRef(id, t);
          ref[t] = 1;
          break;
        case ARRAY:
          if ((t = w[p + 4]!) >= n) this.badRef(id, t);
          ref[t] = 1;
          if ((t = w[p + 3]!) >= n) this.badRef(id, t);
          ref[t] = 1;
          break;
        case STRUCT: case UNION:
          for (let i = 0, m = p + 3; i < vlen; i++, m += 3) {
            if ((t = w[m + 1]!) >= n) this.badRef(id, t);
            ref[t] = 1;
          }
          break;
        case FUNC_PROTO:
          if ((t = w[p + 2]!) >= n) this.badRef(id, t);
          // The return type does not count as a reference (libbpf's rule).
          for (let i = 0, m = p + 3; i < vlen; i++, m += 2) {
            if ((t = w[m + 1]!) >= n) this.badRef(id, t);
            ref[t] = 1;
          }
          break;
        case DATASEC:
          for (let i = 0, m = p + 3; i < vlen; i++, m += 3) {
            if ((t = w[m]!) >= n) this.badRef(id, t);
            ref[t] = 1;
          }
          break;
        default:
          break;
      }
    }
    return { tags, idents };
  }

  private badRef(id: number, target: number): never {
    throw new ObjectFormatError(this.where, 0, `type [${id}] refers to type id ${target}, past the last id ${this.at.length - 1}`);
  }

  // ---- pass 1: ordering ----

  /**
   * Queues the definitions `id` depends on, then `id` itself if it is a
   * named definition. Returns 1 when `id` must be fully defined before its
   * user ("strong" link), 0 when a forward declaration would do.
   */
  private order(id: number, throughPtr: boolean): number {
    const state = this.orderState[id]!;
    if (state === ORDERED) return 1;
    const w = this.w;
    const p = this.at[id]!;
    const info = w[p + 1]!;
    const kind = (info >>> 24) & 0x1f;
    const named = w[p]! !== 0;
    if (state === ORDERING) {
      // A loop through a pointer to a named struct: a forward declaration breaks it.
      if ((kind === STRUCT || kind === UNION) && throughPtr && named) return 0;
      throw new ObjectFormatError(this.where, 0, `unsatisfiable type cycle at type [${id}]: C cannot express it`);
    }
    switch (kind) {
      case INT:
      case FLOAT:
        this.orderState[id] = ORDERED;
        return 0;
      case PTR: {
        const r = this.order(w[p + 2]!, true);
        this.orderState[id] = ORDERED;
        return r;
      }
      case ARRAY:
        return this.order(w[p + 3]!, false);
      case STRUCT:
      case UNION: {
        // Strong only when embedded (no pointer on the way) or anonymous (written inline).
        if (throughPtr && named) return 0;
        this.orderState[id] = ORDERING;
        const vlen = info & 0xffff;
        for (let i = 0, m = p + 3; i < vlen; i++, m += 3) this.order(w[m + 1]!, false);
        if (named) this.queue[this.queueLen++] = id;
        this.orderState[id] = ORDERED;
        return 1;
      }
      case ENUM:
      case ENUM64:
      case FWD:
        if (named || !this.referenced[id]) this.queue[this.queueLen++] = id;
        this.orderState[id] = ORDERED;
        return 1;
      case TYPEDEF: {
        const strong = this.order(w[p + 2]!, throughPtr);
        // Like a struct: reached through a pointer, a typedef of a weak thing can wait.
        if (throughPtr && !strong) return 0;
        this.queue[this.queueLen++] = id;
        this.orderState[id] = ORDERED;
        return 1;
      }
      case VOLATILE:
      case CONST:
      case RESTRICT:
      case TYPE_TAG:
        return this.order(w[p + 2]!, throughPtr);
      case FUNC_PROTO: {
        let strong = this.order(w[p + 2]!, throughPtr) > 0;
        const vlen = info & 0xffff;
        for (let i = 0, m = p + 3; i < vlen; i++, m += 2) {
          if (this.order(w[m + 1]!, throughPtr) > 0) strong = true;
        }
        return strong ? 1 : 0;
      }
      default:
        // FUNC, VAR, DATASEC, DECL_TAG: nothing to define.
        this.orderState[id] = ORDERED;
        return 0;
    }
  }

  // ---- pass 2: emission ----

  /**
   * Writes the definitions `id` needs and `id`'s own when it is top-level
   * (`contId` 0); `contId` is the struct being defined, whose members may
   * refer to it without a forward declaration.
   */
  private emitType(id: number, contId: number): void {
    const state = this.emitState[id]!;
    if (state === EMITTED) return;
    const w = this.w;
    const p = this.at[id]!;
    const info = w[p + 1]!;
    const kind = (info >>> 24) & 0x1f;
    const out = this.out;

    if (state === EMITTING) {
      // A reference back to something being defined: declare it first.
      if (this.fwdEmitted[id]) return;
      if (kind === STRUCT || kind === UNION) {
        if (id === contId) return;
        // An anonymous struct/union loop cannot be declared; libbpf warns and goes on.
        if (w[p]! === 0) return;
        this.emitStructFwd(id);
        out.text(";\n\n");
        this.fwdEmitted[id] = 1;
      } else if (kind === TYPEDEF) {
        // For a typedef, "forward declared" means defined early: usable through pointers only.
        if (!this.isBlacklisted(id)) {
          this.emitTypedefDef(id, 0);
          out.text(";\n\n");
        }
        this.fwdEmitted[id] = 1;
      }
      return;
    }

    switch (kind) {
      case INT:
        this.emitMissingAliases(id);
        this.emitState[id] = EMITTED;
        break;
      case ENUM:
      case ENUM64:
        if (contId === 0) {
          this.emitEnumDef(id, 0);
          out.text(";\n\n");
        }
        this.emitState[id] = EMITTED;
        break;
      case PTR:
      case VOLATILE:
      case CONST:
      case RESTRICT:
      case TYPE_TAG:
        this.emitType(w[p + 2]!, contId);
        break;
      case ARRAY:
        this.emitType(w[p + 3]!, contId);
        break;
      case FWD:
        this.emitFwdDef(id);
        out.text(";\n\n");
        this.emitState[id] = EMITTED;
        break;
      case TYPEDEF:
        this.emitState[id] = EMITTING;
        this.emitType(w[p + 2]!, id);
        if (!this.fwdEmitted[id] && !this.isBlacklisted(id)) {
          this.emitTypedefDef(id, 0);
          out.text(";\n\n");
        }
        this.emitState[id] = EMITTED;
        break;
      case STRUCT:
      case UNION: {
        this.emitState[id] = EMITTING;
        const named = w[p]! !== 0;
        if (contId === 0 || !named) {
          // Members are written out (top-level or inline anonymous): declare what they need.
          const vlen = info & 0xffff;
          const cont = named ? id : contId;
          for (let i = 0, m = p + 3; i < vlen; i++, m += 3) this.emitType(w[m + 1]!, cont);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.emitStructFwd(id);
          out.text(";\n\n");
          this.fwdEmitted[id] = 1;
        }
        if (contId === 0) {
          this.emitStructDef(id, 0);
          out.text(";\n\n");
          this.emitState[id] = EMITTED;
        } else {
          this.emitState[id] = NOT_EMITTED;
        }
        break;
      }
      case FUNC_PROTO: {
        this.emitType(w[p + 2]!, contId);
        const vlen = info & 0xffff;
        for (let i = 0, m = p + 3; i < vlen; i++, m += 2) this.emitType(w[m + 1]!, contId);
        break;
      }
      default:
        break;
    }
  }

  /** __builtin_va_list is the compiler's own; redefining it breaks the build. */
  private isBlacklisted(id: number): boolean {
    const off = this.nameOff(id);
    return off !== 0 && this.nameIs(off, BUILTIN_VA_LIST);
  }

  // ---- names ----

  /** Assigns `id` its `___N` suffix the first time its name is written (libbpf's btf_dump_resolve_name). */
  private resolveName(id: number, names: NameCounter): void {
    if (this.nameResolved[id]) return;
    const off = this.nameOff(id);
    if (off === 0) return;
    this.nameResolved[id] = 1;
    const kind = this.kind(id);
    // Forward declarations and empty enums may repeat without clashing.
    if (kind === FWD || (kind === ENUM && this.vlen(id) === 0)) return;
    const dup = names.bump(this.strStart + off);
    if (dup > 1) this.nameDup[id] = dup;
  }

  private writeResolvedName(id: number): void {
    this.writeString(this.nameOff(id));
    const dup = this.nameDup[id]!;
    if (dup) {
      this.out.text("___");
      this.out.num(dup);
    }
  }

  /** A struct / union / enum / fwd tag, made unique. */
  private writeTypeName(id: number): void {
    this.resolveName(id, this.typeNames);
    this.writeResolvedName(id);
  }

  // ---- definitions ----

  private emitMissingAliases(id: number): void {
    this.resolveName(id, this.typeNames);
    const off = this.nameOff(id);
    if (off === 0 || this.nameDup[id]) return;
    const name = this.key(off);
    const alias = MISSING_BASE_TYPES.get(name);
    if (alias !== undefined) this.out.text(`typedef ${alias} ${name};\n\n`);
  }

  private emitStructFwd(id: number): void {
    this.out.text(this.kind(id) === STRUCT ? "struct" : "union");
    if (this.nameOff(id) !== 0) {
      this.out.byte(32);
      this.writeTypeName(id);
    }
  }

  private emitFwdDef(id: number): void {
    this.out.text(this.w[this.at[id]! + 1]! >>> 31 ? "union " : "struct ");
    this.writeTypeName(id);
  }

  private emitTypedefDef(id: number, lvl: number): void {
    this.resolveName(id, this.identNames);
    const off = this.nameOff(id);
    const dup = this.nameDup[id]!;
    // Old GCCs emit `typedef void __gnuc_va_list`, which does not compile.
    if (this.sizeOrType(id) === 0 && off !== 0 && dup === 0 && this.nameIs(off, "__gnuc_va_list")) {
      this.out.text("typedef __builtin_va_list __gnuc_va_list");
      return;
    }
    this.out.text("typedef ");
    this.emitTypeDecl(this.sizeOrType(id), off, dup, lvl);
  }

  private emitEnumDef(id: number, lvl: number): void {
    const w = this.w;
    const p = this.at[id]!;
    const info = w[p + 1]!;
    const vlen = info & 0xffff;
    const is64 = ((info >>> 24) & 0x1f) === ENUM64;
    const signed = info >>> 31 === 1;
    const size = w[p + 2]!;
    const out = this.out;
    out.text("enum");
    if (w[p]! !== 0) {
      out.byte(32);
      this.writeTypeName(id);
    }
    if (vlen === 0) return;
    out.text(" {");
    const step = is64 ? 3 : 2;
    let anyHigh = false;
    for (let i = 0, v = p + 3; i < vlen; i++, v += step) {
      const nameOff = w[v]!;
      // Enumerators share the ordinary identifier namespace with typedefs.
      const dup = this.identNames.bump(this.strStart + nameOff);
      out.newlineIndent(lvl + 1);
      this.writeString(nameOff);
      if (dup > 1) {
        out.text("___");
        out.num(dup);
      }
      out.text(" = ");
      if (is64) {
        const lo = w[v + 1]!;
        const hi = w[v + 2]!;
        if (hi !== 0) anyHigh = true;
        if (signed) {
          if (hi === 0 || hi === 0xffffffff) out.num(hi === 0 ? lo : lo - 0x100000000);
          else out.text(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString());
          out.text("LL,");
        } else {
          if (hi < 0x200000) out.num(hi * 0x100000000 + lo);
          else out.text(((BigInt(hi) << 32n) | BigInt(lo)).toString());
          out.text("ULL,");
        }
      } else {
        out.num(signed ? w[v + 1]! | 0 : w[v + 1]!);
        out.byte(44);
      }
    }
    out.newlineIndent(lvl);
    out.byte(125);
    if (!this.enumModes) return;
    if (size === 1) {
      out.text(" __attribute__((mode(byte)))");
    } else if (size === 8) {
      // An 8-byte enum needs mode(word) unless a value needs 64 bits by itself.
      if (!is64 || !anyHigh) out.text(" __attribute__((mode(word)))");
    }
  }

  private emitStructDef(id: number, lvl: number): void {
    const w = this.w;
    const p = this.at[id]!;
    const info = w[p + 1]!;
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    const isStruct = ((info >>> 24) & 0x1f) === STRUCT;
    const size = w[p + 2]!;
    const out = this.out;
    const align = this.alignOf(id);
    const packed = isStruct ? this.isStructPacked(id) : false;

    out.text(isStruct ? "struct" : "union");
    if (w[p]! !== 0) {
      out.byte(32);
      this.writeTypeName(id);
    }
    out.text(" {");
    let off = 0;
    let prevBitfield = false;
    for (let i = 0, m = p + 3; i < vlen; i++, m += 3) {
      const type = w[m + 1]!;
      const raw = w[m + 2]!;
      let mSize = kflag ? raw >>> 24 : 0;
      const mOff = kflag ? raw & 0xffffff : raw;
      const mAlign = packed ? 1 : this.alignOf(type);
      this.emitBitPadding(id, off, mOff, mAlign, prevBitfield && mSize !== 0, lvl + 1);
      out.newlineIndent(lvl + 1);
      this.emitTypeDecl(type, w[m]!, 0, lvl + 1);
      if (mSize) {
        out.text(": ");
        out.num(mSize);
        off = mOff + mSize;
        prevBitfield = true;
      } else {
        mSize = Math.max(0, this.resolveSize(type));
        off = mOff + mSize * 8;
        prevBitfield = false;
      }
      out.byte(59);
    }
    if (isStruct) this.emitBitPadding(id, off, size * 8, align, false, lvl + 1);
    // `struct empty {}` stays on one line.
    if (vlen || size) out.newlineIndent(lvl);
    out.byte(125);
    if (packed) out.text(" __attribute__((packed))");
  }

  /**
   * Fills the hole [cur, next) bits with unnamed bitfields (`long: 64;`),
   * relying on natural alignment where the compiler would pad by itself.
   */
  private emitBitPadding(id: number, cur: number, next: number, nextAlign: number, inBitfield: boolean, lvl: number): void {
    if (cur >= next) return;
    if (next - cur > MAX_HOLE_BITS) {
      throw new ObjectFormatError(this.where, 0, `type [${id}] has a ${Math.floor((next - cur) / 8)}-byte hole, too wide to pad (corrupt size or offset?)`);
    }
    const out = this.out;
    // The widest padding type whose alignment boundary falls inside the hole.
    let i = 0;
    let padBits = 0;
    let newOff = 0;
    for (; i < PAD_BITS.length; i++) {
      padBits = PAD_BITS[i]!;
      newOff = roundup(cur, padBits);
      if (newOff <= next) break;
    }
    if (i === PAD_BITS.length) i--;
    let padName = PAD_NAMES[i]!;
    if (newOff > cur && newOff <= next) {
      // An explicit `<type>: 0` is needed when the compiler would not align
      // there by itself, and always after a bitfield (with its bit count).
      if (
        inBitfield ||
        (newOff === next && roundup(cur, nextAlign * 8) !== newOff) ||
        (newOff !== next && next - newOff <= newOff - cur)
      ) {
        out.newlineIndent(lvl);
        out.text(padName);
        out.text(": ");
        out.num(inBitfield ? newOff - cur : 0);
        out.byte(59);
      }
      cur = newOff;
    }
    // Whole padding units, then the smallest type that holds the rest.
    while (cur !== next) {
      const bits = Math.min(next - cur, padBits);
      if (bits === padBits) {
        out.newlineIndent(lvl);
        out.text(padName);
        out.text(": ");
        out.num(padBits);
        out.byte(59);
        cur += bits;
        continue;
      }
      for (let j = PAD_BITS.length - 1; j >= 0; j--) {
        padName = PAD_NAMES[j]!;
        padBits = PAD_BITS[j]!;
        if (padBits < bits) continue;
        out.newlineIndent(lvl);
        out.text(padName);
        out.text(": ");
        out.num(bits);
        out.byte(59);
        cur += bits;
        break;
      }
    }
  }

  /** Whether the layout needs __attribute__((packed)): a misaligned member or an odd total size. */
  private isStructPacked(id: number): boolean {
    const w = this.w;
    const p = this.at[id]!;
    const info = w[p + 1]!;
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    let maxAlign = 1;
    for (let i = 0, m = p + 3; i < vlen; i++, m += 3) {
      const align = this.alignOf(w[m + 1]!);
      const raw = w[m + 2]!;
      const bitSize = kflag ? raw >>> 24 : 0;
      const off = kflag ? raw & 0xffffff : raw;
      if (align && bitSize === 0 && off % (8 * align) !== 0) return true;
      if (align > maxAlign) maxAlign = align;
    }
    return w[p + 2]! % maxAlign !== 0;
  }

  /** libbpf's btf__align_of, memoised: natural alignment, 1 for a packed struct, -EINVAL for no layout. */
  private alignOf(id: number): number {
    let a = this.alignCache[id]!;
    if (a !== UNSET) return a;
    a = this.computeAlign(id);
    this.alignCache[id] = a;
    return a;
  }

  private computeAlign(id: number): number {
    if (id === 0) return -EINVAL;
    const w = this.w;
    const p = this.at[id]!;
    const info = w[p + 1]!;
    switch ((info >>> 24) & 0x1f) {
      case INT:
      case ENUM:
      case ENUM64:
      case FLOAT:
        return Math.min(PTR_SIZE, w[p + 2]!);
      case PTR:
        return PTR_SIZE;
      case TYPEDEF:
      case VOLATILE:
      case CONST:
      case RESTRICT:
      case TYPE_TAG:
        return this.alignOf(w[p + 2]!);
      case ARRAY:
        return this.alignOf(w[p + 3]!);
      case STRUCT:
      case UNION: {
        const vlen = info & 0xffff;
        const kflag = info >>> 31 === 1;
        let maxAlign = 1;
        for (let i = 0, m = p + 3; i < vlen; i++, m += 3) {
          const align = this.alignOf(w[m + 1]!);
          if (align <= 0) return align;
          if (align > maxAlign) maxAlign = align;
          const raw = w[m + 2]!;
          // A member off its natural alignment means the struct is packed.
          if ((kflag ? raw >>> 24 : 0) === 0 && (kflag ? raw & 0xffffff : raw) % (8 * align) !== 0) return 1;
        }
        if (w[p + 2]! % maxAlign !== 0) return 1;
        return maxAlign;
      }
      default:
        return -EINVAL;
    }
  }

  /** libbpf's btf__resolve_size: a negative errno when there is no size. */
  private resolveSize(id: number): number {
    const w = this.w;
    let nelems = 1;
    for (let i = 0; i < MAX_RESOLVE_DEPTH && id !== 0; i++) {
      const p = this.at[id]!;
      switch ((w[p + 1]! >>> 24) & 0x1f) {
        case INT: case STRUCT: case UNION: case ENUM: case ENUM64: case DATASEC: case FLOAT: {
          const size = w[p + 2]!;
          if (nelems && size > Math.floor(0xffffffff / nelems)) return -E2BIG;
          return nelems * size;
        }
        case PTR:
          return nelems * PTR_SIZE;
        case TYPEDEF: case VOLATILE: case CONST: case RESTRICT: case VAR: case DECL_TAG: case TYPE_TAG:
          id = w[p + 2]!;
          break;
        case ARRAY: {
          const n = w[p + 5]!;
          if (nelems && n > Math.floor(0xffffffff / nelems)) return -E2BIG;
          nelems *= n;
          id = w[p + 3]!;
          break;
        }
        default:
          return -EINVAL;
      }
    }
    return -EINVAL;
  }

  // ---- declarations ----

  /**
   * Writes a declaration of `fname` (name offset + `___N` suffix, offset 0
   * for an abstract declarator) with type `id`: `int (*name[3])(void)`.
   */
  private emitTypeDecl(id: number, fnameOff: number, fnameDup: number, lvl: number): void {
    const start = this.stackTop;
    const stack = this.stack;
    const w = this.w;
    for (;;) {
      stack[this.stackTop++] = id;
      if (id === 0) break;
      if (this.stackTop - start > MAX_DECL_CHAIN) {
        this.stackTop = start;
        throw new ObjectFormatError(this.where, 0, `declaration chain of type [${id}] is longer than ${MAX_DECL_CHAIN} (a pointer loop?)`);
      }
      const p = this.at[id]!;
      const kind = (w[p + 1]! >>> 24) & 0x1f;
      if (kind === PTR || kind === VOLATILE || kind === CONST || kind === RESTRICT || kind === FUNC_PROTO || kind === TYPE_TAG) {
        id = w[p + 2]!;
      } else if (kind === ARRAY) {
        id = w[p + 3]!;
      } else {
        // INT, ENUM, FWD, STRUCT, UNION, TYPEDEF, FLOAT end the chain (anything else is malformed).
        break;
      }
    }
    const f = this.frameTop++;
    this.frameStart[f] = start;
    this.frameCnt[f] = this.stackTop - start;
    this.emitTypeChain(f, fnameOff, fnameDup, lvl);
    this.frameTop = f;
    this.stackTop = start;
  }

  /** const / volatile / restrict that apply to the base type, written before it. */
  private emitMods(f: number): void {
    const out = this.out;
    const start = this.frameStart[f]!;
    let cnt = this.frameCnt[f]!;
    for (; cnt > 0; cnt--) {
      const kind = this.kind(this.stack[start + cnt - 1]!);
      if (kind === VOLATILE) out.text("volatile ");
      else if (kind === CONST) out.text("const ");
      else if (kind === RESTRICT) out.text("restrict ");
      else break;
    }
    this.frameCnt[f] = cnt;
  }

  /** Qualifiers on arrays and function prototypes mean nothing in C (GCC quirks): drop them. */
  private dropMods(f: number): void {
    const start = this.frameStart[f]!;
    let cnt = this.frameCnt[f]!;
    for (; cnt > 0; cnt--) {
      const kind = this.kind(this.stack[start + cnt - 1]!);
      if (kind !== VOLATILE && kind !== CONST && kind !== RESTRICT && kind !== TYPE_TAG) break;
    }
    this.frameCnt[f] = cnt;
  }

  private emitName(fnameOff: number, fnameDup: number, lastWasPtr: boolean): void {
    if (this.isEmptyString(fnameOff)) return;
    if (!lastWasPtr) this.out.byte(32);
    this.writeString(fnameOff);
    if (fnameDup) {
      this.out.text("___");
      this.out.num(fnameDup);
    }
  }

  /** Pops the frame from the base type outwards, writing the C declarator. */
  private emitTypeChain(f: number, fnameOff: number, fnameDup: number, lvl: number): void {
    // No space before a `*` that follows a `*` (`int **p`); true at the start
    // so a lone pointer in a nested chain prints as `(*name)`.
    let lastWasPtr = true;
    const out = this.out;
    const w = this.w;
    const stack = this.stack;
    const start = this.frameStart[f]!;
    const frameCnt = this.frameCnt;
    while (frameCnt[f]! > 0) {
      const id = stack[start + --frameCnt[f]!]!;
      if (id === 0) {
        this.emitMods(f);
        out.text("void");
        lastWasPtr = false;
        continue;
      }
      const p = this.at[id]!;
      const info = w[p + 1]!;
      const kind = (info >>> 24) & 0x1f;
      switch (kind) {
        case INT:
        case FLOAT:
          this.emitMods(f);
          this.writeString(w[p]!);
          break;
        case STRUCT:
        case UNION:
          this.emitMods(f);
          if (w[p]! === 0) this.emitStructDef(id, lvl);
          else this.emitStructFwd(id);
          break;
        case ENUM:
        case ENUM64:
          this.emitMods(f);
          if (w[p]! === 0) this.emitEnumDef(id, lvl);
          else {
            out.text("enum ");
            this.writeTypeName(id);
          }
          break;
        case FWD:
          this.emitMods(f);
          this.emitFwdDef(id);
          break;
        case TYPEDEF:
          this.emitMods(f);
          this.resolveName(id, this.identNames);
          this.writeResolvedName(id);
          break;
        case PTR:
          out.text(lastWasPtr ? "*" : " *");
          break;
        case VOLATILE:
          out.text(" volatile");
          break;
        case CONST:
          out.text(" const");
          break;
        case RESTRICT:
          out.text(" restrict");
          break;
        case TYPE_TAG:
          this.emitMods(f);
          // kind_flag: the tag is a plain attribute name (libbpf >= 1.6).
          if (info >>> 31) {
            out.text(" __attribute__((");
            this.writeString(w[p]!);
            out.text("))");
          } else {
            out.text(' __attribute__((btf_type_tag("');
            this.writeString(w[p]!);
            out.text('")))');
          }
          break;
        case ARRAY: {
          const nelems = w[p + 5]!;
          this.dropMods(f);
          const cnt = frameCnt[f]!;
          if (cnt === 0) {
            this.emitName(fnameOff, fnameDup, lastWasPtr);
          } else {
            // Multi-dimensional arrays nest without parentheses: `a[2][3]`.
            const multidim = this.kind(stack[start + cnt - 1]!) === ARRAY;
            if (!this.isEmptyString(fnameOff) && !lastWasPtr) out.byte(32);
            if (!multidim) out.byte(40);
            this.emitTypeChain(f, fnameOff, fnameDup, lvl);
            if (!multidim) out.byte(41);
          }
          out.byte(91);
          out.num(nelems);
          out.byte(93);
          return;
        }
        case FUNC_PROTO: {
          // GCC marks noreturn function pointers volatile; drop it.
          this.dropMods(f);
          if (frameCnt[f]! > 0) {
            out.text(" (");
            this.emitTypeChain(f, fnameOff, fnameDup, lvl);
            out.byte(41);
          } else {
            this.emitName(fnameOff, fnameDup, lastWasPtr);
          }
          out.byte(40);
          const vlen = info & 0xffff;
          // No parameters (Clang encodes `f(void)` as one void parameter): `(void)`, not `()`.
          if (vlen === 0 || (vlen === 1 && w[p + 4]! === 0)) {
            out.text("void)");
            return;
          }
          for (let i = 0, q = p + 3; i < vlen; i++, q += 2) {
            if (i > 0) out.text(", ");
            // A trailing void parameter means varargs.
            if (i === vlen - 1 && w[q + 1]! === 0) {
              out.text("...");
              break;
            }
            this.emitTypeDecl(w[q + 1]!, w[q]!, 0, lvl);
          }
          out.byte(41);
          return;
        }
        default:
          // FUNC, VAR, DATASEC, DECL_TAG cannot appear in a declaration; libbpf warns and stops.
          return;
      }
      lastWasPtr = kind === PTR;
    }
    this.emitName(fnameOff, fnameDup, lastWasPtr);
  }
}

/** C's roundup() on ints, truncating division included (only malformed BTF gives a non-positive y). */
function roundup(x: number, y: number): number {
  return Math.trunc((x + y - 1) / y) * y;
}

/** Words in a type record after its 3-word header: a fixed part, and per vlen entry; by kind. */
const EXTRA_WORDS = new Uint8Array(32);
const VLEN_WORDS = new Uint8Array(32);
EXTRA_WORDS[INT] = EXTRA_WORDS[VAR] = EXTRA_WORDS[DECL_TAG] = 1;
EXTRA_WORDS[ARRAY] = 3;
VLEN_WORDS[STRUCT] = VLEN_WORDS[UNION] = VLEN_WORDS[DATASEC] = VLEN_WORDS[ENUM64] = 3;
VLEN_WORDS[ENUM] = VLEN_WORDS[FUNC_PROTO] = 2;

/**
 * Fills at[id] with the word index of each of `btf`'s own records in `w`,
 * where its type section starts at word `first`. One walk over the records
 * (Btf.parse validated them) is far cheaper than a typeOffset() call per
 * type; the last offset is checked against typeOffset() all the same.
 */
function indexRecords(btf: Btf, w: Uint32Array, first: number, at: Uint32Array): void {
  let p = first;
  for (let id = btf.startId; id < btf.typeCount; id++) {
    at[id] = p;
    const info = w[p + 1]!;
    const kind = (info >>> 24) & 0x1f;
    p += 3 + EXTRA_WORDS[kind]! + VLEN_WORDS[kind]! * (info & 0xffff);
  }
  const last = btf.typeCount - 1;
  if (last >= btf.startId && at[last] !== first + ((btf.typeOffset(last) - BTF_HEADER_SIZE) >>> 2)) {
    for (let id = btf.startId; id < btf.typeCount; id++) at[id] = first + ((btf.typeOffset(id) - BTF_HEADER_SIZE) >>> 2);
  }
}

/** type_len from a normalised BTF blob's header (types start right after it). */
function typeSectionLength(raw: Uint8Array): number {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getUint32(12, true);
}
