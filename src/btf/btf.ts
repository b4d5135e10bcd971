/**
 * A parsed BTF blob (include/uapi/linux/btf.h). Parsing is one validating
 * pass that records where each type record starts; types are decoded into
 * `BtfType` objects only when asked for, because the kernel's BTF has
 * ~127k types and a loader needs a few hundred of them.
 */
import { Buffer } from "node:buffer";
import { NotFoundError, ObjectFormatError } from "../errors.js";
import { NameOffsetIndex } from "./name-index.js";
import { scanBtf } from "./scan.js";
import type { BtfTypeIndex, ScannedBtf } from "./scan.js";
import { BTF_KIND_NAMES, BtfKind } from "./types.js";
import type { BtfType, EnumValue, Member, Param, VarSecinfo } from "./types.js";

export { BTF_HEADER_SIZE, BTF_MAGIC, BTF_TYPE_SIZE, BTF_VERSION, type BtfTypeIndex, typeIndexFits } from "./scan.js";

/** The kernel's MAX_RESOLVE_DEPTH: longer modifier chains are rejected at load anyway. */
const MAX_RESOLVE_DEPTH = 32;
/** BPF is a 64-bit target: every pointer is 8 bytes. */
const PTR_SIZE = 8;

export interface BtfParseOptions {
  /** Base BTF for split BTF (kernel module BTF is split against vmlinux). */
  base?: Btf;
  /** Names the input in errors, e.g. "section .BTF" or a file path. */
  where?: string;
  /**
   * The Btf may keep `bytes` as its own (no copy) when they are already in
   * the normalised layout and 4-byte aligned, as kernel BTF is. The caller
   * must not change them afterwards; they may be read-only memory (an mmap),
   * so nothing may patch such a Btf in place. Default false: a copy.
   */
  inPlace?: boolean;
  /**
   * BTF the running kernel produced and already validated (/sys/kernel/btf):
   * the scan skips the per-member name checks, a third of its time on
   * vmlinux. Member names are still bounds-checked when read.
   */
  fromKernel?: boolean;
  /**
   * Where each type starts, from an earlier parse of the same bytes
   * (typeIndex(), kept in a cache): used instead of walking every record
   * when a sample of it matches the bytes (scan.ts, typeIndexFits), else
   * the records are walked as without it.
   */
  index?: BtfTypeIndex;
}

const TYPE_CHUNK_BITS = 10;
const TYPE_CHUNK_MASK = (1 << TYPE_CHUNK_BITS) - 1;

export class Btf {
  /** Number of type ids, counting void (id 0) and any base types: ids are 0..typeCount-1. */
  readonly typeCount: number;
  /** First id this blob defines: 1, or the base's typeCount for split BTF. */
  readonly startId: number;
  /** Total string section size, counting the base's strings for split BTF. */
  readonly stringsSize: number;
  readonly base: Btf | undefined;
  readonly where: string;

  /** Normalised copy: 24-byte header, types at 24, strings right after. */
  private readonly raw: Uint8Array;
  private readonly words: Uint32Array;
  private readonly rawBuffer: Buffer;
  /** Byte offset in `raw` of each own type, indexed by id - startId. */
  private readonly offsets: Uint32Array;
  private readonly strStart: number;
  /** String offsets below this belong to the base. */
  private readonly strBase: number;
  /** Added to a `raw` type offset to name the byte in the caller's input in errors. */
  private readonly inputDelta: number;

  /** Allocated on first type() call so parse() stays allocation-free; sized up front to stay a fast array. */
  /**
   * Decoded types in chunks of 2^TYPE_CHUNK_BITS ids. One array of vmlinux's ~127k
   * slots would be a 1 MB large object, and V8 counts it towards the first
   * full GC of a young process: that GC then lands in the first load.
   */
  private typeCache: ((BtfType | undefined)[] | undefined)[] | undefined;
  private strCache = new Map<number, string>();
  /** name_off of each own type (from the scan; refreshed by invalidate()). */
  private readonly nameOffs: Uint32Array;
  private readonly nameOffBytes: Buffer;
  /** Hash of nameOffs, built the first time one lookup has many string offsets to resolve. */
  private nameIndex: NameOffsetIndex | undefined;
  private nameCache = new Map<string, readonly number[]>();

