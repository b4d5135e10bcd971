/**
 * Names in the C header. Names that clash (two `struct foo`s from different
 * kernel units) get `___2`, `___3`, … suffixes in the order they are first
 * written, counted per C namespace (tags; typedefs and enumerators) by
 * NameCounter without ever decoding a name. Also the writers of tag
 * references (`struct foo___2`), which everything that names a type uses.
 */
import { hashCString } from "../name-index.js";
import { Kind } from "./kinds.js";
import type { DumpState } from "./state.js";
import { ascii } from "./writer.js";

const STRUCT = ascii("struct");
const UNION = ascii("union");
const ENUM = ascii("enum");
const NOTHING = ascii("");

/**
 * How often each name has been used, keyed by the name's bytes in the
 * string table (C's strcmp equality) so that names are never decoded: an
 * open-addressing hash table of typed arrays.
 */
export class NameCounter {
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

  /** Counts one more use of the string at `pos`, whose hashCString() is `h`; returns the uses so far. */
  bumpHashed(pos: number, h: number): number {
    const strs = this.strs;
    const at = this.at;
    const hashes = this.hashes;
    const mask = this.mask;
    // New names and repeats leave the loop the same way and share the
    // update: code that only the first repeat would run is code V8 has
    // not seen, and deoptimises on (the first repeat comes late).
    let i = h & mask;
    for (;;) {
      const q = at[i]!;
      if (q === -1) break;
      const samePos = q === pos;
      if (hashes[i] === h && (samePos || sameCString(strs, q, pos))) break;
      i = (i + 1) & mask;
    }
    const count = this.counts[i]! + 1;
    this.counts[i] = count;
    if (count === 1) {
      at[i] = pos;
      hashes[i] = h;
      if (++this.used * 2 > at.length) this.grow();
    }
    return count;
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

/** Assigns `id` its `___N` suffix the first time its name is written (libbpf's btf_dump_resolve_name). */
export function resolveName(d: DumpState, id: number, names: NameCounter): void {
  if (d.nameResolved[id]) return;
  const w = d.w;
  const p = d.at[id]!;
  const off = w[p]!;
  if (off === 0) return;
  d.nameResolved[id] = 1;
  const info = w[p + 1]!;
  const kind = (info >>> 24) & 0x1f;
  // Forward declarations and empty enums may repeat without clashing.
  if (kind === Kind.FWD || (kind === Kind.ENUM && (info & 0xffff) === 0)) return;
  const pos = d.strStart + off;
  const dup = names.bumpHashed(pos, hashCString(d.strs, pos));
  d.nameDup[id] = dup > 1 ? dup : 0;
}

/** A struct / union / enum / fwd tag, made unique, after `lead` (a space, or 0 for nothing). */
export function writeTypeName(d: DumpState, id: number, lead: number): void {
  resolveName(d, id, d.typeNames);
  d.out.name(d.strs, d.strStart + d.w[d.at[id]!]!, d.nameDup[id]!, lead);
}

/** `struct foo` / `union foo` (just the keyword when anonymous), for a forward declaration or a reference. */
export function emitStructFwd(d: DumpState, id: number): void {
  const w = d.w;
  const p = d.at[id]!;
  d.out.bytes(((w[p + 1]! >>> 24) & 0x1f) === Kind.STRUCT ? STRUCT : UNION);
  if (w[p]! !== 0) writeTypeName(d, id, 32);
}

/** The keyword before a base type's name in a declaration, by kind (| kind_flag << 5: a FWD's says union). */
const KEYWORDS: Uint8Array[] = [];
for (let k = 0; k < 64; k++) KEYWORDS[k] = NOTHING;
KEYWORDS[Kind.STRUCT] = KEYWORDS[Kind.STRUCT | 32] = KEYWORDS[Kind.FWD] = STRUCT;
KEYWORDS[Kind.UNION] = KEYWORDS[Kind.UNION | 32] = KEYWORDS[Kind.FWD | 32] = UNION;
KEYWORDS[Kind.ENUM] = KEYWORDS[Kind.ENUM | 32] = KEYWORDS[Kind.ENUM64] = KEYWORDS[Kind.ENUM64 | 32] = ENUM;

/**
 * How a declaration names its base type `id` (of kind `kind`): `struct
 * foo`, `union foo` (also for a FWD), `enum foo`, a typedef's name, or an
 * int's or float's, which never get a suffix. One path for all of them.
 */
export function emitBaseName(d: DumpState, id: number, kind: number): void {
  const w = d.w;
  const p = d.at[id]!;
  const plain = kind === Kind.INT || kind === Kind.FLOAT;
  const typedef = kind === Kind.TYPEDEF;
  if (!plain) resolveName(d, id, typedef ? d.identNames : d.typeNames);
  d.out.bytes(KEYWORDS[kind | ((w[p + 1]! >>> 31) << 5)]!);
  d.out.name(d.strs, d.strStart + w[p]!, plain ? 0 : d.nameDup[id]!, plain || typedef ? 0 : 32);
}

/** A BTF_KIND_FWD: `struct foo` or, with kind_flag, `union foo`. */
export function emitFwdDef(d: DumpState, id: number): void {
  d.out.bytes(d.w[d.at[id]! + 1]! >>> 31 ? UNION : STRUCT);
  writeTypeName(d, id, 32);
}
