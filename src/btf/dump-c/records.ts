/**
 * The raw type records the C dumper reads, without BtfType objects: one
 * Uint32Array of every record (split BTF's base records concatenated in
 * front, so ids and string offsets form one space), a word index per id, and
 * the up-front pass that checks every type reference and marks which types
 * are referenced at all.
 */
import { ObjectFormatError } from "../../errors.js";
import type { Btf } from "../btf.js";
import { BTF_HEADER_SIZE } from "../scan.js";
import { Kind } from "./kinds.js";

/** Every type record of a BTF chain, addressable by id, and its strings. */
export interface Records {
  /** Every type record, base types included (split BTF is concatenated). */
  w: Uint32Array;
  /** Word index of each id's record in `w`; [0] unused. */
  at: Uint32Array;
  /** The string section(s): the string at offset `off` starts at strs[strStart + off]. */
  strs: Uint8Array;
  strStart: number;
  /** Size of the raw BTF, the whole chain. */
  btfBytes: number;
  /**
   * For BTF without a base, `at` is left for markReferenced() to fill from
   * these (Btf.typeOffsets()) in its own walk: one pass over the types
   * instead of two.
   */
  byteOffsets: Uint32Array | undefined;
}

/** Reads `btf` (and its bases) into one record array and one string space. */
export function loadRecords(btf: Btf): Records {
  const n = btf.typeCount;
  const chain: Btf[] = [];
  for (let b: Btf | undefined = btf; b; b = b.base) chain.unshift(b);
  const at = new Uint32Array(n);
  let w: Uint32Array;
  let strs: Uint8Array;
  let strStart: number;
  let byteOffsets: Uint32Array | undefined;
  if (chain.length === 1) {
    const raw = btf.rawBytes();
    w = new Uint32Array(raw.buffer, raw.byteOffset, raw.byteLength >>> 2);
    byteOffsets = btf.typeOffsets();
    // A plain Uint8Array even when raw is a Buffer: the writer copies names and its own
    // constants with one loop, which V8 keeps fast only while it sees a single array class.
    strs = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    strStart = BTF_HEADER_SIZE + typeSectionLength(raw);
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
    w = new Uint32Array(words);
    strs = new Uint8Array(strLen);
    let wordAt = 0;
    let strAt = 0;
    for (const b of chain) {
      const raw = b.rawBytes();
      const typeLen = typeSectionLength(raw);
      const own = new Uint32Array(raw.buffer, raw.byteOffset + BTF_HEADER_SIZE, typeLen >>> 2);
      w.set(own, wordAt);
      indexRecords(b, wordAt, at);
      wordAt += own.length;
      strs.set(raw.subarray(BTF_HEADER_SIZE + typeLen), strAt);
      strAt += raw.byteLength - BTF_HEADER_SIZE - typeLen;
    }
    strStart = 0;
  }
  let btfBytes = 0;
  for (const b of chain) btfBytes += b.rawBytes().byteLength;
  return { w, at, strs, strStart, btfBytes, byteOffsets };
}

/** Fills at[id] with the word index of each of `btf`'s own records, its type section starting at word `first`. */
function indexRecords(btf: Btf, first: number, at: Uint32Array): void {
  // Btf.parse found every record already: its byte offsets count from the header.
  const offs = btf.typeOffsets();
  const base = first - (BTF_HEADER_SIZE >>> 2);
  const startId = btf.startId;
  for (let i = 0; i < offs.length; i++) at[startId + i] = base + (offs[i]! >>> 2);
}

/** type_len from a normalised BTF blob's header (types start right after it). */
function typeSectionLength(raw: Uint8Array): number {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getUint32(12, true);
}

/**
 * Sets ref[t] for every type referenced from another type. An anonymous
 * enum nobody refers to is a top-level block of constants and must be
 * emitted on its own; one that is referenced is written inline where it is
 * used. Also checks every type reference (Btf.parse checks records and
 * names, not references). Returns upper bounds of the names each namespace
 * will count.
 */
export function markReferenced(records: Records, n: number, ref: Uint8Array, where: string): { tags: number; idents: number } {
  const { w, at, byteOffsets } = records;
  // Without a base, at[] is filled here (see Records.byteOffsets); ids start at 1.
  const offs = byteOffsets ?? at;
  const shift = byteOffsets ? 2 : 0;
  const first = byteOffsets ? 1 : 0;
  let tags = 0;
  let idents = 0;
  for (let id = 1; id < n; id++) {
    const p = offs[id - first]! >>> shift;
    at[id] = p;
    const info = w[p + 1]!;
    const vlen = info & 0xffff;
    let t: number;
    // One switch per type (the loop runs ~127k times on vmlinux, mostly before V8 optimises it).
    switch ((info >>> 24) & 0x1f) {
      case Kind.INT:
      case Kind.FWD:
        tags++;
        break;
      case Kind.ENUM:
      case Kind.ENUM64:
        tags++;
        idents += vlen;
        break;
      case Kind.TYPEDEF:
        idents++;
        if ((t = w[p + 2]!) >= n) badRef(where, at, id, t);
        ref[t] = 1;
        break;
      case Kind.VOLATILE:
      case Kind.CONST:
      case Kind.RESTRICT:
      case Kind.PTR:
      case Kind.FUNC:
      case Kind.VAR:
      case Kind.DECL_TAG:
      case Kind.TYPE_TAG:
        if ((t = w[p + 2]!) >= n) badRef(where, at, id, t);
        ref[t] = 1;
        break;
      case Kind.ARRAY:
        if ((t = w[p + 4]!) >= n) badRef(where, at, id, t);
        ref[t] = 1;
        if ((t = w[p + 3]!) >= n) badRef(where, at, id, t);
        ref[t] = 1;
        break;
      case Kind.STRUCT:
      case Kind.UNION:
        tags++;
        for (let i = 0, m = p + 4; i < vlen; i++, m += 3) {
          if ((t = w[m]!) >= n) badRef(where, at, id, t);
          ref[t] = 1;
        }
        break;
      case Kind.FUNC_PROTO:
        if ((t = w[p + 2]!) >= n) badRef(where, at, id, t);
        // The return type does not count as a reference (libbpf's rule).
        for (let i = 0, m = p + 4; i < vlen; i++, m += 2) {
          if ((t = w[m]!) >= n) badRef(where, at, id, t);
          ref[t] = 1;
        }
        break;
      case Kind.DATASEC:
        for (let i = 0, m = p + 3; i < vlen; i++, m += 3) {
          if ((t = w[m]!) >= n) badRef(where, at, id, t);
          ref[t] = 1;
        }
        break;
      default:
        break;
    }
  }
  return { tags, idents };
}

function badRef(where: string, at: Uint32Array, id: number, target: number): never {
  throw new ObjectFormatError(where, 0, `type [${id}] refers to type id ${target}, past the last id ${at.length - 1}`);
}