  private constructor(scanned: ScannedBtf, base: Btf | undefined, where: string) {
    const raw = scanned.raw;
    this.raw = raw;
    this.words = new Uint32Array(raw.buffer, raw.byteOffset, raw.byteLength >>> 2);
    this.rawBuffer = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    this.offsets = scanned.offsets;
    this.nameOffs = scanned.nameOffs;
    this.nameOffBytes = Buffer.from(this.nameOffs.buffer, this.nameOffs.byteOffset, this.nameOffs.byteLength);
    this.base = base;
    this.where = where;
    this.startId = base ? base.typeCount : 1;
    this.typeCount = this.startId + scanned.offsets.length;
    this.strStart = scanned.strStart;
    this.strBase = base ? base.stringsSize : 0;
    this.stringsSize = this.strBase + scanned.strLen;
    this.inputDelta = scanned.inputDelta;
  }

  /**
   * Validates the header, every section bound and every type record, and
   * indexes record offsets; types are decoded later, on demand.
   */
  static parse(bytes: Uint8Array, opts: BtfParseOptions = {}): Btf {
    const where = opts.where ?? "BTF";
    const scanned = scanBtf(bytes, where, opts.base, opts.inPlace ?? false, opts.fromKernel ?? false, opts.index);
    return new Btf(scanned, opts.base, where);
  }

  /** Header + types + strings as one buffer (normalised layout); patches here are what BTF_LOAD sees. */
  rawBytes(): Uint8Array {
    // The backing buffer is padded to 4 bytes for Uint32Array access; the
    // kernel rejects trailing bytes ("Unsupported section found").
    return this.raw.subarray(0, this.strStart + this.stringsSize - this.strBase);
  }

  /** Byte offset of type `id`'s `struct btf_type` in rawBytes(); only for ids this blob defines. */
  typeOffset(id: number): number {
    if (!Number.isInteger(id) || id < this.startId || id >= this.typeCount) {
      throw new NotFoundError(`BTF type id ${id} is not defined by ${this.where} (ids ${this.startId}..${this.typeCount - 1})`);
    }
    return this.offsets[id - this.startId]!;
  }

  /**
   * Byte offset in rawBytes() of every type this blob defines, by id -
   * startId: typeOffset() for all of them at once. The Btf's own array,
   * for bulk readers (the C dumper): do not modify it.
   */
  typeOffsets(): Uint32Array {
    return this.offsets;
  }

  /** Where each own type starts and its name_off, by id - startId: what parse's `index` takes. Do not modify. */
  typeIndex(): BtfTypeIndex {
    return { offsets: this.offsets, nameOffs: this.nameOffs };
  }

  /** Drops decoded types, strings and the name index, after rawBytes() was patched in place. */
  invalidate(): void {
    this.typeCache = undefined;
    this.strCache.clear();
    this.nameIndex = undefined;
    this.nameCache.clear();
    for (let i = 0; i < this.offsets.length; i++) this.nameOffs[i] = this.words[this.offsets[i]! >>> 2]!;
  }

  /** The kind of type `id`, read from the raw record without decoding it. */
  kind(id: number): BtfKind {
    if (id === 0) return BtfKind.Void;
    return ((this.word(id, 1) >>> 24) & 0x1f) as BtfKind;
  }

  /** The name of type `id` ("" when anonymous), without decoding the type. */
  name(id: number): string {
    return this.string(this.nameOffset(id));
  }

  /** The name_off of type `id` (0 for void and anonymous types). */
  nameOffset(id: number): number {
    return id === 0 ? 0 : this.word(id, 0);
  }

  /** The NUL-terminated string at `offset` in the string section (the base's below its size). */
  string(offset: number): string {
    if (offset < this.strBase) return this.base!.string(offset);
    let s = this.strCache.get(offset);
    if (s !== undefined) return s;
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.stringsSize) {
      throw new ObjectFormatError(
        this.where,
        offset,
        `string offset ${offset} is past the end of the ${this.stringsSize}-byte string section`,
      );
    }
    const start = this.strStart + offset - this.strBase;
    // parse() checked the section ends with a NUL, so indexOf always finds one.
    // Buffer's native UTF-8 slice is about twice as fast as TextDecoder on short names.
    s = this.rawBuffer.toString("utf8", start, this.raw.indexOf(0, start));
    this.strCache.set(offset, s);
    return s;
  }

  /** The decoded type `id`, cached: the same object on every call, so treat it as read-only. */
  type(id: number): BtfType {
    if (id < this.startId && id !== 0) {
      this.checkId(id);
      return this.base!.type(id);
    }
    const chunks = (this.typeCache ??= []);
    const chunk = (chunks[id >>> TYPE_CHUNK_BITS] ??= new Array<BtfType | undefined>(1 << TYPE_CHUNK_BITS));
    let t = chunk[id & TYPE_CHUNK_MASK];
    if (t === undefined) {
      this.checkId(id);
      t = id === 0 ? { id: 0, kind: BtfKind.Void, name: "" } : this.decode(id);
      chunk[id & TYPE_CHUNK_MASK] = t;
    }
    return t;
  }

  /** Ids of every type named `name`, ascending (base ids first). The index is built on first use. */
  idsByName(name: string): readonly number[] {
    let ids = this.nameCache.get(name);
    if (ids !== undefined) return ids;
    const found: number[] = this.base ? [...this.base.idsByName(name)] : [];
    // A NUL inside the name would match across two strings; no BTF name holds one.
    if (name !== "" && !name.includes("\0")) {
      const strings = this.ownStrings();
      const needle = Buffer.from(`${name}\0`, "utf8");
      // Every offset whose string is exactly `name` (usually one: strings are deduplicated).
      const at: number[] = [];
      for (let p = strings.indexOf(needle); p >= 0; p = strings.indexOf(needle, p + 1)) at.push(this.strBase + p);
      for (const i of this.typesNamedAt(at)) found.push(this.startId + i);
    }
    ids = Object.freeze(found);
    this.nameCache.set(name, ids);
    return ids;
  }

  /**
   * Every type this blob itself defines (not its base) whose name starts
   * with `prefix`, as [id, name] pairs in ascending id order. Only whole
   * strings are considered (a name_off into the middle of a string is not
   * found here; idsByName finds those). Two native scans, as idsByName.
   */
  idsWithNamePrefix(prefix: string): Array<[number, string]> {
    const out: Array<[number, string]> = [];
    if (prefix === "" || prefix.includes("\0")) return out;
    const strings = this.ownStrings();
    // Whole strings only: each is preceded by the previous one's NUL (offset 0 is "").
    const needle = Buffer.from(`\0${prefix}`, "utf8");
    const at: number[] = [];
    // Split BTF's own strings need not start with "": the first string has no NUL before it.
    if (strings.length >= needle.length - 1 && strings.subarray(0, needle.length - 1).equals(needle.subarray(1))) at.push(this.strBase);
    for (let p = strings.indexOf(needle); p >= 0; p = strings.indexOf(needle, p + 1)) at.push(this.strBase + p + 1);
    for (const i of this.typesNamedAt(at)) {
      const id = this.startId + i;
      out.push([id, this.name(id)]);
    }
    return out;
  }

  /** Local indexes of the own types whose name_off is one of `nameOffs` (own string offsets), ascending. */
  private typesNamedAt(nameOffs: readonly number[]): number[] {
    const found: number[] = [];
    if (nameOffs.length === 0) return found;
    if (this.nameIndex || nameOffs.length > 8) {
      const index = (this.nameIndex ??= new NameOffsetIndex(this.nameOffs));
      for (const off of nameOffs) index.collect(off, found);
    } else {
      // A native search of the offset's 4 bytes in the compact name_off array; only aligned hits are entries.
      const bytes = this.nameOffBytes;
      const needle = Buffer.alloc(4);
      for (const off of nameOffs) {
        if (off === 0) continue;
        needle.writeUInt32LE(off, 0);
        for (let p = bytes.indexOf(needle); p >= 0; p = bytes.indexOf(needle, p + 1)) {
          if ((p & 3) === 0) found.push(p >>> 2);
        }
      }
    }
    if (nameOffs.length > 1) found.sort((a, b) => a - b);
    return found;
  }

  /** This blob's own string section, as a Buffer (for native searches). */
  private ownStrings(): Buffer {
    return this.rawBuffer.subarray(this.strStart, this.strStart + this.stringsSize - this.strBase);
  }

  /** The first type named `name` (and of `kind`, if given); NotFoundError if there is none. */
  typeByName(name: string, kind?: BtfKind): BtfType {
    for (const id of this.idsByName(name)) {
      if (kind === undefined || this.kind(id) === kind) return this.type(id);
    }
    const what = kind === undefined ? "type" : BTF_KIND_NAMES[kind];
    throw new NotFoundError(`no BTF ${what} named '${name}' in ${this.where}`);
  }

  /** Size in bytes of a value of type `id`, through typedefs, qualifiers, vars and arrays (libbpf's btf__resolve_size). */
  resolveSize(id: number): number {
    let mult = 1;
    for (let depth = 0; depth < MAX_RESOLVE_DEPTH; depth++) {
      this.checkId(id);
      const kind = this.kind(id);
      let size: number;
      switch (kind) {
        case BtfKind.Int:
        case BtfKind.Enum:
        case BtfKind.Enum64:
        case BtfKind.Struct:
        case BtfKind.Union:
        case BtfKind.Datasec:
        case BtfKind.Float:
          size = this.word(id, 2);
          break;
        case BtfKind.Ptr:
          size = PTR_SIZE;
          break;
        case BtfKind.Typedef:
        case BtfKind.Volatile:
        case BtfKind.Const:
        case BtfKind.Restrict:
        case BtfKind.TypeTag:
        case BtfKind.Var:
        case BtfKind.DeclTag:
          id = this.ref(id, this.word(id, 2));
          continue;
        case BtfKind.Array:
          mult *= this.word(id, 5);
          id = this.ref(id, this.word(id, 3));
          continue;
        default:
          throw this.typeError(id, `${BTF_KIND_NAMES[kind]} has no size`);
      }
      const total = size * mult;
      if (total > 0xffffffff) throw this.typeError(id, `size ${total} overflows 32 bits`);
      return total;
    }
    throw this.typeError(id, `type chain longer than ${MAX_RESOLVE_DEPTH} (a loop?)`);
  }

  /**
   * Alignment in bytes of a value of type `id` (libbpf's btf__align_of):
   * natural alignment, 1 for a packed struct or union. (dump-c/layout.ts
   * has its own copy over raw records, tuned for whole-BTF dumps.)
   */
  alignOf(id: number, depth = 0): number {
    if (depth > MAX_RESOLVE_DEPTH) throw this.typeError(id, `type chain longer than ${MAX_RESOLVE_DEPTH} (a loop?)`);
    this.checkId(id);
    const t = this.type(id);
    switch (t.kind) {
      case BtfKind.Int:
      case BtfKind.Enum:
      case BtfKind.Enum64:
      case BtfKind.Float:
        return Math.min(PTR_SIZE, t.size);
      case BtfKind.Ptr:
        return PTR_SIZE;
      case BtfKind.Typedef:
      case BtfKind.Volatile:
      case BtfKind.Const:
      case BtfKind.Restrict:
      case BtfKind.TypeTag:
        return this.alignOf(t.type, depth + 1);
      case BtfKind.Array:
        return this.alignOf(t.elemType, depth + 1);
      case BtfKind.Struct:
      case BtfKind.Union: {
        let max = 1;
        for (const m of t.members) {
          const a = this.alignOf(m.type, depth + 1);
          max = Math.max(max, a);
          // A member off its natural alignment, or a size that is no multiple of it: packed.
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
        }
        return t.size % max === 0 ? max : 1;
      }
      default:
        throw this.typeError(id, `${BTF_KIND_NAMES[t.kind]} has no alignment`);
    }
  }

  /** Follows typedef, const, volatile, restrict and type_tag to the underlying type id. */
  skipModifiers(id: number): number {
    return this.skip(id, true);
  }

  /** Follows const, volatile, restrict and type_tag, stopping at typedefs. */
  skipQualifiers(id: number): number {
    return this.skip(id, false);
  }

  private skip(id: number, typedefs: boolean): number {
    for (let depth = 0; depth <= MAX_RESOLVE_DEPTH; depth++) {
      this.checkId(id);
      const k = this.kind(id);
      const follow =
        k === BtfKind.Const ||
        k === BtfKind.Volatile ||
        k === BtfKind.Restrict ||
        k === BtfKind.TypeTag ||
        (typedefs && k === BtfKind.Typedef);
      if (!follow) return id;
      id = this.ref(id, this.word(id, 2));
    }
    throw this.typeError(id, `modifier chain longer than ${MAX_RESOLVE_DEPTH} (a loop?)`);
  }

  /** The k-th u32 of type `id`'s record (0 name_off, 1 info, 2 size/type, 3.. trailer). */
  private word(id: number, k: number): number {
    if (id >= this.startId) {
      const off = this.offsets[id - this.startId];
      if (off !== undefined) return this.words[(off >>> 2) + k]!;
    } else if (this.base && id > 0) {
      return this.base.word(id, k);
    }
    this.checkId(id);
    throw new NotFoundError(`BTF type id ${id} (void) has no type record`);
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.typeCount) {
      throw new NotFoundError(`BTF type id ${id} does not exist in ${this.where} (ids 0..${this.typeCount - 1})`);
    }
  }

  private typeError(id: number, problem: string): ObjectFormatError {
    const at = id >= this.startId ? this.offsets[id - this.startId]! + this.inputDelta : 0;
    return new ObjectFormatError(this.where, at, `type [${id}]: ${problem}`);
  }

  private ref(id: number, target: number): number {
    if (target >= this.typeCount) throw this.typeError(id, `refers to type id ${target}, past the last id ${this.typeCount - 1}`);
    return target;
  }

  private decode(id: number): BtfType {
    const w = this.offsets[id - this.startId]! >>> 2;
    const words = this.words;
    const info = words[w + 1]!;
    const kind = ((info >>> 24) & 0x1f) as BtfKind;
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    const name = this.string(words[w]!);
    const sizeOrType = words[w + 2]!;
    switch (kind) {
      case BtfKind.Int: {
        const v = words[w + 3]!;
        return { id, kind, name, size: sizeOrType, encoding: (v >>> 24) & 0x0f, bitOffset: (v >>> 16) & 0xff, bits: v & 0xff };
      }
      case BtfKind.Ptr:
      case BtfKind.Typedef:
      case BtfKind.Volatile:
      case BtfKind.Const:
      case BtfKind.Restrict:
      case BtfKind.TypeTag:
        return { id, kind, name, type: this.ref(id, sizeOrType) };
      case BtfKind.Array:
        return { id, kind, name, elemType: this.ref(id, words[w + 3]!), indexType: this.ref(id, words[w + 4]!), nelems: words[w + 5]! };
      case BtfKind.Struct:
      case BtfKind.Union: {
        const members: Member[] = new Array(vlen);
        for (let i = 0, p = w + 3; i < vlen; i++, p += 3) {
          const off = words[p + 2]!;
          // kind_flag: offset packs bitfield size (high 8 bits) and bit offset (low 24).
          members[i] = {
            name: this.string(words[p]!),
            type: this.ref(id, words[p + 1]!),
            bitOffset: kflag ? off & 0xffffff : off,
            bitfieldSize: kflag ? off >>> 24 : 0,
          };
        }
        return { id, kind, name, size: sizeOrType, members, kindFlag: kflag };
      }
      case BtfKind.Enum: {
        const values: EnumValue[] = new Array(vlen);
        for (let i = 0, p = w + 3; i < vlen; i++, p += 2) {
          const v = words[p + 1]!;
          values[i] = { name: this.string(words[p]!), value: BigInt(kflag ? v | 0 : v) };
        }
        return { id, kind, name, size: sizeOrType, signed: kflag, values };
      }
      case BtfKind.Enum64: {
        const values: EnumValue[] = new Array(vlen);
        for (let i = 0, p = w + 3; i < vlen; i++, p += 3) {
          const v = (BigInt(words[p + 2]!) << 32n) | BigInt(words[p + 1]!);
          values[i] = { name: this.string(words[p]!), value: kflag ? BigInt.asIntN(64, v) : v };
        }
        return { id, kind, name, size: sizeOrType, signed: kflag, values };
      }
      case BtfKind.Fwd:
        return { id, kind, name, union: kflag };
      case BtfKind.Func:
        return { id, kind, name, type: this.ref(id, sizeOrType), linkage: vlen };
      case BtfKind.FuncProto: {
        const params: Param[] = new Array(vlen);
        for (let i = 0, p = w + 3; i < vlen; i++, p += 2) {
          params[i] = { name: this.string(words[p]!), type: this.ref(id, words[p + 1]!) };
        }
        return { id, kind, name, returnType: this.ref(id, sizeOrType), params };
      }
      case BtfKind.Var:
        return { id, kind, name, type: this.ref(id, sizeOrType), linkage: words[w + 3]! };
      case BtfKind.Datasec: {
        const vars: VarSecinfo[] = new Array(vlen);
        for (let i = 0, p = w + 3; i < vlen; i++, p += 3) {
          vars[i] = { type: this.ref(id, words[p]!), offset: words[p + 1]!, size: words[p + 2]! };
        }
        return { id, kind, name, size: sizeOrType, vars };
      }
      case BtfKind.Float:
        return { id, kind, name, size: sizeOrType };
      case BtfKind.DeclTag:
        return { id, kind, name, type: this.ref(id, sizeOrType), componentIdx: words[w + 3]! | 0 };
      default:
        // scanTypes() rejected every other kind.
        throw this.typeError(id, `unknown kind ${kind}`);
    }
  }
}
